"""Sweep files: the datasets, a base configuration and the values to sweep, read strictly.

A sweep file is YAML (JSON works too)::

    datasets: [Copa]                  # or `dataset: Copa`, or a mapping name -> overrides
    generation: {model: gpt-4o, temperature: 0.7, max_tokens: 256, prompt_template: "..."}
    validation: {model: gpt-4o, temperature: 0.0}
    sweep:                            # every combination, in file order
      top_p: [0.6, 0.7, 0.8, 0.9]
    # or, instead of sweep, explicit configurations:
    # configurations: [{top_p: 0.9}, {temperature: 0.9, validation.temperature: 0.2}]

Strict, because a typo must not silently change a fingerprint: an unknown key anywhere is an
error that names it. The known parameters are those the metadata schema lists under
``generation`` / ``validation`` (by default model, temperature, top_p, max_tokens,
prompt_template; validation: model, temperature); any other parameter is declared in the
section's ``extra:`` block, which is merged into the section as it will be stored. Sweep and
configuration keys are a generation parameter (``top_p`` or ``generation.top_p``) or a
validation one (``validation.temperature``).
"""

from __future__ import annotations

import difflib
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batchcheck.config import DEFAULT_MAX_SWEEP_CONFIGURATIONS
from batchcheck.documents import read_document
from batchcheck.errors import UsageError
from batchcheck.metadata import load_schema
from batchcheck.names import display, dotted

SECTIONS = ("generation", "validation")
EXTRA = "extra"


@dataclass(frozen=True)
class Configuration:
    """One configuration of a sweep for one dataset, as it will be stored in the metadata."""

    number: int  # 1-based, in the order the file expands to
    dataset: str
    generation: Mapping[str, Any]
    validation: Mapping[str, Any]
    values: Mapping[str, Any]  # what the sweep or explicit configuration set (for display)

    def params(self) -> dict[str, Any]:
        """The fingerprinted parameters (SPEC section 3)."""
        return {
            "dataset": self.dataset,
            "generation": dict(self.generation),
            "validation": dict(self.validation),
        }

    def varies(self, path: str) -> bool:
        """Whether this configuration sets the dotted parameter ``path`` on top of the base
        (``generation.top_p`` for a sweep key ``top_p``)."""
        return any((key if "." in key else f"generation.{key}") == path for key in self.values)

    @property
    def described(self) -> str:
        """``top_p=0.8``: what this configuration sets on top of the base."""
        return ", ".join(f"{k}={v}" for k, v in self.values.items())

    @property
    def label(self) -> str:
        """``Copa, top_p=0.8``: how error messages name this configuration."""
        return f"{self.dataset}, {self.described}" if self.values else self.dataset


@dataclass(frozen=True)
class Sweep:
    """A parsed sweep file."""

    path: Path
    datasets: tuple[str, ...]
    configurations: tuple[Configuration, ...]
    experiment_purpose: str | None = None
    experiment_description: str | None = None


def read_sweep_file(path: Path, shown: str) -> Any:
    """Parse the file within the input limits; any failure is a one-line usage error."""
    return read_document(path, shown)


def _param_keys(
    known: Mapping[str, Mapping[str, Any]], extra: Mapping[str, Sequence[str]]
) -> dict[str, tuple[str, str, Any]]:
    """Sweep key -> (section, parameter, its JSON Schema); bare names are generation keys."""
    keys: dict[str, tuple[str, str, Any]] = {}
    for section in SECTIONS:
        params = {**{name: {} for name in extra[section]}, **known[section]}
        for name, schema in params.items():
            keys[f"{section}.{name}"] = (section, name, schema)
            if section == "generation":
                keys[name] = (section, name, schema)
    return keys


def _section_schema(known: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {**known, EXTRA: {"type": "object"}},
        "additionalProperties": False,
    }


def _schema(
    known: Mapping[str, Mapping[str, Any]], keys: Mapping[str, tuple[str, str, Any]]
) -> dict[str, Any]:
    """The JSON Schema of a sweep file, given the parameters it may name."""
    values = {key: schema for key, (_, _, schema) in keys.items()}
    setting = {"type": "object", "properties": values, "additionalProperties": False}
    name = {"type": "string", "minLength": 1}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(SECTIONS),
        "properties": {
            "dataset": name,
            "datasets": {
                "anyOf": [
                    {"type": "array", "items": name, "minItems": 1, "uniqueItems": True},
                    {"type": "object", "minProperties": 1, "additionalProperties": setting},
                ]
            },
            "generation": _section_schema(known["generation"]),
            "validation": _section_schema(known["validation"]),
            "sweep": {
                "type": "object",
                "minProperties": 1,
                "properties": {
                    key: {"type": "array", "minItems": 1, "items": schema}
                    for key, schema in values.items()
                },
                "additionalProperties": False,
            },
            "configurations": {
                "type": "array",
                "minItems": 1,
                "items": {**setting, "minProperties": 1},
            },
            "experiment_purpose": {"type": "string"},
            "experiment_description": {"type": "string"},
        },
    }


def _message(error: Any) -> str:
    """One line for a schema error; an unknown key is named, with the nearest known one."""
    where = dotted(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list(error.schema.get("properties", {}))
        unknown = sorted(k for k in error.instance if k not in allowed)
        if unknown:
            key = unknown[0]
            text = f"{where}.{key}" if where else str(key)
            near = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            if where in SECTIONS:
                hint += f"; other parameters go under {where}.{EXTRA}"
            return f"{display(text)}: unknown key{hint}"
    return f"{display(where) or 'top level'}: {error.message}"


def _extras(doc: Mapping[str, Any], known: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Parameters each section declares in its ``extra`` block (a known one there is an error)."""
    out: dict[str, list[str]] = {}
    for section in SECTIONS:
        block = doc.get(section, {}).get(EXTRA, {}) if isinstance(doc.get(section), dict) else {}
        names = [str(k) for k in block] if isinstance(block, dict) else []
        for name in names:
            if name in known[section]:
                raise UsageError(
                    f"{section}.{EXTRA}.{display(name)}: a known parameter; "
                    f"set it as {section}.{display(name)}"
                )
        out[section] = names
    return out


def _known(schema_path: Path | None) -> dict[str, dict[str, Any]]:
    """Known parameters and their types, from the metadata schema's section properties."""
    schema = load_schema(schema_path)
    known: dict[str, dict[str, Any]] = {}
    for section in SECTIONS:
        props = schema.get("properties", {}).get(section, {}).get("properties", {})
        known[section] = dict(props) if isinstance(props, dict) else {}
    return known


def _apply(
    base: Mapping[str, dict[str, Any]],
    setting: Mapping[str, Any],
    keys: Mapping[str, tuple[str, str, Any]],
) -> dict[str, dict[str, Any]]:
    out = {section: dict(params) for section, params in base.items()}
    for key, value in setting.items():
        section, name, _ = keys[key]
        out[section][name] = value
    return out


def _ordered(params: Mapping[str, Any], known: Mapping[str, Any]) -> dict[str, Any]:
    """Known parameters in the schema's order (as metadata files list them), then extras."""
    order = list(known)
    return dict(
        sorted(params.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
    )


def _count(doc: Mapping[str, Any]) -> int:
    """How many configurations the document makes, from the sizes of its lists alone (a value
    of the wrong type counts as one: the schema refuses it next)."""

    def size(value: Any) -> int:
        return len(value) if isinstance(value, list | dict) else 1

    if "configurations" in doc:
        made = size(doc["configurations"])
    else:
        sweep = doc.get("sweep", {})
        made = (
            math.prod(size(values) for values in sweep.values()) if isinstance(sweep, dict) else 1
        )
    return made * size(doc.get("datasets", [doc.get("dataset")]))


def _settings(
    doc: Mapping[str, Any], keys: Mapping[str, tuple[str, str, Any]]
) -> list[dict[str, Any]]:
    """What each configuration sets on top of the base, in expansion order."""
    if "configurations" in doc:
        return [dict(item) for item in doc["configurations"]]
    sweep = doc.get("sweep", {})
    targets = [keys[key][:2] for key in sweep]
    for target in set(targets):
        if targets.count(target) > 1:
            raise UsageError(f"sweep: {'.'.join(target)} is swept under two keys")
    return [dict(zip(sweep, combo, strict=True)) for combo in itertools.product(*sweep.values())]


def parse_sweep(
    doc: Any,
    path: Path,
    schema_path: Path | None = None,
    most: int = DEFAULT_MAX_SWEEP_CONFIGURATIONS,
) -> Sweep:
    """Validate a parsed sweep document and expand it; every error is one ``UsageError`` line."""
    from jsonschema import validators
    from jsonschema.exceptions import best_match

    if not isinstance(doc, dict):
        raise UsageError("expected a mapping with datasets, generation, validation and sweep")
    count = _count(doc)  # before validating: the schema walks every configuration listed
    if count > most:
        raise UsageError(
            f"the sweep makes {count:,} configurations, over the limit of {most:,} "
            "(max_sweep_configurations in [tool.batchcheck])"
        )
    known = _known(schema_path)
    keys = _param_keys(known, _extras(doc, known))
    schema = _schema(known, keys)
    error = best_match(validators.validator_for(schema)(schema).iter_errors(doc))
    if error is not None:
        raise UsageError(_message(error))
    if ("dataset" in doc) == ("datasets" in doc):
        raise UsageError("name the data with `dataset: NAME` or `datasets: [NAME, ...]`")
    if "sweep" in doc and "configurations" in doc:
        raise UsageError("use either sweep (every combination) or configurations, not both")
    raw = doc.get("datasets", [doc.get("dataset")])
    overrides: dict[str, dict[str, Any]] = (
        raw if isinstance(raw, dict) else {name: {} for name in raw}
    )
    base = {
        section: {
            **{k: v for k, v in doc[section].items() if k != EXTRA},
            **doc[section].get(EXTRA, {}),
        }
        for section in SECTIONS
    }
    settings = _settings(doc, keys)
    configurations: list[Configuration] = []
    for dataset, override in overrides.items():
        dataset_base = _apply(base, override, keys)
        for setting in settings:
            params = _apply(dataset_base, setting, keys)
            configurations.append(
                Configuration(
                    len(configurations) + 1,
                    dataset,
                    _ordered(params["generation"], known["generation"]),
                    _ordered(params["validation"], known["validation"]),
                    setting,
                )
            )
    return Sweep(
        path,
        tuple(overrides),
        tuple(configurations),
        doc.get("experiment_purpose"),
        doc.get("experiment_description"),
    )


def load_sweep(
    path: Path,
    shown: str,
    schema_path: Path | None = None,
    most: int = DEFAULT_MAX_SWEEP_CONFIGURATIONS,
) -> Sweep:
    """Read, validate and expand a sweep file (at most ``most`` configurations); errors name
    the file and the key."""
    doc = read_sweep_file(path, shown)
    try:
        return parse_sweep(doc, path, schema_path, most)
    except UsageError as exc:
        raise UsageError(f"{shown}: {exc}") from exc
