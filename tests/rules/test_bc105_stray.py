"""BC105: what does not belong in a batch (a link checked out as a file is BC106)."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import TEMP, make_tree
from ruletest import found, healthy, messages


def test_strays(tmp_path: Path) -> None:
    spec = healthy()
    spec.update(
        {
            f"{TEMP}/Copa/copied/Copa/train.jsonl": "{}\n",
            f"{TEMP}/Copa/pointer": "../../_shared/Copa/temp05_topp10_gpt4o/",
            f"{TEMP}/Copa/notes.txt": "just notes\n",
            f"{TEMP}/README.md": "# about this batch\n",
            f"{TEMP}/CB": "-> ../../_shared/CB",
            "batch_20250101_file": "not a folder\n",
            f"{TEMP}/Copa/.hidden": "ignored\n",
            f"{TEMP}/CB_pointer": "../_shared/CB/\n",
        }
    )
    root = make_tree(tmp_path / "store", spec)
    os.mkfifo(root / TEMP / "Copa" / "fifo")
    assert found(root, "BC105") == {
        ("BC105", f"{TEMP}/Copa/copied"),
        ("BC105", f"{TEMP}/Copa/notes.txt"),
        ("BC105", f"{TEMP}/Copa/fifo"),
        ("BC105", f"{TEMP}/README.md"),
        ("BC105", f"{TEMP}/CB"),
        ("BC105", f"{TEMP}/CB_pointer"),
        ("BC105", "batch_20250101_file"),
    }
    said = messages(root, "BC105")
    assert said[f"{TEMP}/CB_pointer"] == (
        "a file holding the path '../_shared/CB/': a symlink checked "
        "out with core.symlinks=false (enable symlinks and check out again)"
    )
    assert "copied data" in said[f"{TEMP}/Copa/copied"]
    assert said[f"{TEMP}/Copa/notes.txt"] == "a file where a symlink belongs"
    assert said[f"{TEMP}/Copa/fifo"] == "a special file where a symlink belongs"
    assert "dataset level" in said[f"{TEMP}/README.md"]
    assert "dataset level" in said[f"{TEMP}/CB"]
    assert "a batch must be a folder" in said["batch_20250101_file"]


def test_healthy_store_is_clean(tmp_path: Path) -> None:
    assert found(make_tree(tmp_path / "store", healthy()), "BC105") == set()
