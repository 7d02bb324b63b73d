"""BC402: batch folder names and empty batches."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_tree
from ruletest import found, healthy, messages

from batchcheck.rules.bc402_batch_name import name_problem


def test_bad_names_and_empty_batches(tmp_path: Path) -> None:
    spec = healthy()
    spec.update(
        {
            "batch_2024_short/Copa/x": "-> ../../_shared/Copa/temp05_topp10_gpt4o/",
            "batch_20241332_month/Copa/x": "-> ../../_shared/Copa/temp05_topp10_gpt4o/",
            "batch_20250101_empty": None,
            "batch_20250102_empty_dataset/Copa": None,
        }
    )
    root = make_tree(tmp_path / "store", spec)
    assert found(root, "BC402") == {
        ("BC402", "batch_2024_short"),
        ("BC402", "batch_20241332_month"),
        ("BC402", "batch_20250101_empty"),
        ("BC402", "batch_20250102_empty_dataset"),
    }
    said = messages(root, "BC402")
    assert said["batch_20241332_month"] == (
        "batch name 'batch_20241332_month': 20241332 is not a real date"
    )
    assert said["batch_20250101_empty"] == "empty batch: it links no experiment"


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("batch_20241229_temperature", True),
        ("batch_20240229_leap-day_2", True),
        ("batch_20230229_not_leap", False),
        ("batch_20241229_", False),
        ("batch_20241229_with space", False),
        ("batch_20241229", False),
        ("batch_x_20241229", False),
    ],
)
def test_name_format(name: str, ok: bool) -> None:
    assert (name_problem(name) is None) is ok


def test_healthy_store_is_clean(tmp_path: Path) -> None:
    assert found(make_tree(tmp_path / "store", healthy()), "BC402") == set()
