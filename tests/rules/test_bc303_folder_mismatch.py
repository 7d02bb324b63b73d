"""BC303: dataset / experiment_name against the folders."""

from __future__ import annotations

from pathlib import Path

from conftest import TEMP, experiment, make_tree, metadata
from ruletest import found, healthy, run

META = "experiment_metadata.json"


def test_disagreeing_names(tmp_path: Path) -> None:
    spec = healthy()
    spec.update(experiment("Copa", "renamed", TEMP, 0.5, 1.0, experiment_name="original"))
    spec.update(experiment("Copa", "moved", TEMP, 0.5, 1.0))
    spec.update(experiment("Copa", "typed", TEMP, 0.5, 1.0))
    moved = metadata("Copa", "moved", TEMP, 0.5, 1.0, experiment_name="x")
    spec[f"_shared/Copa/moved/{META}"] = {**moved, "dataset": "CB"}
    spec[f"_shared/Copa/typed/{META}"] = {**metadata("Copa", "typed", TEMP), "dataset": 7}
    root = make_tree(tmp_path / "store", spec)
    assert found(root, "BC303") == {
        ("BC303", "_shared/Copa/renamed"),
        ("BC303", "_shared/Copa/moved"),
    }
    said = sorted(f.message for f in run(root, "BC303") if f.path.name == "moved")
    assert said == [
        "dataset is 'CB' but the dataset folder is 'Copa'",
        "experiment_name is 'x' but the experiment folder is 'moved'",
    ]


def test_healthy_store_is_clean(tmp_path: Path) -> None:
    assert found(make_tree(tmp_path / "store", healthy()), "BC303") == set()
