"""CI formats (github, gitlab, junit), read back the way their consumers read them, and the
gate options users of ruff and yamllint reach for."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from conftest import TEMP, TOPP, Cli, experiment, link, make_tree, seed_spec

STORE = "Data_v2/synthetic"


def runner_parse(line: str) -> tuple[str, dict[str, str], str]:
    """A workflow command as the Actions runner's ``ActionCommand.TryParseV2`` reads it:
    ``::name key=value,key=value::message``; properties unescape ``%0D %0A %3A %2C`` then
    ``%25``, the message ``%0D %0A`` then ``%25``."""
    assert line.startswith("::")
    end = line.index("::", 2)
    command, message = line[2:end], line[end + 2 :]
    name, _, props = command.partition(" ")
    properties = {}
    for pair in filter(None, props.split(",")):
        key, _, value = pair.partition("=")
        for escaped, raw in (
            ("%0D", "\r"),
            ("%0A", "\n"),
            ("%3A", ":"),
            ("%2C", ","),
            ("%25", "%"),
        ):
            value = value.replace(escaped, raw)
        properties[key] = value
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%25", "%")):
        message = message.replace(escaped, raw)
    return name, properties, message


HOSTILE = "x,y:z%25%0A::w\r\nv"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git work tree (``.git``) holding the seed store, plus a hostile dangling link and a
    subfolder to run from."""
    spec = dict(seed_spec())
    spec.update(link(TOPP, "Copa", HOSTILE))
    make_tree(tmp_path / STORE, spec)
    make_tree(tmp_path, {".git": None, "scripts/sub": None})
    return tmp_path


def test_github_lines_parse_back_from_the_repository_top(repo: Path, cli: Cli) -> None:
    result = cli(
        "check", "--root", f"../../{STORE}", "--format", "github", cwd=repo / "scripts/sub"
    )
    lines = result.out.splitlines()
    parsed = [runner_parse(line) for line in lines[:-1]]
    names = [name for name, _, _ in parsed]
    assert names == ["error", "error", "error", "warning"]  # errors first
    files = {props["file"] for _, props, _ in parsed}
    assert f"{STORE}/{TOPP}/Copa/{HOSTILE}" in files  # every character back as it was
    assert all(os.path.lexists(repo / f) for f in files)
    _, props, _ = parsed[3]
    assert props["file"] == f"{STORE}/_shared/Copa/temp07_topp09_gpt4o/experiment_metadata.json"
    text = (repo / props["file"]).read_text("utf-8").splitlines()
    assert '"original_batch"' in text[int(props["line"]) - 1]
    assert props["title"] == "BC305"
    assert lines[-1] == "3 errors, 1 warning in 4 experiments, 7 links"


def test_github_notice_and_step_summary(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = dict(seed_spec())
    for i in range(3000):  # long names: the full list would be megabytes
        spec.update(link(TEMP, "Copa", f"gone_{i:05d}_" + "n" * 180))
    make_tree(tmp_path / STORE, spec)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", "utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = cli("check", "--format", "github")
    assert result.code == 1
    name, props, message = runner_parse(result.out.splitlines()[-2])
    assert (name, props) == ("notice", {"title": "batchcheck"})
    assert message.startswith("3002 errors, 1 warning in 4 experiments, 3006 links")
    text = summary.read_text("utf-8")
    assert text.startswith("earlier step\n## batchcheck\n\n**3002 errors, 1 warning")
    assert len(text.encode("utf-8")) < 1024 * 1024
    assert "| BC101 | 3002 |" in text
    assert "more findings not listed." in text


def test_gitlab_code_quality(repo: Path, cli: Cli) -> None:
    result = cli("check", "--root", f"../{STORE}", "--format", "gitlab", cwd=repo / "scripts")
    issues = json.loads(result.out)
    assert len(issues) == 4
    for issue in issues:
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] in ("major", "minor")
        assert issue["location"]["path"].startswith(f"{STORE}/")
        assert isinstance(issue["location"]["lines"]["begin"], int)
    assert len({issue["fingerprint"] for issue in issues}) == 4
    again = json.loads(cli("check", "--format", "gitlab", cwd=repo).out)
    assert [i["fingerprint"] for i in again] == [i["fingerprint"] for i in issues]
    assert issues[0]["check_name"] == "BC101" and issues[0]["severity"] == "major"


def test_junit(repo: Path, cli: Cli) -> None:
    result = cli("check", "--format", "junit", cwd=repo)
    suite = ET.fromstring(result.out.split("\n", 1)[1]).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("4", "4")
    cases = suite.findall("testcase")
    assert [c.find("failure").get("type") for c in cases].count("BC305 warning") == 1  # type: ignore[union-attr]
    assert result.code == 1


def test_statistics_exit_zero_output_extend_select(repo: Path, cli: Cli) -> None:
    stats = cli("check", "--statistics", "--format", "text", cwd=repo)
    assert stats.out.splitlines()[:2] == ["      3  BC101  error", "      1  BC305  warning"]
    as_json = cli("check", "--statistics", "--format", "json", cwd=repo).json()
    assert as_json["summary"]["statistics"] == {"BC101": 3, "BC305": 1}
    zero = cli("check", "--exit-zero", "--output", "out.json", "--format", "json", cwd=repo)
    assert (zero.code, zero.out) == (0, "")
    assert len(json.loads((repo / "out.json").read_text("utf-8"))["findings"]) == 4
    (repo / "pyproject.toml").write_text(
        f'[tool.batchcheck]\nroot = "{STORE}"\nselect = ["BC3"]\n', "utf-8"
    )
    only = cli("check", "--format", "json", cwd=repo).json()["findings"]
    assert {f["code"] for f in only} == {"BC305"}
    extended = cli("check", "--extend-select", "BC1", "--format", "json", cwd=repo).json()
    assert {f["code"] for f in extended["findings"]} == {"BC101", "BC305"}
    bad = cli("check", "--extend-select", "BC9", cwd=repo)
    assert bad.code == 2


def test_per_path_ignores(repo: Path, cli: Cli) -> None:
    spec = experiment("Copa", "temp05_topp10_gpt4o", TEMP, 0.5, 1.0)
    assert spec  # the seed store already holds it
    (repo / "pyproject.toml").write_text(
        f'[tool.batchcheck]\nroot = "{STORE}"\n'
        "[tool.batchcheck.per_path_ignores]\n"
        '"batch_2024123*" = ["BC101"]\n"_shared/**" = ["BC3"]\n',
        "utf-8",
    )
    result = cli("check", "--format", "json", cwd=repo).json()
    assert [(f["code"], f["path"]) for f in result["findings"]] == [
        ("BC101", f"{STORE}/{TEMP}/Copa/temp07_topp10_gpt4o")
    ]
    (repo / "pyproject.toml").write_text(
        f'[tool.batchcheck]\nroot = "{STORE}"\nper_path_ignores = {{"x" = ["BC999"]}}\n', "utf-8"
    )
    bad = cli("check", cwd=repo)
    assert bad.code == 2 and "per_path_ignores 'x'" in bad.err


def test_github_puts_experiment_findings_on_the_offending_key(tmp_path: Path, cli: Cli) -> None:
    stale = experiment(
        "Copa", "temp05_topp10_gpt4o", TEMP, 0.5, 1.0, parameter_fingerprint="0" * 32
    )
    broken = experiment(
        "CB",
        "temp07_topp10_gpt4o",
        TEMP,
        0.7,
        1.0,
        generation={"model": "gpt-4o", "temperature": 0.7, "max_tokens": 256},
    )
    spec = {**stale, **broken, **link(TEMP, "Copa", "temp05_topp10_gpt4o")}
    spec.update(link(TEMP, "CB", "temp07_topp10_gpt4o"))
    make_tree(tmp_path / STORE, spec)
    result = cli("check", "--format", "github", "--select", "BC202,BC302")
    parsed = {
        props["title"]: props for _, props, _ in map(runner_parse, result.out.splitlines()[:-1])
    }
    for code, key in (("BC202", '"parameter_fingerprint"'), ("BC302", '"generation"')):
        props = parsed[code]
        assert props["file"].endswith("/experiment_metadata.json")
        lines = (tmp_path / props["file"]).read_text("utf-8").splitlines()
        assert key in lines[int(props["line"]) - 1], code


HOSTILE_BATCH = "batch_20250101_x\x1b[2J%0A\n\u2705 0 errors"
HOSTILE_EXPERIMENT = "e%25\x1b[31m,:\r\nx"
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
SECOND = "Copa/temp07_topp09_gpt4o"


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """A work tree whose store has a batch and an experiment named with a newline, an escape
    sequence and ``%``; the batch links the experiment, a missing one and one whose target
    holds an escape sequence and a newline; a second experiment to compare with."""
    spec = experiment("Copa", HOSTILE_EXPERIMENT, TEMP, 0.7, 1.0)
    spec.update(experiment("Copa", "temp07_topp09_gpt4o", TEMP, 0.7, 0.9))
    spec.update(link(HOSTILE_BATCH, "Copa", HOSTILE_EXPERIMENT))
    spec.update(link(HOSTILE_BATCH, "Copa", "gone"))
    spec[f"{HOSTILE_BATCH}/Copa/odd"] = "-> ../../_shared/Copa/miss\x1b[2J\nX"
    spec.update(link(TEMP, "Copa", "temp07_topp09_gpt4o"))
    make_tree(tmp_path / STORE, spec)
    make_tree(tmp_path, {".git": None})
    return tmp_path


@pytest.mark.parametrize(
    "argv",
    [
        ("check",),
        ("list-batches", "--verbose"),
        ("list-data-paths",),
        ("list-batch-experiments", HOSTILE_BATCH, "--verbose"),
        ("list-shared-experiments", "--verbose"),
        ("resolve-data-path", f"{STORE}/{HOSTILE_BATCH}/Copa/{HOSTILE_EXPERIMENT}"),
        ("compare-experiments", "--shared", f"Copa/{HOSTILE_EXPERIMENT}", "--shared", SECOND),
        (
            "compare-experiments",
            *("--batch1", HOSTILE_BATCH, "--dataset1", "Copa"),
            *("--batch2", TEMP, "--dataset2", "Copa"),
        ),
        ("link", "batch_20250102_new", f"Copa/{HOSTILE_EXPERIMENT}", "--dry-run"),
        ("report", "--summary"),
    ],
)
def test_paths_in_text_output_are_escaped(hostile: Path, cli: Cli, argv: tuple[str, ...]) -> None:
    result = cli(*argv, "--root", STORE) if argv[0] != "resolve-data-path" else cli(*argv)
    assert result.code in (0, 1), result.err
    for line in result.out.split("\n"):
        assert not CONTROL.search(line), (argv, line)
    assert "\\x1b" in result.out, argv  # shown, escaped


def test_github_lines_with_hostile_paths_parse_back(hostile: Path, cli: Cli) -> None:
    """``file=`` is the very path (the runner's escaping undone), nothing forges a line, and a
    message holds no raw control character."""
    result = cli("check", "--root", STORE, "--format", "github")
    lines = result.out.split("\n")
    assert lines[-1] == "" and all(line.startswith("::") for line in lines[:-2]), lines
    parsed = [runner_parse(line) for line in lines[:-2]]
    files = {props["file"] for _, props, _ in parsed}
    assert f"{STORE}/{HOSTILE_BATCH}/Copa/gone" in files
    assert all(os.path.lexists(hostile / f) for f in files), files
    for _, _, message in parsed:
        assert not CONTROL.search(message), message
    assert not CONTROL.search(lines[-2])


def test_json_names_the_very_entries_that_text_escapes(hostile: Path, cli: Cli) -> None:
    """JSON escapes for itself: a name holding control characters comes back exactly."""
    result = cli("list-batch-experiments", HOSTILE_BATCH, "--format", "json", "--root", STORE)
    assert result.code in (0, 1), result.err
    names: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            names.extend(v for k, v in value.items() if k == "name" and isinstance(v, str))
            value = list(value.values())
        if isinstance(value, list):
            for item in value:
                walk(item)

    walk(json.loads(result.out))
    assert HOSTILE_EXPERIMENT in names, names
