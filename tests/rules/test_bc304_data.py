"""BC304: the training data folder; --no-data does not look."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import TEMP, experiment, make_tree
from ruletest import found, healthy, messages

from batchcheck.scan import ScanOptions


def _store(tmp_path: Path) -> Path:
    spec = healthy()
    for name in ("missing", "empty", "hidden", "file", "linked"):
        spec.update(experiment("Copa", name, TEMP, 0.5, 1.0))
    root = make_tree(tmp_path / "store", spec)
    for name in ("missing", "empty", "hidden", "file", "linked"):
        shutil.rmtree(root / "_shared/Copa" / name / "Copa")
    (root / "_shared/Copa/empty/Copa").mkdir()
    (root / "_shared/Copa/hidden/Copa").mkdir()
    (root / "_shared/Copa/hidden/Copa/.keep").write_text("")
    (root / "_shared/Copa/file/Copa").write_text("data\n")
    (root / "_shared/Copa/linked/Copa").symlink_to("../temp05_topp10_gpt4o/Copa")
    return root


def test_missing_or_empty_data(tmp_path: Path) -> None:
    root = _store(tmp_path)
    names = ("missing", "empty", "hidden", "file", "linked")
    assert found(root, "BC304") == {("BC304", f"_shared/Copa/{name}") for name in names}
    said = messages(root, "BC304")
    assert said["_shared/Copa/missing"] == "training data folder Copa/ is missing"
    assert said["_shared/Copa/hidden"] == "training data folder Copa/ is empty"
    assert said["_shared/Copa/linked"] == "training data folder Copa/ is a symlink (not followed)"


def test_no_data_skips_it(tmp_path: Path) -> None:
    assert found(_store(tmp_path), "BC304", options=ScanOptions.of(data=False)) == set()


def test_healthy_store_is_clean(tmp_path: Path) -> None:
    assert found(make_tree(tmp_path / "store", healthy()), "BC304") == set()
