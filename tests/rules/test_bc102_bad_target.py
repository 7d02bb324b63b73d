"""BC102: links that exist but lead elsewhere, loops, and symlinks inside _shared."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TEMP, TOPP, make_tree
from ruletest import found, healthy, messages, run

from batchcheck.scan import ScanOptions

BATCH = "batch_20250105_wrong"


def test_every_kind_of_wrong_target(tmp_path: Path) -> None:
    spec = healthy()
    spec.update(
        {
            f"{BATCH}/Copa/etc": "-> /etc",
            f"{BATCH}/Copa/up": "-> ../../../../../../../../..",
            f"{BATCH}/Copa/temp07_topp10_gpt4o": "-> ../../_shared/CB/temp07_topp10_gpt4o/",
            f"{BATCH}/Copa/temp05_topp10_gpt4o": "-> ../../_shared/Copa/temp05_topp10_gpt4o/Copa",
            f"{BATCH}/Copa/shallow": "-> ../../_shared/Copa",
            f"{BATCH}/Copa/file": "-> ../../_shared/Copa/temp05_topp10_gpt4o/"
            "experiment_metadata.json",
            f"{BATCH}/Copa/loop": "-> loop",
            f"{BATCH}/Copa/via": f"-> ../../{TEMP}/Copa/temp05_topp10_gpt4o",
            f"{BATCH}/Copa/escape": f"-> ../../{TOPP}/Copa/out",
            f"{TOPP}/Copa/out": "-> /etc",
            "_shared/Copa/alias": "-> temp05_topp10_gpt4o",
        }
    )
    root = make_tree(tmp_path / "store", spec)
    names = ("etc", "up", "temp07_topp10_gpt4o", "temp05_topp10_gpt4o", "shallow", "file")
    expected = {("BC102", f"{BATCH}/Copa/{name}") for name in (*names, "loop", "via", "escape")}
    expected |= {("BC102", f"{TOPP}/Copa/out"), ("BC102", "_shared/Copa/alias")}
    assert found(root, "BC102") == expected
    said = messages(root, "BC102")
    assert said[f"{BATCH}/Copa/etc"] == "symlink -> /etc: the target leaves the store"
    assert "dataset 'CB', not 'Copa'" in said[f"{BATCH}/Copa/temp07_topp10_gpt4o"]
    assert "inside an experiment" in said[f"{BATCH}/Copa/temp05_topp10_gpt4o"]
    assert "above the experiment level" in said[f"{BATCH}/Copa/shallow"]
    assert "not a folder" in said[f"{BATCH}/Copa/file"]
    assert "loops" in said[f"{BATCH}/Copa/loop"]
    # SPEC section 1: the walk stops at the first symlink, here the other batch's link.
    assert "goes through the symlink" in said[f"{BATCH}/Copa/escape"]
    assert said["_shared/Copa/alias"].startswith("symlink inside _shared -> temp05_topp10_gpt4o")


def test_shared_itself_a_symlink(tmp_path: Path) -> None:
    real = make_tree(tmp_path / "real", healthy())
    root = tmp_path / "store"
    root.mkdir()
    (root / "_shared").symlink_to(real / "_shared")
    assert ("BC102", "_shared") in found(root, "BC102")


@pytest.mark.parametrize("shared", ["all", "none"], ids=["check", "list-batches"])
def test_a_dataset_folder_in_shared_that_is_a_symlink_is_never_followed(
    tmp_path: Path, shared: str
) -> None:
    """Links through ``_shared/Copa -> outside`` are judged by the walk, not by a listing of the
    folder it points to (which would read outside the store and call them fine)."""
    outside = make_tree(tmp_path / "outside", healthy())
    root = tmp_path / "store"
    spec = {k: v for k, v in healthy().items() if not k.startswith("_shared/Copa/")}
    make_tree(root, spec)
    (root / "_shared/Copa").symlink_to(outside / "_shared/Copa")
    options = ScanOptions.of(shared=shared, metadata=False, data=False)
    said = {str(f.path.relative_to(root)): f.message for f in run(root, "BC102", options)}
    for name in ("temp05_topp10_gpt4o", "temp07_topp09_gpt4o"):
        assert "through a symlink in _shared" in said[f"{TEMP}/Copa/{name}"]
    if shared == "all":  # only a full scan lists _shared, and so meets the symlink itself
        assert said["_shared/Copa"].startswith("symlink inside _shared")


def test_healthy_store_is_clean(tmp_path: Path) -> None:
    assert found(make_tree(tmp_path / "store", healthy()), "BC102") == set()
