"""BC305: original_batch that names no batch, or a batch that does not link the experiment."""

from __future__ import annotations

from pathlib import Path

from conftest import TEMP, TOPP, experiment, make_tree, metadata
from ruletest import found, healthy, messages, run

from batchcheck.scan import ScanOptions


def test_original_batch_problems(tmp_path: Path) -> None:
    spec = healthy()
    spec.update(experiment("Copa", "pilot", "batch_20241228_pilot", 0.1, 1.0))
    spec.update(experiment("Copa", "unlinked", TOPP, 0.2, 1.0))
    spec.update(experiment("Copa", "absolute", TOPP, 0.3, 1.0))
    spec.update(experiment("Copa", "no_origin", TOPP, 0.4, 1.0))
    no_origin = metadata("Copa", "no_origin", TOPP, 0.4, 1.0)
    del no_origin["original_batch"]
    spec["_shared/Copa/no_origin/experiment_metadata.json"] = no_origin
    root = make_tree(tmp_path / "store", spec)
    (root / TOPP / "Copa" / "absolute").symlink_to(root / "_shared/Copa/absolute")
    (root / TEMP / "Copa" / "unlinked").symlink_to("../../_shared/Copa/unlinked/")
    assert found(root, "BC305") == {
        ("BC305", "_shared/Copa/pilot"),
        ("BC305", "_shared/Copa/unlinked"),
    }
    said = messages(root, "BC305")
    assert said["_shared/Copa/pilot"] == (
        "original_batch 'batch_20241228_pilot' names no batch in the store"
    )
    assert said["_shared/Copa/unlinked"] == (
        f"original_batch '{TOPP}' does not link this experiment"
    )
    unlinked = next(f for f in run(root, "BC305") if f.path.name == "unlinked")
    assert unlinked.related == (root / TOPP,)


def test_skipped_when_not_every_batch_was_scanned(tmp_path: Path) -> None:
    spec = healthy()
    spec.update(experiment("Copa", "pilot", "batch_20241228_pilot", 0.1, 1.0))
    root = make_tree(tmp_path / "store", spec)
    assert found(root, "BC305", options=ScanOptions(batches=(TEMP,))) == set()


def test_healthy_store_is_clean(tmp_path: Path) -> None:
    assert found(make_tree(tmp_path / "store", healthy()), "BC305") == set()
