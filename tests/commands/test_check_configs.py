"""``batchcheck check-configs``: BC500-BC503 on real configs naming paths in a real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import AUDIT, EXAMPLE_ROOT, TEMP, TOPP, Cli, Result, experiment, make_tree, seed_spec

STORE = "Data_v2/synthetic"
GOOD = f"{STORE}/{TEMP}/Copa/temp05_topp10_gpt4o/Copa"
GOOD_CB = f"{STORE}/{TEMP}/CB/temp07_topp10_gpt4o/CB"
DANGLING = f"{STORE}/{TEMP}/Copa/temp07_topp10_gpt4o/Copa"  # the seed's dangling link
SHARED_REUSED = f"{STORE}/_shared/Copa/temp07_topp09_gpt4o/Copa"  # linked by batch_..._topp


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A data repository: ``.git``, the seed's store, an orphan experiment, a configs folder."""
    spec = dict(seed_spec())
    spec.update(experiment("Copa", "temp03_topp10_gpt4o", TEMP, 0.3, 1.0))  # no batch links it
    make_tree(tmp_path / STORE, spec)
    make_tree(tmp_path, {".git": None, "configs": None})
    return tmp_path


def write(path: Path, text: str | dict[str, Any]) -> Path:
    """A config file (a dict is written as indented JSON, one key per line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if isinstance(text, str) else json.dumps(text, indent=2), "utf-8")
    return path


def found(result: Result) -> list[tuple[str, int]]:
    """(code, line) of every finding, from ``--format json``, by line (0: none)."""
    pairs = [(f["code"], f.get("line", 0)) for f in result.json()["findings"]]
    return sorted(pairs, key=lambda pair: (pair[1], pair[0]))


def messages(result: Result, code: str) -> list[str]:
    """Messages of the findings with ``code``."""
    return [f["message"] for f in result.json()["findings"] if f["code"] == code]


def test_good_yaml_and_json_pass(repo: Path, cli: Cli) -> None:
    write(repo / "configs/train.yaml", f"data:\n  train: {GOOD}\n  eval: {GOOD_CB}\n")
    write(repo / "configs/train.json", {"data": {"train": [GOOD, GOOD_CB]}})
    result = cli("check-configs", "configs/train.yaml", "configs/train.json")
    assert result.code == 0, result.out
    assert result.out == "✅ 0 errors, 0 warnings in 2 configs, 4 paths\n"


def test_dangling_link_and_missing_paths_are_errors(repo: Path, cli: Cli) -> None:
    write(
        repo / "configs/train.yaml",
        "\n".join(
            [
                "run: copa",  # line 1
                f"train: {DANGLING}",  # line 2: through a dangling batch link
                f"eval: {STORE}/{TEMP}/Copa/temp99_topp10_gpt4o/Copa",  # line 3: no such link
                f"test: {GOOD}/missing.jsonl",  # line 4: a file the data folder lacks
                f"extra: {STORE}/_shared/Copa/temp11_topp10_gpt4o/Copa",  # line 5
                f"other: {STORE}/batch_20250101_gone/Copa/x/Copa",  # line 6: no such batch
            ]
        )
        + "\n",
    )
    result = cli("check-configs", "configs/train.yaml", "--format", "json")
    assert result.code == 1
    assert found(result) == [
        ("BC501", 2),
        ("BC501", 3),
        ("BC501", 4),
        ("BC501", 5),
        ("BC501", 6),
    ]
    text = " ".join(messages(result, "BC501"))
    assert (
        f"goes through a dangling link: {TEMP}/Copa/temp07_topp10_gpt4o -> "
        "../../_shared/Copa/temp07_topp10_gpt4o/" in text
    )
    assert f"{TEMP}/Copa/temp99_topp10_gpt4o does not exist in the store" in text
    assert f"{TEMP}/Copa/temp05_topp10_gpt4o/Copa/missing.jsonl does not exist" in text
    assert "_shared/Copa/temp11_topp10_gpt4o does not exist" in text
    assert "batch_20250101_gone does not exist" in text
    assert result.json()["summary"] == {"errors": 5, "warnings": 0, "configs": 1, "paths": 5}


def test_shared_path_names_the_batch_paths_to_use(repo: Path, cli: Cli) -> None:
    write(
        repo / "configs/train.yaml",
        f"train: {SHARED_REUSED}\norphan: {STORE}/_shared/Copa/temp03_topp10_gpt4o/Copa\n",
    )
    result = cli("check-configs", "configs/train.yaml", "--format", "json")
    assert result.code == 0  # warnings only
    assert found(result) == [("BC502", 1)]  # the orphan has no batch path: nothing to say
    [message] = messages(result, "BC502")
    assert repr(f"{STORE}/{TOPP}/Copa/temp07_topp09_gpt4o/Copa") in message


def test_shared_path_linked_by_two_batches_lists_both(tmp_path: Path, cli: Cli) -> None:
    make_tree(tmp_path / STORE, {"batch_20250101_again/Copa/e": "-> ../../_shared/Copa/e/"})
    make_tree(tmp_path / STORE, {"batch_20250102_more/Copa/renamed": "-> ../../_shared/Copa/e"})
    make_tree(tmp_path / STORE, experiment("Copa", "e", "batch_20250101_again", 0.5, 1.0))
    config = write(tmp_path / "c.yaml", f"- ./{STORE}/_shared/Copa/e/Copa/train.jsonl\n")
    result = cli("check-configs", str(config), "--format", "json")
    [message] = messages(result, "BC502")
    assert message.endswith(
        f"use the batch path './{STORE}/batch_20250101_again/Copa/e/Copa/train.jsonl' "
        f"or './{STORE}/batch_20250102_more/Copa/renamed/Copa/train.jsonl'"
    )


def test_experiment_folder_instead_of_its_data_folder(repo: Path, cli: Cli) -> None:
    batch_exp = GOOD.removesuffix("/Copa")
    shared_exp = SHARED_REUSED.removesuffix("/Copa") + "/"
    write(repo / "configs/train.yaml", f"a: {batch_exp}\nb: {shared_exp}\n")
    result = cli("check-configs", "configs/train.yaml", "--format", "json")
    assert result.code == 0
    assert found(result) == [("BC503", 1), ("BC502", 2), ("BC503", 2)]
    assert any(repr(f"{batch_exp}/Copa") in m for m in messages(result, "BC503"))
    assert result.json()["summary"]["warnings"] == 3


def test_paths_in_nested_lists_carry_their_lines(repo: Path, cli: Cli) -> None:
    write(
        repo / "configs/train.yaml",
        "\n".join(
            [
                "data:",  # 1
                "  mixtures:",  # 2
                "    - name: a",  # 3
                "      parts:",  # 4
                f"        - [{GOOD}, 0.5]",  # 5
                f"        - [{DANGLING}, 0.5]",  # 6
                "    - name: b",  # 7
                "      parts: &shared",  # 8
                f"        - {{path: '{DANGLING}'}}",  # 9
                "  again: *shared",  # 10: an alias is the same node, judged once
            ]
        )
        + "\n",
    )
    payload = {"data": {"mixtures": [{"parts": [[GOOD, 0.5], [DANGLING, 0.5]]}]}}
    write(repo / "configs/train.json", payload)
    result = cli("check-configs", "configs/train.yaml", "configs/train.json", "--format", "json")
    assert result.code == 1
    by_file = {(Path(f["path"]).name, f["code"], f["line"]) for f in result.json()["findings"]}
    assert by_file == {
        ("train.yaml", "BC501", 6),
        ("train.yaml", "BC501", 9),
        ("train.json", "BC501", 11),
    }
    assert json.dumps(payload, indent=2).splitlines()[10].strip().startswith(f'"{DANGLING}')


def test_json_non_paths_are_ignored(repo: Path, cli: Cli) -> None:
    write(
        repo / "configs/train.json",
        {
            "prompt": "answer yes/no",
            "url": f"https://example.invalid/{DANGLING}",
            "outside": "/etc/hostname",
            "number": 3,
            "model": "gpt-4o",
            "readme": f"{STORE}/README.md",
            "multi": f"{DANGLING}\nsecond line",
            "surrogate": f"{DANGLING}\ud800",
        },
    )
    result = cli("check-configs", "configs/train.json")
    assert result.code == 0, result.out
    assert result.out.endswith("in 1 config, 0 paths\n")


def test_invalid_yaml_is_a_finding_and_the_other_files_are_checked(repo: Path, cli: Cli) -> None:
    write(repo / "configs/broken.yaml", f"train: {GOOD}\neval: [unclosed\nlr: 0.1\n")
    write(repo / "configs/train.yaml", f"train: {DANGLING}\n")
    result = cli("check-configs", "configs/broken.yaml", "configs/train.yaml", "--format", "json")
    assert result.code == 1
    assert result.err == ""
    findings = result.json()["findings"]
    assert [(Path(f["path"]).name, f["code"], f.get("line")) for f in findings] == [
        ("broken.yaml", "BC500", 3),
        ("train.yaml", "BC501", 1),
    ]
    assert findings[0]["message"].startswith("not valid YAML: while parsing a flow sequence")


def test_a_tag_that_safe_loading_refuses(repo: Path, cli: Cli) -> None:
    marker = repo / "pwned"
    write(
        repo / "configs/evil.yaml",
        f"train: {GOOD}\nhook: !!python/object/apply:os.system ['touch {marker}']\n",
    )
    result = cli("check-configs", "configs/evil.yaml", "--format", "json")
    assert result.code == 1
    assert found(result) == [("BC500", 2)]
    assert "cannot be loaded safely" in messages(result, "BC500")[0]
    assert "python/object/apply:os.system" in messages(result, "BC500")[0]
    assert not marker.exists()


@pytest.mark.parametrize(
    ("name", "content", "line", "start"),
    [
        ("bad.json", '{\n  "a": 1,\n}\n', 3, "not valid JSON: "),
        ("latin.yaml", b"a: 1\nb: caf\xe9\n", 2, "cannot read: not UTF-8"),
        ("tabs.yaml", "a:\n\t- b\n", 2, "not valid YAML: "),
        ("date.yaml", "a: 1\nday: 2024-13-45\n", None, "not valid YAML: month must be in"),
        ("deep.json", "[" * 100_000, None, "cannot parse: nested too deeply"),
        ("deep.yaml", "[" * 100_000, None, "cannot parse: nested too deeply"),
        ("missing.yaml", None, None, "cannot read: No such file or directory"),
        ("c1.yaml", 'a: 1\nb: "\u0080"\n', 2, "not valid YAML: unacceptable character #x0080"),
        ("key.yaml", "? [1, 2]\n: x\n", 1, "cannot be loaded safely: found unhashable key"),
    ],
)
def test_unreadable_configs(
    repo: Path, cli: Cli, name: str, content: str | bytes | None, line: int | None, start: str
) -> None:
    path = repo / "configs" / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, "utf-8")
    result = cli("check-configs", f"configs/{name}", "--format", "json")
    assert result.code == 1
    [finding] = result.json()["findings"]
    assert (finding["code"], finding.get("line")) == ("BC500", line)
    assert finding["message"].startswith(start)
    assert finding["path"] == f"configs/{name}"


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_config_that_is_no_regular_file_is_refused_unread(
    repo: Path, kind: str, tmp_path: Path
) -> None:
    """A FIFO would hang the hook and /dev/zero fill the memory: both are BC500 at once, the
    other configs still checked (the real CLI, in its own process, bounded in time)."""
    path = repo / "configs/odd.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    write(repo / "configs/train.yaml", f"train: {DANGLING}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "batchcheck", "check-configs", "configs", "--format", "json"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    assert [(Path(f["path"]).name, f["code"], f["message"]) for f in findings] == [
        ("odd.yaml", "BC500", "not a regular file"),
        ("train.yaml", "BC501", findings[1]["message"]),
    ]


def test_formats_show_file_and_line(repo: Path, cli: Cli) -> None:
    write(repo / "configs/train.yaml", f"# data\ntrain: {DANGLING}\neval: {SHARED_REUSED}\n")
    github = cli("check-configs", "configs/train.yaml", "--format", "github")
    assert github.out.splitlines()[0].startswith(
        "::error file=configs/train.yaml,line=2,title=BC501::"
    )
    assert github.out.splitlines()[1].startswith(
        "::warning file=configs/train.yaml,line=3,title=BC502::"
    )
    assert github.out.splitlines()[2] == "1 error, 1 warning in 1 config, 2 paths"
    text = cli("check-configs", "configs/train.yaml", "--no-emoji")
    lines = text.out.splitlines()
    assert lines[0] == "configs/train.yaml"
    assert lines[1].startswith(f"  [X] BC501 line 2: {DANGLING!r} goes through a dangling link")
    assert lines[2].startswith(f"  [!] BC502 line 3: {SHARED_REUSED!r} names physical storage")
    assert lines[-1] == "1 error, 1 warning in 1 config, 2 paths"


def test_github_format_is_chosen_under_github_actions(
    repo: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(repo / "configs/train.yaml", f"train: {DANGLING}\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = cli("check-configs", "configs/train.yaml")
    assert result.out.startswith("::error file=configs/train.yaml,line=1,title=BC501::")


def test_select_ignore_strict(repo: Path, cli: Cli) -> None:
    write(repo / "configs/train.yaml", f"a: {SHARED_REUSED}\nb: {DANGLING}\n")
    args = ("check-configs", "configs/train.yaml", "--format", "json")
    assert cli(*args).code == 1
    assert {c for c, _ in found(cli(*args, "--ignore", "BC501"))} == {"BC502"}
    assert cli(*args, "--ignore", "BC501").code == 0
    assert cli(*args, "--ignore", "bc501", "--strict").code == 1
    assert found(cli(*args, "--select", "BC50", "--ignore", "BC502")) == [("BC501", 2)]
    assert found(cli(*args, "--select", "BC502,BC503")) == [("BC502", 1)]
    assert cli(*args, "--select", "BC2").json()["findings"] == []
    unknown = cli(*args, "--select", "BC599")
    assert unknown.code == 2
    assert "unknown rule code 'BC599'" in unknown.err


def test_project_settings_apply(repo: Path, cli: Cli) -> None:
    write(repo / "configs/train.yaml", f"a: {SHARED_REUSED}\n")
    write(
        repo / "pyproject.toml",
        f'[tool.batchcheck]\nroot = "{STORE}"\n[tool.batchcheck.severity]\nBC502 = "error"\n',
    )
    result = cli("check-configs", "configs/train.yaml", "--format", "json")
    assert result.code == 1
    assert result.json()["findings"][0]["severity"] == "error"
    write(repo / "pyproject.toml", f'[tool.batchcheck]\nroot = "{STORE}"\nignore = ["BC5"]\n')
    assert cli("check-configs", "configs/train.yaml", "--format", "json").json()["findings"] == []


def test_no_files_is_a_usage_error(repo: Path, cli: Cli) -> None:
    result = cli("check-configs")
    assert result.code == 2
    assert result.err == (
        "batchcheck: error: no config given, and [tool.batchcheck] configs names none\n"
    )


def test_path_bases(tmp_path: Path, cli: Cli) -> None:
    """Relative to the config's folder, the current folder, the repository root; absolute."""
    root = make_tree(tmp_path / "repo" / STORE, seed_spec())
    make_tree(tmp_path / "repo", {".git": None})
    work = make_tree(tmp_path, {"elsewhere/sub": None}) / "elsewhere/sub"
    tail = f"{STORE}/{TEMP}/Copa/temp07_topp10_gpt4o/Copa"  # through the dangling link
    config = write(
        tmp_path / "repo/configs/copa/train.yaml",
        "\n".join(
            [
                f"a: ../../{tail}",  # from the config's folder
                f"b: {tail}",  # from the repository root
                f"c: ../../repo/{tail}",  # from the current folder
                f"d: {tmp_path}/repo/{tail}",  # absolute
            ]
        ),
    )
    args = ("--root", str(root), "check-configs", str(config), "--format", "json")
    result = cli(*args, cwd=work)
    assert found(result) == [("BC501", 1), ("BC501", 2), ("BC501", 3), ("BC501", 4)]
    assert result.json()["summary"]["paths"] == 4
    # From the repository root, `c` leaves the store: it is no store path there.
    assert found(cli(*args, cwd=tmp_path / "repo")) == [("BC501", 1), ("BC501", 2), ("BC501", 4)]


def test_the_store_root_may_be_the_current_folder(seed_store: Path, cli: Cli) -> None:
    config = write(seed_store.parent / "c.yaml", f"a: {TEMP}/Copa/temp05_topp10_gpt4o/Copa\n")
    args = ("--root", str(seed_store), "check-configs", str(config), "--format", "json")
    result = cli(*args, cwd=seed_store)
    assert result.code == 0
    assert result.json()["summary"] == {"errors": 0, "warnings": 0, "configs": 1, "paths": 1}


def test_a_file_inside_the_store_is_no_base(seed_store: Path, cli: Cli) -> None:
    """Metadata handed over by the hook: ``yes/no`` next to it is not a store path."""
    meta = seed_store / "_shared/Copa/temp05_topp10_gpt4o/experiment_metadata.json"
    data = json.loads(meta.read_text("utf-8"))
    data["generation"]["prompt_template"] = "Answer yes/no"
    meta.write_text(json.dumps(data), "utf-8")
    result = cli("check-configs", str(meta))
    assert result.code == 0, result.out
    assert result.out.endswith("in 1 config, 0 paths\n")


def test_links_out_of_the_store_are_not_followed(tmp_path: Path, cli: Cli) -> None:
    outside = make_tree(tmp_path / "outside", {"e/Copa/train.jsonl": "x\n"})
    make_tree(tmp_path / STORE, {f"{TEMP}/Copa/e": f"-> {outside}/e"})
    make_tree(tmp_path / STORE, {f"{TEMP}/Copa/loop": "-> loop"})
    config = write(
        tmp_path / "c.yaml",
        f"a: {STORE}/{TEMP}/Copa/e/Copa/nothing-here\nb: {STORE}/{TEMP}/Copa/loop/Copa\n",
    )
    result = cli("check-configs", str(config), "--format", "json")
    assert found(result) == [("BC501", 2)]
    assert "goes through a link that loops" in messages(result, "BC501")[0]


def audited(cwd: Path, log: Path, *argv: str) -> list[str]:
    """The files opened and folders listed by a real run (``tests/scale/audit_run.py``)."""
    audit = AUDIT
    subprocess.run(
        [sys.executable, str(audit), str(log), "--", *argv],
        cwd=cwd,
        capture_output=True,
        timeout=120,
    )
    return log.read_text("utf-8").splitlines()


def test_reads_only_the_batches_the_paths_name(repo: Path, tmp_path: Path) -> None:
    write(repo / "configs/train.yaml", f"train: {GOOD}\n")
    events = audited(repo, tmp_path / "events.log", "check-configs", "configs/train.yaml")
    root = repo / STORE
    listed = {e.removeprefix("scandir ") for e in events if e.startswith(f"scandir {repo}")}
    assert listed == {f"{root}/{TEMP}", f"{root}/{TEMP}/CB", f"{root}/{TEMP}/Copa"}
    assert not [e for e in events if e.startswith(f"open {root}")]  # no metadata, no data


def test_the_example_config_passes(cli: Cli) -> None:
    project = EXAMPLE_ROOT.parents[2]
    config = project / "examples/configs/train_copa_temperature.yaml"
    for cwd in (project, project / "tests"):
        result = cli("check-configs", str(config), "--format", "json", cwd=cwd)
        assert result.code == 0, result.out
        assert result.json()["summary"] == {"errors": 0, "warnings": 0, "configs": 1, "paths": 3}
