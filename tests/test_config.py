"""Root discovery (SPEC section 1) and ``[tool.batchcheck]``, through the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TEMP, Cli, Result, make_tree, run_script, seed_spec


def _store(root: Path, batch: str) -> Path:
    """A minimal store whose one batch name tells which root was used."""
    return make_tree(root, {f"{batch}/Copa/e": "-> ../../_shared/Copa/e/", "_shared/Copa/e": None})


def _batches(result: Result) -> list[str]:
    assert result.code == 0, result.err
    return [b["name"] for b in result.json()["batches"]]


def test_default_root_under_the_current_folder(cli: Cli, tmp_path: Path) -> None:
    make_tree(tmp_path / "Data_v2" / "synthetic", seed_spec())
    assert _batches(cli("list-batches", "--format", "json")) == [TEMP, "batch_20241230_topp"]


def test_pyproject_root_is_relative_to_the_file(cli: Cli, tmp_path: Path) -> None:
    _store(tmp_path / "data" / "store", "batch_from_pyproject")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.batchcheck]\nroot = "data/store"\n', encoding="utf-8"
    )
    deep = tmp_path / "src" / "pkg"
    deep.mkdir(parents=True)
    assert _batches(cli("list-batches", "--format", "json", cwd=deep)) == ["batch_from_pyproject"]


def test_nearest_pyproject_with_the_table_wins(cli: Cli, tmp_path: Path) -> None:
    _store(tmp_path / "outer", "batch_outer")
    (tmp_path / "pyproject.toml").write_text('[tool.batchcheck]\nroot = "outer"\n', "utf-8")
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[project]\nname = "no-table"\n', "utf-8")
    assert _batches(cli("list-batches", "--format", "json", cwd=inner)) == ["batch_outer"]


def test_order_root_option_then_environment_then_pyproject(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("option", "env", "pyproject"):
        _store(tmp_path / name, f"batch_{name}")
    (tmp_path / "pyproject.toml").write_text('[tool.batchcheck]\nroot = "pyproject"\n', "utf-8")
    assert _batches(cli("list-batches", "--format", "json")) == ["batch_pyproject"]
    monkeypatch.setenv("BATCHCHECK_ROOT", "env")
    assert _batches(cli("list-batches", "--format", "json")) == ["batch_env"]
    assert _batches(cli("--root", "option", "list-batches", "--format", "json")) == ["batch_option"]
    assert _batches(cli("list-batches", "--format", "json", "--root", "option")) == ["batch_option"]


def test_root_after_the_command_overrides_the_one_before(cli: Cli, tmp_path: Path) -> None:
    _store(tmp_path / "a", "batch_a")
    _store(tmp_path / "b", "batch_b")
    result = cli("--root", "a", "list-batches", "--root", "b", "--format", "json")
    assert _batches(result) == ["batch_b"]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ({}, "store root"),
        ({"pyproject.toml": '[tool.batchcheck]\nroot = "nope"\n'}, "(from "),
        ({"pyproject.toml": "[tool.batchcheck]\nroot = 3\n"}, "root must be a string"),
        ({"pyproject.toml": '[tool.batchcheck]\nrooot = "x"\n'}, "unknown key 'rooot'"),
        ({"pyproject.toml": "[tool.batchcheck\n"}, "cannot read"),
        ({"pyproject.toml": '[tool.batchcheck]\nconfigs = "a.yaml"\n'}, "configs must be a list"),
        ({"pyproject.toml": '[tool.batchcheck]\nconfigs = ["a", ""]\n'}, "configs must be a list"),
    ],
)
def test_bad_root_or_configuration_is_exit_2(
    cli: Cli, tmp_path: Path, setup: dict[str, str], message: str
) -> None:
    make_tree(tmp_path, setup)
    result = cli("list-batches")
    assert result.code == 2 and result.out == ""
    assert message in result.err and result.err.count("\n") == 1
    assert "Traceback" not in result.err


def test_root_that_is_a_file(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", "utf-8")
    result = cli("--root", "file", "list-batches")
    assert result.code == 2 and "is not a directory" in result.err


def test_environment_root_in_a_real_process(tmp_path: Path) -> None:
    _store(tmp_path / "elsewhere", "batch_env")
    result = run_script("list-batches", cwd=tmp_path, env={"BATCHCHECK_ROOT": "elsewhere"})
    assert result.code == 0 and "📦 batch_env\n" in result.out
    missing = run_script("list-batches", cwd=tmp_path)
    assert missing.code == 2 and missing.out == ""
    assert missing.err.startswith("batchcheck: error: store root ")
