"""BC401: shared experiments that no batch references."""

from __future__ import annotations

from pathlib import Path

from conftest import TEMP, TOPP, experiment, make_tree
from ruletest import found, healthy

from batchcheck.scan import ScanOptions


def test_orphans(tmp_path: Path) -> None:
    spec = healthy()
    spec.update(experiment("Copa", "orphan", TEMP, 0.1, 1.0))
    spec.update(experiment("CB", "misplaced_link", TEMP, 0.2, 1.0))
    spec[f"{TOPP}/Copa/misplaced_link"] = "-> ../../_shared/CB/misplaced_link/"
    root = make_tree(tmp_path / "store", spec)
    # a broken link still references the experiment it names (BC102 says what is wrong)
    assert found(root, "BC401") == {("BC401", "_shared/Copa/orphan")}


def test_skipped_on_a_partial_scan(tmp_path: Path) -> None:
    spec = healthy()
    spec.update(experiment("Copa", "orphan", TEMP, 0.1, 1.0))
    root = make_tree(tmp_path / "store", spec)
    assert found(root, "BC401", options=ScanOptions(batches=(TEMP,))) == set()


def test_healthy_store_is_clean(tmp_path: Path) -> None:
    assert found(make_tree(tmp_path / "store", healthy()), "BC401") == set()
