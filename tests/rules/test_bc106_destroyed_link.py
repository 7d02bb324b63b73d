"""BC106: a symlink checked out as a file holding its target (core.symlinks=false)."""

from __future__ import annotations

from pathlib import Path

from conftest import TEMP, TOPP, make_tree
from ruletest import found, healthy, run


def test_files_holding_a_target_where_a_link_belongs(tmp_path: Path) -> None:
    spec = healthy()
    del spec[f"{TEMP}/Copa/temp05_topp10_gpt4o"]
    spec[f"{TEMP}/Copa/temp05_topp10_gpt4o"] = "../../_shared/Copa/temp05_topp10_gpt4o/"
    spec[f"{TOPP}/Copa/gone"] = "../../_shared/Copa/gone\n"  # leads nowhere: still destroyed
    spec[f"{TOPP}/Copa/notes.txt"] = "two words\n"  # no path: BC105
    spec[f"{TOPP}/Copa/big"] = "../" * 400  # over 1 KiB: not a pointer
    spec[f"{TOPP}/CB_pointer"] = "../_shared/CB/"  # at the dataset level: BC105
    root = make_tree(tmp_path / "store", spec)
    assert found(root, "BC106") == {
        ("BC106", f"{TEMP}/Copa/temp05_topp10_gpt4o"),
        ("BC106", f"{TOPP}/Copa/gone"),
    }
    assert found(root, "BC105") == {
        ("BC105", f"{TOPP}/Copa/notes.txt"),
        ("BC105", f"{TOPP}/Copa/big"),
        ("BC105", f"{TOPP}/CB_pointer"),
    }
    first = next(f for f in run(root, "BC106") if f.path.parent.parent.name == TEMP)
    assert first.severity.value == "error"
    assert first.message == (
        "a destroyed symlink: a file holding the path '../../_shared/Copa/temp05_topp10_gpt4o/' "
        "where a link belongs ('batchcheck check --fix' restores it)"
    )
    assert first.related == (root / "_shared/Copa/temp05_topp10_gpt4o",)


def test_a_pointer_that_leaves_the_store_names_nothing_related(tmp_path: Path) -> None:
    spec = healthy()
    spec[f"{TOPP}/Copa/away"] = "../../../../elsewhere/x"
    root = make_tree(tmp_path / "store", spec)
    (finding,) = run(root, "BC106")
    assert finding.related == ()


def test_healthy_store_is_clean(tmp_path: Path) -> None:
    assert found(make_tree(tmp_path / "store", healthy()), "BC106") == set()
