"""``batchcheck check`` end to end: flags, formats parsed back, exit codes, settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import EXAMPLE_ROOT, TEMP, TOPP, Cli, Result, experiment, link, make_tree, run_script

from batchcheck.rules import RULES

PILOT = "Data_v2/synthetic/_shared/Copa/temp07_topp09_gpt4o"
DANGLING = (
    f"Data_v2/synthetic/{TEMP}/Copa/temp07_topp10_gpt4o",
    f"Data_v2/synthetic/{TOPP}/Copa/temp07_topp08_gpt4o",
)

SEED_TEXT = f"""\
Data_v2/synthetic/_shared/Copa
  [!] BC305 temp07_topp09_gpt4o: original_batch 'batch_20241228_pilot' names no batch in the store

Data_v2/synthetic/{TEMP}/Copa
  [X] BC101 temp07_topp10_gpt4o: dangling symlink -> ../../_shared/Copa/temp07_topp10_gpt4o/: \
the target does not exist (see Data_v2/synthetic/_shared/Copa/temp07_topp10_gpt4o)

Data_v2/synthetic/{TOPP}/Copa
  [X] BC101 temp07_topp08_gpt4o: dangling symlink -> ../../_shared/Copa/temp07_topp08_gpt4o/: \
the target does not exist (see Data_v2/synthetic/_shared/Copa/temp07_topp08_gpt4o)

2 errors, 1 warning in 4 experiments, 6 links
"""


def codes(result: Result) -> set[tuple[str, str]]:
    """``{(code, path)}`` from ``--format json`` output."""
    return {(f["code"], f["path"]) for f in result.json()["findings"]}


def write_project(tmp_path: Path, table: str) -> None:
    """A pyproject.toml whose [tool.batchcheck] points at the seed store."""
    text = f'[tool.batchcheck]\nroot = "Data_v2/synthetic"\n{table}\n'
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")


def test_seed_store_text_golden(seed_store: Path, cli: Cli) -> None:
    result = cli("--no-emoji", "check", "--format", "text")
    assert (result.code, result.err) == (1, "")
    assert result.out == SEED_TEXT


def test_seed_store_json(seed_store: Path, cli: Cli) -> None:
    result = cli("check", "--format", "json")
    assert result.code == 1
    data = result.json()
    assert codes(result) == {("BC101", DANGLING[0]), ("BC101", DANGLING[1]), ("BC305", PILOT)}
    assert data["summary"] == {
        "errors": 2,
        "warnings": 1,
        "batches": 2,
        "experiments": 4,
        "links": 6,
    }
    first = data["findings"][0]
    assert set(first) == {"code", "severity", "path", "message", "related"}
    assert first["severity"] == "warning"


def test_seed_store_github(seed_store: Path, cli: Cli) -> None:
    result = cli("check", "--format", "github")
    lines = result.out.splitlines()
    # errors first; a finding on an experiment lands on its metadata file, at the key's line
    assert lines[0].startswith(f"::error file={DANGLING[0]},title=BC101::dangling symlink -> ")
    assert lines[1].startswith(f"::error file={DANGLING[1]},title=BC101::")
    metadata = f"{PILOT}/experiment_metadata.json"
    text = (seed_store.parent.parent / metadata).read_text("utf-8").splitlines()
    line = next(i for i, row in enumerate(text, 1) if '"original_batch"' in row)
    assert lines[2] == (
        f"::warning file={metadata},line={line},title=BC305::original_batch "
        "'batch_20241228_pilot' names no batch in the store"
    )
    assert lines[3] == "2 errors, 1 warning in 4 experiments, 6 links"


def test_example_store_is_clean(cli: Cli) -> None:
    result = cli("check", "--root", str(EXAMPLE_ROOT), "--strict", "--format", "text")
    assert (result.code, result.err) == (0, "")
    assert result.out.endswith("0 errors, 0 warnings in 6 experiments, 7 links\n")
    assert result.out.startswith("✅ ")


def test_auto_format_is_github_under_github_actions(
    seed_store: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert cli("check").out.startswith("::error file=")
    monkeypatch.setenv("GITHUB_ACTIONS", "false")
    assert cli("check").out.startswith("Data_v2/synthetic/_shared/Copa\n")


def test_select_ignore(seed_store: Path, cli: Cli) -> None:
    assert codes(cli("check", "--format", "json", "--select", "BC1")) == {
        ("BC101", DANGLING[0]),
        ("BC101", DANGLING[1]),
    }
    only_warning = cli("check", "--format", "json", "--ignore", "BC101")
    assert (only_warning.code, codes(only_warning)) == (0, {("BC305", PILOT)})
    assert cli("check", "--ignore", "BC101", "--strict").code == 1
    nothing = cli("check", "--ignore", "BC1,BC3", "--format", "json")
    assert (nothing.code, codes(nothing)) == (0, set())
    repeated = cli("check", "--select", "bc101", "--select", "BC305", "--ignore", "BC3")
    # repeated, lower case, and the longer of a matching select / ignore wins
    assert "BC305" in repeated.out and "BC101" in repeated.out
    assert "BC305" not in cli("check", "--select", "BC", "--ignore", "BC3").out


@pytest.mark.parametrize(
    "argv",
    [("--select", "BC9"), ("--ignore", "BC1,XX"), ("--format", "yaml"), ("--bogus",)],
)
def test_usage_errors(seed_store: Path, cli: Cli, argv: tuple[str, ...]) -> None:
    result = cli("check", *argv)
    assert result.code == 2
    assert result.out == ""
    assert len(result.err.splitlines()) == 1


def test_pyproject_severity_select_and_naming(seed_store: Path, tmp_path: Path, cli: Cli) -> None:
    write_project(tmp_path, '[tool.batchcheck.severity]\nBC101 = "warning"\n')
    result = cli("check", "--format", "json")
    assert result.code == 0
    assert {f["severity"] for f in result.json()["findings"]} == {"warning"}
    assert cli("check", "--strict").code == 1
    listed = cli("check", "--list-rules")
    assert "BC101   warning" in listed.out

    write_project(tmp_path, 'ignore = ["BC101"]\n[tool.batchcheck.severity]\nBC305 = "error"\n')
    result = cli("check", "--format", "json")
    assert (result.code, codes(result)) == (1, {("BC305", PILOT)})
    assert result.json()["findings"][0]["severity"] == "error"

    write_project(tmp_path, 'select = ["BC101"]\n')
    assert {c for c, _ in codes(cli("check", "--format", "json"))} == {"BC101"}
    # the command line's --select replaces the project's
    assert {c for c, _ in codes(cli("check", "--format", "json", "--select", "BC3"))} == {"BC305"}


def test_pyproject_unknown_code_is_a_usage_error(
    seed_store: Path, tmp_path: Path, cli: Cli
) -> None:
    write_project(tmp_path, '[tool.batchcheck.severity]\nBC999 = "error"\n')
    result = cli("check")
    assert result.code == 2
    assert "BC999" in result.err and "pyproject.toml" in result.err


def test_naming_convention_setting(tmp_path: Path, cli: Cli) -> None:
    spec = experiment("Copa", "temp09_topp10_gpt4o", TEMP, 0.5, 1.0) | link(
        TEMP, "Copa", "temp09_topp10_gpt4o"
    )
    make_tree(tmp_path / "Data_v2" / "synthetic", spec)
    assert codes(cli("check", "--format", "json")) == {
        ("BC306", "Data_v2/synthetic/_shared/Copa/temp09_topp10_gpt4o")
    }
    write_project(tmp_path, "naming_convention = false\n")
    assert cli("check").code == 0


def test_no_data(tmp_path: Path, cli: Cli) -> None:
    spec = experiment("Copa", "temp05_topp10_gpt4o", TEMP, 0.5, 1.0) | link(
        TEMP, "Copa", "temp05_topp10_gpt4o"
    )
    root = make_tree(tmp_path / "Data_v2" / "synthetic", spec)
    (root / "_shared/Copa/temp05_topp10_gpt4o/Copa/train.jsonl").unlink()
    assert {c for c, _ in codes(cli("check", "--format", "json"))} == {"BC304"}
    clean = cli("check", "--no-data")
    assert clean.code == 0
    assert clean.out.endswith("0 errors, 0 warnings in 1 experiment, 1 link\n")


def test_list_rules(seed_store: Path, cli: Cli) -> None:
    text = cli("check", "--list-rules")
    assert text.code == 0
    lines = text.out.splitlines()
    assert lines[0].split() == ["code", "severity", "summary"]
    assert [line.split()[0] for line in lines[1:]] == [rule.CODE for rule in RULES]
    rows = cli("check", "--list-rules", "--format", "json").json()
    assert [row["code"] for row in rows] == [rule.CODE for rule in RULES]
    assert rows[0]["description"].startswith("BC101 (error): ")


def test_console_script(seed_store: Path, tmp_path: Path) -> None:
    result = run_script("check", "--format", "json", cwd=tmp_path)
    assert (result.code, result.err) == (1, "")
    assert len(json.loads(result.out)["findings"]) == 3


def test_git_findings_follow_the_index_through_the_result_cache(tmp_path: Path, cli: Cli) -> None:
    """``--git`` keeps the check-result cache, keyed on git's index: ``git add`` is seen."""
    from conftest import git

    spec = {**experiment("Copa", "e1", TEMP, 0.5, 1.0), **link(TEMP, "Copa", "e1")}
    make_tree(tmp_path / "Data_v2/synthetic", spec)
    git("init", "-q", cwd=tmp_path)
    git("add", f"Data_v2/synthetic/{TEMP}", cwd=tmp_path)
    first = cli("check", "--git", "--format", "json")
    assert (first.code, codes(first)) == (1, {("BC107", f"Data_v2/synthetic/{TEMP}/Copa/e1")})
    assert cli("check", "--git", "--format", "json").json() == first.json()  # cached
    assert cli("check", "--format", "json").code == 0  # without --git: not judged
    git("add", "-A", cwd=tmp_path)
    assert cli("check", "--git", "--format", "json").code == 0
