"""BC104: a link named after another experiment than the one it points to."""

from __future__ import annotations

from pathlib import Path

from conftest import TOPP, make_tree
from ruletest import found, healthy, run


def test_misnamed_links(tmp_path: Path) -> None:
    spec = healthy()
    spec[f"{TOPP}/Copa/temp07_topp10_gpt4o"] = "-> ../../_shared/Copa/temp05_topp10_gpt4o/"
    spec[f"{TOPP}/Copa/broken_too"] = "-> ../../_shared/Copa/gone/"
    root = make_tree(tmp_path / "store", spec)
    assert found(root, "BC104") == {
        ("BC104", f"{TOPP}/Copa/temp07_topp10_gpt4o"),
        ("BC104", f"{TOPP}/Copa/broken_too"),
    }
    first = next(f for f in run(root, "BC104") if f.path.name == "temp07_topp10_gpt4o")
    assert first.message == (
        "link name 'temp07_topp10_gpt4o' differs from its target experiment 'temp05_topp10_gpt4o'"
    )
    assert first.related == (root / "_shared/Copa/temp05_topp10_gpt4o",)


def test_healthy_store_is_clean(tmp_path: Path) -> None:
    assert found(make_tree(tmp_path / "store", healthy()), "BC104") == set()
