"""The JSON Schema shipped in the package: valid, and it says what SPEC section 2 requires."""

from __future__ import annotations

import json

from conftest import EXAMPLE_ROOT
from jsonschema import validators

from batchcheck.metadata import load_schema, schema_violations


def test_shipped_schema_is_a_valid_json_schema() -> None:
    schema = load_schema()
    validators.validator_for(schema).check_schema(schema)


def test_required_fields_are_those_of_the_spec() -> None:
    problems = schema_violations({"generation": {}, "validation": {}})
    assert problems == [
        "created_at: missing",
        "generation.max_tokens: missing",
        "generation.model: missing",
        "generation.temperature: missing",
        "generation.top_p: missing",
        "original_batch: missing",
        "parameter_fingerprint: missing",
        "validation.model: missing",
    ]


def test_example_store_metadata_is_valid() -> None:
    files = sorted(EXAMPLE_ROOT.glob("_shared/*/*/experiment_metadata.json"))
    assert len(files) == 6
    for path in files:
        assert schema_violations(json.loads(path.read_text("utf-8"))) == [], path
