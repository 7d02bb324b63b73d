"""BC201: the same recomputed fingerprint in several shared experiments."""

from __future__ import annotations

from pathlib import Path

from conftest import TEMP, experiment, make_tree
from ruletest import found, healthy, run

from batchcheck.scan import ScanOptions


def test_duplicate_group_names_every_other_member(tmp_path: Path) -> None:
    spec = healthy()
    spec.update(experiment("Copa", "copy_a", TEMP, 0.5, 1.0))
    spec.update(experiment("Copa", "copy_b", TEMP, 0.5, 1.0))
    spec.update(experiment("CB", "temp05_topp10_gpt4o", TEMP, 0.5, 1.0))  # other dataset
    root = make_tree(tmp_path / "store", spec)
    group = ("_shared/Copa/copy_a", "_shared/Copa/copy_b", "_shared/Copa/temp05_topp10_gpt4o")
    assert found(root, "BC201") == {("BC201", path) for path in group}
    by_path = {f.path.relative_to(root).as_posix(): f for f in run(root, "BC201")}
    first = by_path["_shared/Copa/copy_a"]
    assert first.related == (root / group[1], root / group[2])
    assert "Copa/copy_b, Copa/temp05_topp10_gpt4o" in first.message


def test_skipped_on_a_partial_scan(tmp_path: Path) -> None:
    spec = healthy()
    spec.update(experiment("Copa", "copy_a", TEMP, 0.5, 1.0))
    root = make_tree(tmp_path / "store", spec)
    assert found(root, "BC201", options=ScanOptions(shared="linked")) == set()


def test_healthy_store_is_clean(tmp_path: Path) -> None:
    assert found(make_tree(tmp_path / "store", healthy()), "BC201") == set()
