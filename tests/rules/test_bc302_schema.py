"""BC302: schema violations, each naming its field; a project's own schema."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import TEMP, experiment, make_tree, metadata
from ruletest import found, healthy, messages

META = "experiment_metadata.json"


def _broken(spec: dict[str, object], name: str, data: object) -> None:
    spec.update(experiment("Copa", name, TEMP, 0.5, 1.0))
    spec[f"_shared/Copa/{name}/{META}"] = (
        data if isinstance(data, str) else json.dumps(data, allow_nan=True)
    )


def test_schema_violations(tmp_path: Path) -> None:
    spec = healthy()
    no_top_p = metadata("Copa", "no_top_p", TEMP)
    del no_top_p["generation"]["top_p"]
    _broken(spec, "no_top_p", no_top_p)
    _broken(spec, "hot", metadata("Copa", "hot", TEMP, temperature="hot"))  # type: ignore[arg-type]
    _broken(spec, "listed", [1, 2, 3])
    nan = metadata("Copa", "nan", TEMP)
    nan["generation"]["temperature"] = float("nan")
    _broken(spec, "nan", nan)
    # A literal too large for a float parses as infinity: non-finite too, though it says neither.
    huge = json.dumps(metadata("Copa", "huge", TEMP)).replace(
        '"top_p": 1.0', '"top_p": 1' + "0" * 400 + ".5"
    )
    _broken(spec, "huge", huge)
    _broken(spec, "future", metadata("Copa", "future", TEMP, fingerprint_version=2))
    root = make_tree(tmp_path / "store", spec)
    names = ("no_top_p", "hot", "listed", "nan", "huge", "future")
    assert found(root, "BC302") == {("BC302", f"_shared/Copa/{name}") for name in names}
    said = messages(root, "BC302")
    assert said["_shared/Copa/no_top_p"] == "metadata breaks the schema: generation.top_p: missing"
    assert "generation.temperature: 'hot' is not of type 'number'" in said["_shared/Copa/hot"]
    assert said["_shared/Copa/listed"].endswith("metadata is not a JSON object (it is list)")
    assert "generation.temperature: nan is not a finite number" in said["_shared/Copa/nan"]
    assert "generation.top_p: inf is not a finite number" in said["_shared/Copa/huge"]
    assert "fingerprint_version" in said["_shared/Copa/future"]


def test_project_schema(tmp_path: Path) -> None:
    schema = {"type": "object", "required": ["operator"]}
    schema_file = tmp_path / "schema.json"
    schema_file.write_text(json.dumps(schema), encoding="utf-8")
    spec = healthy()
    _broken(spec, "future", metadata("Copa", "future", TEMP, fingerprint_version=2))
    root = make_tree(tmp_path / "store", spec)
    said = messages(root, "BC302", metadata_schema=schema_file)
    assert len(said) == 4
    assert said["_shared/Copa/temp05_topp10_gpt4o"] == (
        "metadata breaks the schema: operator: missing"
    )
    # the project's schema does not know fingerprint_version: still reported
    assert said["_shared/Copa/future"] == (
        "metadata breaks the schema: operator: missing; "
        "fingerprint_version: 2 is unknown (known: 1)"
    )


def test_healthy_store_is_clean(tmp_path: Path) -> None:
    assert found(make_tree(tmp_path / "store", healthy()), "BC302") == set()
