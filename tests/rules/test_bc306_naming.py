"""BC306: names that state parameters against the metadata; naming_convention = false."""

from __future__ import annotations

from pathlib import Path

from conftest import TEMP, experiment, make_tree
from ruletest import found, healthy, messages


def _store(tmp_path: Path) -> Path:
    spec = healthy()
    spec.update(experiment("Copa", "temp05_topp10_gpt4o_v2", TEMP, 0.5, 1.0))  # fine
    spec.update(experiment("Copa", "temp15_topp05_gpt4o", TEMP, 1.5, 0.5))  # fine
    spec.update(experiment("Copa", "baseline", TEMP, 0.9, 0.3))  # not judged
    spec.update(experiment("Copa", "temp08_topp10_gpt4o", TEMP, 0.7, 1.0))
    spec.update(experiment("Copa", "temp07_topp09_gpt4o_x", TEMP, 0.7, 1.0))
    spec.update(experiment("Copa", "temp07_topp10_gpt4omini", TEMP, 0.7, 1.0, model="gpt-4o"))
    spec.update(experiment("CB", "temp03_topp08_claude", TEMP, 0.7, 0.9, model="Claude-3.5"))
    return make_tree(tmp_path / "store", spec)


def test_name_disagrees_with_metadata(tmp_path: Path) -> None:
    root = _store(tmp_path)
    names = (
        "Copa/temp08_topp10_gpt4o",
        "Copa/temp07_topp09_gpt4o_x",
        "Copa/temp07_topp10_gpt4omini",
        "CB/temp03_topp08_claude",
    )
    assert found(root, "BC306") == {("BC306", f"_shared/{name}") for name in names}
    said = messages(root, "BC306")
    assert said["_shared/Copa/temp08_topp10_gpt4o"] == (
        "name disagrees with the metadata: temp08 but generation.temperature is 0.7 (temp07)"
    )
    assert said["_shared/Copa/temp07_topp09_gpt4o_x"] == (
        "name disagrees with the metadata: topp09 but generation.top_p is 1 (topp10)"
    )
    assert said["_shared/Copa/temp07_topp10_gpt4omini"] == (
        "name disagrees with the metadata: 'gpt4omini' but generation.model is 'gpt-4o' (gpt4o)"
    )
    assert said["_shared/CB/temp03_topp08_claude"] == (
        "name disagrees with the metadata: temp03 but generation.temperature is 0.7 (temp07); "
        "topp08 but generation.top_p is 0.9 (topp09); "
        "'claude' but generation.model is 'Claude-3.5' (claude35)"
    )


def test_naming_convention_off(tmp_path: Path) -> None:
    assert found(_store(tmp_path), "BC306", naming_convention=False) == set()


def test_healthy_store_is_clean(tmp_path: Path) -> None:
    assert found(make_tree(tmp_path / "store", healthy()), "BC306") == set()
