"""BC101: dangling links, and only BC101 for them whatever the target text says."""

from __future__ import annotations

from pathlib import Path

from conftest import TEMP, TOPP, make_tree
from ruletest import found, healthy, run


def test_dangling_links_are_reported_once_each(tmp_path: Path) -> None:
    spec = healthy()
    spec[f"{TEMP}/Copa/temp09_topp10_gpt4o"] = "-> ../../_shared/Copa/temp09_topp10_gpt4o/"
    spec[f"{TEMP}/Copa/other_dataset"] = "-> ../../_shared/CB/other_dataset/"
    spec[f"{TOPP}/Copa/deeper"] = "-> ../../_shared/Copa/temp05_topp10_gpt4o/missing/Copa"
    root = make_tree(tmp_path / "store", spec)
    assert found(root, "BC101") == {
        ("BC101", f"{TEMP}/Copa/temp09_topp10_gpt4o"),
        ("BC101", f"{TEMP}/Copa/other_dataset"),
        ("BC101", f"{TOPP}/Copa/deeper"),
    }
    # "only BC101, whatever else the target text says": no BC102 for them.
    assert found(root, "BC102") == set()


def test_message_and_related_target(tmp_path: Path) -> None:
    spec = healthy()
    spec[f"{TEMP}/Copa/temp09_topp10_gpt4o"] = "-> ../../_shared/Copa/temp09_topp10_gpt4o/"
    root = make_tree(tmp_path / "store", spec)
    (finding,) = run(root, "BC101")
    assert finding.message == (
        "dangling symlink -> ../../_shared/Copa/temp09_topp10_gpt4o/: the target does not exist"
    )
    assert finding.related == (root / "_shared/Copa/temp09_topp10_gpt4o",)


def test_absolute_dangling_link_is_also_bc103(tmp_path: Path) -> None:
    spec = healthy()
    root = make_tree(tmp_path / "store", spec)
    (root / TEMP / "Copa" / "gone").symlink_to(root / "_shared/Copa/gone")
    assert found(root, "BC1") == {("BC101", f"{TEMP}/Copa/gone"), ("BC103", f"{TEMP}/Copa/gone")}


def test_healthy_store_is_clean(tmp_path: Path) -> None:
    assert found(make_tree(tmp_path / "store", healthy()), "BC101") == set()
