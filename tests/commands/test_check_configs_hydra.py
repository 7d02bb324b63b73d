"""Training configs as Hydra writes them (defaults lists, ``${...}``, ``oc.env`` with defaults,
lists of ``{path: weight}`` mixtures, globs), loaded by the real ``omegaconf`` here too, and
checked by ``check-configs`` and by ``check`` through ``[tool.batchcheck] configs``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import TEMP, TOPP, Cli, Result, make_tree, store_spec
from omegaconf import OmegaConf

STORE = "Data_v2/synthetic"
GOOD = "temp05_topp10_gpt4o"

HYDRA = f"""\
defaults:
  - model: gpt4o
  - optimizer: adamw
  - _self_

paths:
  root: {STORE}
  batch: ${{paths.root}}/{TEMP}

data:
  train: ${{paths.batch}}/Copa/{GOOD}/Copa
  typo: ${{paths.root}}/{TEMP}/Copa/{GOOD}_TYPO/Copa
  shared: ${{oc.env:BC_TEST_DATA_ROOT,{STORE}}}/_shared/Copa/temp07_topp09_gpt4o/Copa
  mixture:
    - ${{paths.batch}}/Copa/{GOOD}/Copa: 0.7
    - {STORE}/{TOPP}/Copa/missing_experiment/Copa: 0.3
  all_copa: {STORE}/{TEMP}/Copa/*/Copa
  no_match: {STORE}/{TEMP}/Copa/temp99_*/Copa
  output: ${{hydra:runtime.output_dir}}/checkpoints
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data repository: a healthy store, a Hydra config, ``configs`` in pyproject.toml."""
    monkeypatch.delenv("BC_TEST_DATA_ROOT", raising=False)
    spec = store_spec(
        [
            ("Copa", GOOD, TEMP, 0.5, 1.0),
            ("Copa", "temp07_topp09_gpt4o", TOPP, 0.7, 0.9),
        ],
        [(TEMP, "Copa", GOOD), (TOPP, "Copa", "temp07_topp09_gpt4o")],
    )
    make_tree(tmp_path / STORE, spec)
    make_tree(tmp_path, {".git": None, "conf/train/copa.yaml": HYDRA})
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.batchcheck]\nroot = "{STORE}"\nconfigs = ["conf/**/*.yaml"]\n', "utf-8"
    )
    return tmp_path


def found(result: Result) -> list[tuple[str, int]]:
    """(code, line) of every finding, in the order printed."""
    return [(f["code"], f.get("line", 0)) for f in result.json()["findings"]]


def test_real_omegaconf_resolves_the_config_the_same_way(repo: Path) -> None:
    """What the tool judges is what OmegaConf gives the training script."""
    config = OmegaConf.load(repo / "conf/train/copa.yaml")
    assert config.data.train == f"{STORE}/{TEMP}/Copa/{GOOD}/Copa"
    assert config.data.shared == f"{STORE}/_shared/Copa/temp07_topp09_gpt4o/Copa"
    assert (repo / config.data.train).is_dir()


def test_hydra_config_findings_by_line(repo: Path, cli: Cli) -> None:
    result = cli("check-configs", "conf/train/copa.yaml", "--format", "json")
    assert result.code == 1
    # sorted by file and line; the defaults list, the good interpolated path, the good
    # mixture key and the glob that matches are fine
    assert found(result) == [
        ("BC501", 12),  # the interpolated typo
        ("BC502", 13),  # oc.env default: a _shared path where a batch path exists
        ("BC501", 16),  # a mixture key that does not resolve
        ("BC501", 18),  # a glob that matches nothing
        ("BC504", 19),  # ${hydra:...} cannot be resolved outside a Hydra run
    ]
    messages = [f["message"] for f in result.json()["findings"]]
    assert messages[0] == (
        f"'{STORE}/{TEMP}/Copa/{GOOD}_TYPO/Copa' does not resolve: "
        f"{TEMP}/Copa/{GOOD}_TYPO does not exist in the store "
        "(was the experiment renamed? fix the path here) "
        f"(written '${{paths.root}}/{TEMP}/Copa/{GOOD}_TYPO/Copa')"
    )
    assert f"use the batch path '{STORE}/{TOPP}/Copa/temp07_topp09_gpt4o/Copa'" in messages[1]
    assert messages[3] == f"'{STORE}/{TEMP}/Copa/temp99_*/Copa' matches nothing in the store"
    assert messages[4].startswith(
        "'${hydra:runtime.output_dir}/checkpoints' is not checked: its interpolation cannot be "
        "resolved here ("
    )


def test_oc_env_reads_the_environment(
    repo: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BC_TEST_DATA_ROOT", "elsewhere/synthetic")  # outside the store: no path
    result = cli("check-configs", "conf/train/copa.yaml", "--format", "json")
    assert ("BC502", 13) not in found(result)


def test_without_omegaconf_every_interpolated_path_is_bc504(
    repo: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "omegaconf", None)  # import omegaconf raises ImportError
    result = cli("check-configs", "--format", "json")
    assert [pair for pair in found(result) if pair[0] == "BC504"] == [
        ("BC504", 8),
        ("BC504", 11),
        ("BC504", 12),
        ("BC504", 13),
        ("BC504", 15),
        ("BC504", 19),
    ]
    assert "pip install 'batchcheck[hydra]'" in result.json()["findings"][0]["message"]


def test_no_argument_checks_the_configured_set_and_folders_are_accepted(
    repo: Path, cli: Cli
) -> None:
    configured = cli("check-configs", "--format", "json")
    by_folder = cli("check-configs", "conf", "--format", "json")
    assert found(configured) == found(by_folder)
    assert configured.json()["summary"]["configs"] == 1


def test_a_batch_rename_fails_check_with_the_configs_it_breaks(repo: Path, cli: Cli) -> None:
    (repo / "conf/train/copa.yaml").write_text(
        f"data:\n  train: ${{paths.root}}/{TEMP}/Copa/{GOOD}/Copa\npaths:\n  root: {STORE}\n",
        "utf-8",
    )
    assert cli("check", "--format", "text").code == 0
    (repo / STORE / TEMP).rename(repo / STORE / "batch_20241229_temp")
    result = cli("--no-emoji", "check", "--format", "text", "--no-cache")
    assert result.code == 1
    assert "conf/train/copa.yaml\n  [X] BC501 line 2: " in result.out
    assert f"{TEMP} does not exist in the store" in result.out
    # --ignore BC5 leaves the configs out
    assert cli("check", "--ignore", "BC5", "--format", "text", "--no-cache").code == 0


def test_a_double_star_glob_matches_any_depth(repo: Path, cli: Cli) -> None:
    """``**`` is zero or more folders (as in HF ``datasets`` and ``glob``), not one level."""
    conf = repo / "conf" / "deep.yaml"
    conf.write_text(
        f"any: {STORE}/{TEMP}/**/Copa\n"
        f"files: {STORE}/{TEMP}/**/train.jsonl\n"
        f"none: {STORE}/{TEMP}/**/no_such_file.jsonl\n",
        "utf-8",
    )
    result = cli("check-configs", "conf/deep.yaml", "--format", "json")
    assert found(result) == [("BC501", 3)]
