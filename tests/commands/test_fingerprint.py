"""The fingerprint of SPEC section 3: the canonical form, to the letter, and the command."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE_ROOT, Cli, metadata, run_script

import batchcheck
from batchcheck.fingerprint import FingerprintError, canonical_json, fingerprint

PARAMS: dict[str, Any] = {
    "dataset": "Copa",
    "generation": {"model": "gpt-4o", "temperature": 0.7, "top_p": 1.0, "max_tokens": 256},
    "validation": {"model": "gpt-4o", "temperature": 0.0},
}


def test_canonical_text_exactly() -> None:
    assert canonical_json(PARAMS) == (
        '{"dataset":"Copa","generation":{"max_tokens":256,"model":"gpt-4o","temperature":0.7,'
        '"top_p":1},"validation":{"model":"gpt-4o","temperature":0}}'
    )
    expected = hashlib.md5(canonical_json(PARAMS).encode("utf-8")).hexdigest()
    assert fingerprint(PARAMS) == expected and len(expected) == 32 and expected.islower()


def test_key_order_does_not_matter() -> None:
    shuffled = {
        "validation": {"temperature": 0.0, "model": "gpt-4o"},
        "generation": dict(reversed(list(PARAMS["generation"].items()))),
        "dataset": "Copa",
    }
    assert fingerprint(shuffled) == fingerprint(PARAMS)


def test_integral_floats_hash_as_integers() -> None:
    as_int = {**PARAMS, "generation": {**PARAMS["generation"], "top_p": 1, "max_tokens": 256.0}}
    assert fingerprint(as_int) == fingerprint(PARAMS)
    assert canonical_json({"generation": {"x": 1e20, "y": 0.1, "z": -0.0}}) == (
        '{"generation":{"x":100000000000000000000,"y":0.1,"z":0}}'
    )
    assert canonical_json({"generation": {"x": 1e-7}}) == '{"generation":{"x":1e-07}}'


def test_booleans_stay_booleans() -> None:
    assert canonical_json({"generation": {"a": True, "b": 1, "c": None}}) == (
        '{"generation":{"a":true,"b":1,"c":null}}'
    )
    assert fingerprint({"generation": {"a": True}}) != fingerprint({"generation": {"a": 1}})


def test_unicode_is_hashed_unescaped() -> None:
    params = {"dataset": "Copa", "generation": {"prompt_template": "Écris « ça » 🙂"}}
    text = canonical_json(params)
    assert "Écris « ça » 🙂" in text and "\\u" not in text
    assert fingerprint(params) == hashlib.md5(text.encode("utf-8")).hexdigest()


def test_nested_values_and_lists() -> None:
    params = {"generation": {"stop": ["b", "a"], "extra": {"z": {"y": 1.5}, "a": [1.0, 2]}}}
    assert canonical_json(params) == (
        '{"generation":{"extra":{"a":[1,2],"z":{"y":1.5}},"stop":["b","a"]}}'
    )


def test_missing_fields_are_left_out_and_others_ignored() -> None:
    assert canonical_json({"generation": {"a": 1}}) == '{"generation":{"a":1}}'
    noisy = {**PARAMS, "created_at": "2025-01-01", "experiment_purpose": "x", "original_batch": "b"}
    assert fingerprint(noisy) == fingerprint(PARAMS)
    assert canonical_json({"dataset": "Copa", "x": 1}, fields=("x",)) == '{"x":1}'


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_are_rejected(bad: float) -> None:
    with pytest.raises(FingerprintError, match=r"generation\.temperature"):
        fingerprint({"generation": {"temperature": bad}})


def test_unknown_version_is_rejected() -> None:
    with pytest.raises(FingerprintError, match="not supported"):
        fingerprint(PARAMS, version=2)


def test_importable_from_the_package() -> None:
    assert batchcheck.fingerprint is fingerprint
    assert batchcheck.fingerprint(PARAMS) == fingerprint(PARAMS)


def test_example_store_fingerprints_are_correct() -> None:
    files = sorted(EXAMPLE_ROOT.glob("_shared/*/*/experiment_metadata.json"))
    assert len(files) == 6
    for path in files:
        data = json.loads(path.read_text("utf-8"))
        assert fingerprint(data) == data["parameter_fingerprint"], path


# -- the command ---------------------------------------------------------------------------------


def test_command_on_metadata_json(cli: Cli, tmp_path: Path) -> None:
    data = metadata("Copa", "e", "batch_x", 0.7, 1.0)
    (tmp_path / "m.json").write_text(json.dumps(data), encoding="utf-8")
    result = cli("fingerprint", "m.json")
    assert (result.code, result.out, result.err) == (0, data["parameter_fingerprint"] + "\n", "")
    short = cli("fingerprint", "m.json", "--format", "json").json()
    assert short["fingerprint"] == data["parameter_fingerprint"]
    assert short["short"] == data["parameter_fingerprint"][:12]


def test_command_on_yaml_matches_json(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text(
        "dataset: Copa\n"
        "generation:\n  model: gpt-4o\n  temperature: 0.7\n  top_p: 1\n  max_tokens: 256\n"
        "validation:\n  model: gpt-4o\n  temperature: 0\n"
        "experiment_purpose: ignored\n",
        encoding="utf-8",
    )
    result = cli("fingerprint", "params.yaml")
    assert result.code == 0 and result.out == fingerprint(PARAMS) + "\n"


def test_command_errors_are_one_line(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "nan.json").write_text('{"generation": {"temperature": NaN}}', encoding="utf-8")
    (tmp_path / "bad.yaml").write_text("generation: [unclosed\n", encoding="utf-8")
    (tmp_path / "list.yaml").write_text("- 1\n", encoding="utf-8")
    for name in ("nan.json", "bad.yaml", "list.yaml", "missing.json"):
        result = cli("fingerprint", name)
        assert result.code == 2 and result.out == "", name
        assert result.err.startswith("batchcheck: error: ") and result.err.count("\n") == 1


def test_command_needs_no_store(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("dataset: CB\n", encoding="utf-8")
    result = run_script("fingerprint", "p.yaml", cwd=tmp_path)
    assert result.code == 0 and result.out == fingerprint({"dataset": "CB"}) + "\n"
