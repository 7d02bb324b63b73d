"""``list-data-paths --absolute`` and ``--format yaml`` as a training config takes it: pasted in
as it is, ``check-configs`` finds nothing, wherever the config lives and the job runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from conftest import TEMP, TOPP, Cli, experiment, link, make_tree, seed_spec


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """The seed's tree (two dangling links) plus an orphan, an experiment two batches link and
    one whose training data folder is empty."""
    root = make_tree(tmp_path / "Data_v2" / "synthetic", seed_spec())
    make_tree(root, experiment("CB", "orphan", TEMP, 0.2, 1.0))
    make_tree(root, link("batch_20241228_pilot", "Copa", "temp07_topp09_gpt4o"))
    make_tree(root, experiment("Copa", "temp03_topp10_gpt4o", TEMP, 0.3, 1.0))
    make_tree(root, link(TEMP, "Copa", "temp03_topp10_gpt4o"))
    os.remove(root / "_shared/Copa/temp03_topp10_gpt4o/Copa/train.jsonl")
    return root


def test_absolute_paths_in_every_format(cli: Cli, store: Path, tmp_path: Path) -> None:
    doc = cli("list-data-paths", "--batch", TOPP, "--absolute", "--format", "json").json()
    assert doc["root"] == str(store)
    entry = next(e for e in doc["data_paths"] if e["experiment"] == "temp07_topp09_gpt4o")
    assert entry["path"] == str(store / TOPP / "Copa/temp07_topp09_gpt4o/Copa")
    assert entry["shared_path"] == str(store / "_shared/Copa/temp07_topp09_gpt4o/Copa")
    assert all(os.path.isabs(p["path"]) for p in entry["batch_paths"])
    text = cli("list-data-paths", "--batch", TOPP, "--absolute").out
    assert f"      {store}/{TOPP}/Copa/temp07_topp09_gpt4o/Copa\n" in text
    pasted = yaml.safe_load(cli("list-data-paths", "--absolute", "--format", "yaml").out)
    assert pasted["data_paths"] and all(Path(e["path"]).is_dir() for e in pasted["data_paths"])


def test_yaml_keeps_what_trains_and_comments_the_rest(cli: Cli, store: Path) -> None:
    out = cli("list-data-paths", "--format", "yaml").out
    doc = yaml.safe_load(out)
    paths = {f"{e['dataset']}/{e['experiment']}": e["path"] for e in doc["data_paths"]}
    assert paths["CB/orphan"] == "Data_v2/synthetic/_shared/CB/orphan/CB"  # no batch links it
    assert paths["Copa/temp07_topp09_gpt4o"].startswith("Data_v2/synthetic/batch_20241228_pilot/")
    assert "Copa/temp07_topp10_gpt4o" not in paths and "Copa/temp03_topp10_gpt4o" not in paths
    assert "#   Copa/temp07_topp10_gpt4o: the shared experiment folder does not exist\n" in out
    assert "#   Copa/temp03_topp10_gpt4o: training data folder Copa: empty\n" in out
    assert list(doc) == ["data_paths"]
    assert all(list(e) == ["dataset", "experiment", "path"] for e in doc["data_paths"])


@pytest.mark.parametrize(
    ("where", "extra"),
    [
        ("train.yaml", ()),  # beside the store, paths relative to the current folder
        ("configs/deep/train.yaml", ()),  # in a subfolder
        ("configs/train.yaml", ("--absolute",)),
        ("configs/train.yaml", ("--batch", TEMP)),
        ("configs/train.yaml", ("--dataset", "Copa", "--absolute")),
    ],
)
def test_pasted_into_a_training_config_it_passes_check_configs(
    cli: Cli, store: Path, tmp_path: Path, where: str, extra: tuple[str, ...]
) -> None:
    listed = cli("list-data-paths", *extra, "--format", "yaml")
    assert listed.code == 0, listed.err
    config = tmp_path / where
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("model: roberta-large\n" + listed.out + "epochs: 3\n", encoding="utf-8")
    result = cli("check-configs", where, "--strict", "--format", "json")
    assert result.code == 0, result.out
    doc = result.json()
    assert doc["findings"] == []
    assert doc["summary"]["paths"] >= 1


def test_absolute_paths_survive_a_job_that_changes_folder(
    cli: Cli, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hydra's ``hydra.job.chdir=True`` runs the job in outputs/<date>/: relative paths break."""
    listed = yaml.safe_load(cli("list-data-paths", "--absolute", "--format", "yaml").out)
    elsewhere = tmp_path / "outputs" / "2025-01-06"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    assert all(Path(e["path"]).is_dir() for e in listed["data_paths"])
