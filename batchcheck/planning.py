"""Planning a sweep: which configurations ``_shared`` already holds, which must be generated.

A configuration is matched by fingerprint against the *recomputed* fingerprints of the
experiments in ``_shared`` (one scan, metadata read, data not), so a stale stored value never
hides or fakes a match. A configuration to generate gets the naming convention's name
``temp{round(t*10):02d}_topp{round(p*10):02d}_{model}``; when that name is taken (by an
experiment with other parameters, or by another configuration of the sweep that differs only
in parameters the name does not show) it gets ``_<first 8 digits of its fingerprint>``, a
suffix the convention's check accepts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from batchcheck.config import Settings
from batchcheck.errors import UsageError
from batchcheck.fingerprint import FINGERPRINT_VERSION, SHORT, FingerprintError, fingerprint
from batchcheck.index import StoreIndex
from batchcheck.metadata import schema_violations
from batchcheck.model import Experiment, Store
from batchcheck.rules.bc306_naming import model_token
from batchcheck.sweep import Configuration, Sweep

SUFFIX_DIGITS = 8


@dataclass(frozen=True)
class PlanItem:
    """One configuration: the shared experiment that holds it, or the one to generate."""

    config: Configuration
    fingerprint: str
    experiment: str  # the existing experiment's name, or the name to generate it under
    reuse: Experiment | None = None
    also: tuple[str, ...] = ()  # other shared experiments with the same fingerprint

    @property
    def original_batch(self) -> str | None:
        """The batch that first generated the reused experiment."""
        if self.reuse is None:
            return None
        value = self.reuse.metadata.get("original_batch")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Plan:
    """A sweep laid against the store, for one batch."""

    sweep: Sweep
    batch: str
    items: tuple[PlanItem, ...]

    @property
    def reused(self) -> list[PlanItem]:
        """Configurations ``_shared`` already holds."""
        return [item for item in self.items if item.reuse is not None]

    @property
    def to_generate(self) -> list[PlanItem]:
        """Configurations that must be generated."""
        return [item for item in self.items if item.reuse is None]


def conventional_name(generation: Mapping[str, Any]) -> str:
    """``temp07_topp09_gpt4o`` for temperature 0.7, top_p 0.9, model gpt-4o."""
    numbers = [
        value
        for value in (generation.get("temperature"), generation.get("top_p"))
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    ]
    model = generation.get("model")
    if len(numbers) != 2 or not isinstance(model, str) or not model_token(model):
        raise UsageError("naming it needs a numeric temperature and top_p and a model")
    temperature, top_p = numbers
    return f"temp{round(temperature * 10):02d}_topp{round(top_p * 10):02d}_{model_token(model)}"


def record(item: PlanItem, batch: str, sweep: Sweep) -> dict[str, Any]:
    """The metadata a pipeline writes for a configuration it generates (without created_at)."""
    config = item.config
    out: dict[str, Any] = {
        "experiment_name": item.experiment,
        "dataset": config.dataset,
        "original_batch": batch,
        "parameter_fingerprint": item.fingerprint,
        "fingerprint_version": FINGERPRINT_VERSION,
        "generation": dict(config.generation),
        "validation": dict(config.validation),
    }
    if sweep.experiment_purpose is not None:
        out["experiment_purpose"] = sweep.experiment_purpose
    if sweep.experiment_description is not None:
        out["experiment_description"] = sweep.experiment_description
    return out


def _fingerprints(sweep: Sweep, settings: Settings, batch: str) -> list[str]:
    """Each configuration's fingerprint; a configuration whose metadata would break the
    schema, or two configurations that are the same, are usage errors."""
    fields = settings.fingerprint_fields
    now = datetime.now().isoformat(timespec="seconds")
    seen: dict[tuple[str, str], Configuration] = {}
    out = []
    for config in sweep.configurations:
        where = f"configuration {config.number} ({config.label})"
        try:
            value = fingerprint(config.params(), fields)
        except FingerprintError as exc:
            raise UsageError(f"{where}: {exc}") from exc
        planned = record(PlanItem(config, value, config.dataset), batch, sweep)
        problems = schema_violations({**planned, "created_at": now}, settings.metadata_schema)
        if problems:
            raise UsageError(f"{where}: {'; '.join(problems)}")
        first = seen.setdefault((config.dataset, value), config)
        if first is not config:
            raise UsageError(
                f"configurations {first.number} and {config.number} ({config.label}) are the "
                f"same configuration (fingerprint {value[:SHORT]})"
            )
        out.append(value)
    return out


def make_plan(sweep: Sweep, store: Store, settings: Settings, batch: str) -> Plan:
    """Match every configuration against ``store`` (which must hold all of ``_shared``)."""
    known = set(store.datasets())
    for dataset in sweep.datasets:
        if dataset not in known:
            have = ", ".join(sorted(known)) or "none"
            raise UsageError(f"dataset {dataset!r} is not in the store (it has: {have})")
    values = _fingerprints(sweep, settings, batch)
    index = StoreIndex(store, settings)
    holders: dict[tuple[str, str], list[Experiment]] = defaultdict(list)
    for key, value in index.fingerprints.items():
        holders[(key[0], value)].append(store.experiments[key])
    names = []
    for config in sweep.configurations:
        try:
            names.append(conventional_name(config.generation))
        except UsageError as exc:
            raise UsageError(f"configuration {config.number} ({config.label}): {exc}") from exc
    wanted = Counter(
        (c.dataset, name)
        for c, name, value in zip(sweep.configurations, names, values, strict=True)
        if (c.dataset, value) not in holders
    )
    items = []
    for config, name, value in zip(sweep.configurations, names, values, strict=True):
        found = holders.get((config.dataset, value))
        if found:
            # Prefer a holder the batch can link (valid metadata), then the conventional name.
            unusable = ("not read",)  # no entry: the metadata did not even parse
            found.sort(
                key=lambda e: (
                    bool(index.schema_problems.get(e.key, unusable)),
                    e.name != name,
                    e.name,
                )
            )
            others = tuple(e.name for e in found[1:])
            items.append(PlanItem(config, value, found[0].name, found[0], others))
            continue
        taken = (config.dataset, name) in store.experiments or wanted[(config.dataset, name)] > 1
        final = f"{name}_{value[:SUFFIX_DIGITS]}" if taken else name
        items.append(PlanItem(config, value, final))
    return Plan(sweep, batch, tuple(items))
