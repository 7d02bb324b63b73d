"""Reading metadata files: the parser's notes on numbers steer the fast paths, never the result."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from batchcheck.fingerprint import fingerprint
from batchcheck.metadata import DEFAULT_JUDGE, _read_upto, read_metadata

BASE = {
    "experiment_name": "temp05_topp09_gpt4o",
    "dataset": "Copa",
    "created_at": "2024-12-29T10:30:00",
    "original_batch": "batch_20241229_temperature",
    "parameter_fingerprint": "0" * 32,
    "generation": {"model": "gpt-4o", "temperature": 0.5, "top_p": 0.9, "max_tokens": 256},
    "validation": {"model": "gpt-4o", "temperature": 0.25},
}


def _read(tmp_path: Path, text: str) -> tuple[str | None, tuple[str, ...]]:
    path = tmp_path / "experiment_metadata.json"
    path.write_text(text, encoding="utf-8")
    meta = read_metadata(str(path), 1024 * 1024, DEFAULT_JUDGE)
    assert meta.state == "ok", meta.error
    return meta.fingerprint, meta.violations


@pytest.mark.parametrize(
    "number",
    ["0.5", "1.0", "-0.0", "0.0", "1e2", "2.5E-3", "100", "1.000", "[1.0, 0.5]"],
)
def test_fingerprint_of_a_read_file_is_the_reference_one(tmp_path: Path, number: str) -> None:
    """Plain documents skip the canonical walk; documents with integral floats take it."""
    text = json.dumps(BASE).replace('"top_p": 0.9', f'"top_p": {number}')
    value, _ = _read(tmp_path, text)
    assert value == fingerprint(json.loads(text))


@pytest.mark.parametrize(
    ("literal", "shown"),
    [("NaN", "nan"), ("-Infinity", "-inf"), ("1e999", "inf"), ("1" + "0" * 400 + ".5", "inf")],
)
def test_non_finite_numbers_are_found_however_written(
    tmp_path: Path, literal: str, shown: str
) -> None:
    text = json.dumps(BASE).replace('"top_p": 0.9', f'"top_p": {literal}')
    value, violations = _read(tmp_path, text)
    assert value is None
    assert f"generation.top_p: {shown} is not a finite number" in violations


def test_a_file_that_grew_after_its_size_was_taken_is_read_to_the_limit() -> None:
    """``_read_upto`` asks for the size first seen, then reads on: nothing is cut short."""
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b"x" * 100)
        os.close(write_end)
        assert _read_upto(read_end, 10, 1000) == b"x" * 100  # grew from 10 to 100 bytes
    finally:
        os.close(read_end)
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b"y" * 100)
        assert len(_read_upto(read_end, 10, 50)) == 51  # past the limit: one byte over says so
    finally:
        os.close(read_end)
        os.close(write_end)
