"""BC103: absolute links, judged on their own."""

from __future__ import annotations

from pathlib import Path

from conftest import TOPP, make_tree
from ruletest import found, healthy, run


def test_absolute_links(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "store", healthy())
    (root / TOPP / "Copa" / "temp05_topp10_gpt4o").symlink_to(
        root / "_shared/Copa/temp05_topp10_gpt4o"
    )
    (root / TOPP / "Copa" / "etc").symlink_to("/etc")
    assert found(root, "BC103") == {
        ("BC103", f"{TOPP}/Copa/temp05_topp10_gpt4o"),
        ("BC103", f"{TOPP}/Copa/etc"),
    }
    inside = next(f for f in run(root, "BC103") if f.path.name == "temp05_topp10_gpt4o")
    assert inside.message.endswith(
        "use the relative target ../../_shared/Copa/temp05_topp10_gpt4o/"
    )
    # an absolute link to the right experiment is otherwise fine
    assert ("BC102", f"{TOPP}/Copa/temp05_topp10_gpt4o") not in found(root, "BC102")


def test_healthy_store_is_clean(tmp_path: Path) -> None:
    assert found(make_tree(tmp_path / "store", healthy()), "BC103") == set()
