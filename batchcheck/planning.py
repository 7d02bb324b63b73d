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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batchcheck.config import Settings
from batchcheck.errors import UsageError
from batchcheck.fingerprint import FINGERPRINT_VERSION, SHORT, FingerprintError, fingerprint
from batchcheck.index import StoreIndex
from batchcheck.layout import SHARED
from batchcheck.linking import LinkRun, LinkStep, carry_out, check_batch_name, link_steps
from batchcheck.lookups.nearest import NearIndex, NearMiss
from batchcheck.metadata import schema_violations
from batchcheck.model import Experiment, Store
from batchcheck.names import decoded, shown_path
from batchcheck.rules.bc306_naming import model_token
from batchcheck.scan import ScanOptions, scan
from batchcheck.sweep import Configuration, Sweep, load_sweep

if TYPE_CHECKING:
    from batchcheck.progress import Progress

SUFFIX_DIGITS = 8


@dataclass(frozen=True)
class PlanItem:
    """One configuration: the shared experiment that holds it, or the one to generate."""

    config: Configuration
    fingerprint: str
    experiment: str  # the existing experiment's name, or the name to generate it under
    reuse: Experiment | None = None
    also: tuple[str, ...] = ()  # other shared experiments with the same fingerprint
    near: tuple[NearMiss, ...] = ()  # to generate: the closest stored experiments

    @property
    def near_miss(self) -> bool:
        """A configuration to generate whose nearest stored experiment differs in one parameter
        only, and not one the sweep varies: most likely a slip in the sweep's base."""
        return any(
            len(near.differences) == 1 and not self.config.varies(near.differences[0].path)
            for near in self.near
        )

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
    nearest: NearIndex | None = None  # built for the first configuration to generate
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
        if nearest is None:
            nearest = NearIndex(store.experiments.values(), settings.fingerprint_fields)
        near = nearest.nearest(config.dataset, config.params())
        items.append(PlanItem(config, value, final, near=near))
    return Plan(sweep, batch, tuple(items))


@dataclass(frozen=True)
class PlanRun:
    """``plan``: the sweep laid against the store, and what linking the reused part did."""

    plan: Plan
    sweep_name: str  # the sweep file as the user named it
    apply: bool
    links: LinkRun  # the steps for the reused configurations (written with apply)

    @property
    def applied(self) -> bool:
        """Whether ``--apply`` wrote every link it had to."""
        return self.apply and not self.links.dry_run and not self.links.failure

    def steps(self) -> dict[tuple[str, str], LinkStep]:
        """The link step of each reused configuration, by (dataset, experiment)."""
        return {(step.dataset, step.experiment): step for step in self.links.steps}

    def shared_path(self, item: PlanItem) -> Path:
        """Where the configuration's experiment is (or will be) stored."""
        return self.links.root / SHARED / item.config.dataset / item.experiment

    def to_json(self, cwd: Path) -> dict[str, Any]:
        """Every configuration with its status, link and parameters (``--format json``)."""
        steps = self.steps()
        root, plan = self.links.root, self.plan
        items = []
        for item in plan.items:
            step = steps.get((item.config.dataset, item.experiment)) if item.reuse else None
            items.append(
                {
                    "dataset": item.config.dataset,
                    "experiment_name": item.experiment,
                    "status": "reuse" if item.reuse else "generate",
                    "parameter_fingerprint": item.fingerprint,
                    "sweep_values": dict(item.config.values),
                    "shared_path": shown_path(self.shared_path(item), cwd),
                    "original_batch": item.original_batch,
                    "also_stored_as": list(item.also),
                    "link": step.to_json(root, cwd) if step else None,
                    "generation": dict(item.config.generation),
                    "validation": dict(item.config.validation),
                    "near_misses": [near.to_json(cwd) for near in item.near],
                    "metadata": None if item.reuse else record(item, plan.batch, plan.sweep),
                }
            )
        doc: dict[str, Any] = {
            "sweep": shown_path(plan.sweep.path, cwd),
            "batch": plan.batch,
            "applied": self.applied,
            "configurations": items,
            "summary": {
                "configurations": len(plan.items),
                "reuse": len(plan.reused),
                "generate": len(plan.to_generate),
                "linked_now": sum(step.done for step in self.links.steps),
            },
        }
        return self._with_check(doc, cwd)

    def to_generate_json(self, cwd: Path) -> dict[str, Any]:
        """Only what to generate (``--format yaml``): per configuration, where it will be
        stored, the complete metadata to register it with (``add --metadata``; ``created_at``
        is the pipeline's to set, or ``add``'s) and the nearest stored experiments."""
        plan = self.plan
        doc = {
            "batch": plan.batch,
            "generate": [
                {
                    "experiment": decoded(f"{item.config.dataset}/{item.experiment}"),
                    "shared_path": shown_path(self.shared_path(item), cwd),
                    "metadata": record(item, plan.batch, plan.sweep),
                    "near_misses": [near.to_json(cwd) for near in item.near],
                }
                for item in plan.to_generate
            ],
        }
        return self._with_check(doc, cwd)

    def _with_check(self, doc: dict[str, Any], cwd: Path) -> dict[str, Any]:
        if self.links.check is not None:
            doc["check"] = self.links.check_json(cwd)
        return doc


def plan_sweep(
    settings: Settings,
    sweep_path: Path,
    sweep_name: str,
    batch: str,
    apply: bool,
    dry_run: bool,
    progress: Progress | None = None,
) -> PlanRun:
    """Plan the sweep against one scan; with ``apply`` (and not ``dry_run``) link what exists
    into the batch and check it."""
    check_batch_name(batch)
    sweep = load_sweep(
        sweep_path, sweep_name, settings.metadata_schema, settings.max_sweep_configurations
    )
    options = ScanOptions.from_settings(settings, batches=(batch,), data=False)
    store = scan(settings.root, options, progress)
    try:
        plan = make_plan(sweep, store, settings, batch)
    except UsageError as exc:  # a configuration of the file is wrong: name the file
        raise UsageError(f"{sweep_name}: {exc}") from exc
    keys = [(item.config.dataset, item.experiment) for item in plan.reused]
    planned = link_steps(store, settings, batch, keys)
    links = carry_out(settings, batch, planned, dry_run=not apply or dry_run)
    return PlanRun(plan, sweep_name, apply, links)
