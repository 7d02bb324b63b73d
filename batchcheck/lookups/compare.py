"""``compare-experiments``: two shared experiments parameter by parameter (deepdiff), or two
batches' experiments paired by fingerprint."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batchcheck.config import Settings
from batchcheck.errors import NotFound
from batchcheck.index import StoreIndex
from batchcheck.layout import SHARED
from batchcheck.lookups.common import (
    MISSING,
    Json,
    check_dataset,
    dotted_path,
    find_batch,
    flatten,
    json_value,
    link_problem,
    metadata_problem,
    parameters,
    sort_values,
)
from batchcheck.model import Experiment, Store
from batchcheck.names import decoded, display, shown_path


@dataclass(frozen=True)
class Change:
    """A parameter whose value differs; ``MISSING`` stands for a key one side lacks."""

    path: str
    values: tuple[Any, Any]

    def to_json(self) -> Json:
        """``{"path", "experiment1", "experiment2", "change"}``."""
        left, right = self.values
        kind = "added" if left is MISSING else "removed" if right is MISSING else "changed"
        return {
            "path": self.path,
            "experiment1": json_value(left),
            "experiment2": json_value(right),
            "change": kind,
        }


@dataclass(frozen=True)
class Side:
    """One compared experiment and its fingerprints (recomputed and stored)."""

    experiment: Experiment
    fingerprint: str | None
    stored: str | None

    @property
    def label(self) -> str:
        """``Dataset/experiment``."""
        return display(f"{self.experiment.dataset}/{self.experiment.name}")

    def to_json(self, cwd: Path) -> Json:
        """``{"dataset", "name", "path", "fingerprint", "stored_fingerprint", "problems"}``."""
        return {
            "dataset": decoded(self.experiment.dataset),
            "name": decoded(self.experiment.name),
            "path": shown_path(self.experiment.path, cwd),
            "fingerprint": self.fingerprint,
            "stored_fingerprint": self.stored,
            "problems": [p for p in (metadata_problem(self.experiment),) if p],
        }


def _side(exp: Experiment, index: StoreIndex) -> Side:
    stored = exp.metadata.fields.get("parameter_fingerprint")
    return Side(exp, index.recomputed(exp), stored if isinstance(stored, str) else None)


@dataclass(frozen=True)
class Comparison:
    """``compare-experiments --shared A --shared B``: same and different parameters, verdict."""

    sides: tuple[Side, Side]
    same: tuple[tuple[str, Any], ...]
    different: tuple[Change, ...]

    @property
    def verdict(self) -> str:
        """``same`` (the data can be shared), ``different`` or ``unknown`` (no fingerprint)."""
        left, right = (side.fingerprint for side in self.sides)
        if left is None or right is None:
            return "unknown"
        return "same" if left == right else "different"

    def to_json(self, cwd: Path) -> Json:
        """``{"experiments": [2], "same": [{"path", "value"}], "different": [...], "verdict"}``."""
        return {
            "experiments": [side.to_json(cwd) for side in self.sides],
            "same": [{"path": path, "value": value} for path, value in self.same],
            "different": [change.to_json() for change in self.different],
            "verdict": self.verdict,
            "can_share_data": self.verdict == "same",
        }


def compare_shared(
    store: Store, settings: Settings, keys: tuple[tuple[str, str], tuple[str, str]]
) -> Comparison:
    """Diff the two experiments' parameters with deepdiff, leaf by leaf."""
    from deepdiff import DeepDiff
    from deepdiff.helper import notpresent

    for key in keys:
        if key not in store.experiments:
            raise NotFound(f"no shared experiment {display('/'.join(key))} in {SHARED}/")
    index = StoreIndex(store, settings)
    exps = [store.experiments[key] for key in keys]
    sides = (_side(exps[0], index), _side(exps[1], index))
    if any(metadata_problem(exp) for exp in exps):
        return Comparison(sides, (), ())
    fields = settings.fingerprint_fields
    left, right = (parameters(exp, fields) for exp in exps)
    try:
        diff = DeepDiff(left, right, view="tree", ignore_numeric_type_changes=True)
    except OverflowError:  # an integer of 310+ digits: deepdiff formats numbers as floats
        diff = DeepDiff(left, right, view="tree")
    changed: list[tuple[tuple[Any, ...], Change]] = []
    for levels in diff.values():
        for level in levels:
            path = tuple(level.path(output_format="list"))
            values = tuple(MISSING if v is notpresent else v for v in (level.t1, level.t2))
            changed.append((path, Change(dotted_path(path), (values[0], values[1]))))
    order = list(flatten(left)) + [p for p in flatten(right) if p not in flatten(left)]
    changed.sort(key=lambda pc: _position(pc[0], order))

    def touched(leaf: tuple[Any, ...]) -> bool:
        return any(leaf[: len(p)] == p or p[: len(leaf)] == leaf for p, _ in changed)

    # The header names both datasets already; a shared top-level dataset adds nothing.
    same = tuple(
        (dotted_path(path), value)
        for path, value in flatten(left).items()
        if path and not touched(path) and path != ("dataset",)
    )
    return Comparison(sides, same, tuple(change for _, change in changed))


def _position(path: tuple[Any, ...], order: list[tuple[Any, ...]]) -> int:
    """Where a changed path first appears among the leaves (metadata order, as the seed)."""
    for i, leaf in enumerate(order):
        if leaf[: len(path)] == path or path[: len(leaf)] == leaf:
            return i
    return len(order)


@dataclass(frozen=True)
class BatchSideResult:
    """One side of the batch form: a batch's dataset and its experiments by fingerprint."""

    batch: str
    dataset: str
    fingerprints: Mapping[str, tuple[str, ...]]  # fingerprint -> link names
    params: Mapping[str, dict[tuple[Any, ...], Any]]  # link name -> flattened parameters
    skipped: tuple[tuple[str, str], ...]  # (link name, why it could not be compared)

    @property
    def count(self) -> int:
        """How many experiments the side holds, compared or not."""
        return len(self.params) + len(self.skipped)


@dataclass(frozen=True)
class Varying:
    """A parameter with more than one value across both sides, and the values on each."""

    path: str
    values: tuple[tuple[Any, ...], tuple[Any, ...]]


@dataclass(frozen=True)
class BatchComparison:
    """``compare-experiments --batch1 ... --batch2 ...``: configurations paired by fingerprint."""

    sides: tuple[BatchSideResult, BatchSideResult]
    both: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]
    only: tuple[tuple[tuple[str, tuple[str, ...]], ...], tuple[tuple[str, tuple[str, ...]], ...]]
    varying: tuple[Varying, ...]

    def to_json(self, cwd: Path) -> Json:
        """``{"sides", "both", "only_1", "only_2", "varying"}``; fingerprints are 32 digits."""

        def configs(items: Iterable[tuple[str, tuple[str, ...]]]) -> list[Json]:
            return [{"fingerprint": fp, "experiments": list(names)} for fp, names in items]

        return {
            "sides": [
                {
                    "batch": decoded(side.batch),
                    "dataset": decoded(side.dataset),
                    "experiments": side.count,
                    "skipped": [{"name": n, "problem": why} for n, why in side.skipped],
                }
                for side in self.sides
            ],
            "both": [
                {"fingerprint": fp, "side1": list(one), "side2": list(two)}
                for fp, one, two in self.both
            ],
            "only_1": configs(self.only[0]),
            "only_2": configs(self.only[1]),
            "varying": [
                {
                    "path": v.path,
                    "side1": [json_value(x) for x in v.values[0]],
                    "side2": [json_value(x) for x in v.values[1]],
                }
                for v in self.varying
            ],
        }


def _batch_side(store: Store, index: StoreIndex, batch: str, dataset: str) -> BatchSideResult:
    found = find_batch(store, batch)
    check_dataset(dataset, found.datasets, f"batch {display(batch)}")
    by_fp: dict[str, list[str]] = defaultdict(list)
    params: dict[str, dict[tuple[Any, ...], Any]] = {}
    skipped = []
    for link in found.datasets[dataset]:
        name = display(link.name)
        exp = store.experiments.get(link.key) if link.key else None
        why = link_problem(link) or metadata_problem(exp)
        fp = index.recomputed(exp) if exp and not why else None
        if exp is None or fp is None:
            skipped.append((name, why or "the fingerprint cannot be computed"))
            continue
        by_fp[fp].append(name)
        params[name] = flatten(parameters(exp, index.settings.fingerprint_fields))
    ordered = sorted(by_fp.items(), key=lambda item: item[1])
    fingerprints = {fp: tuple(names) for fp, names in ordered}
    return BatchSideResult(batch, dataset, fingerprints, params, tuple(skipped))


def compare_batches(
    store: Store, settings: Settings, one: tuple[str, str], two: tuple[str, str]
) -> BatchComparison:
    """Pair two (batch, dataset) sides by fingerprint and list the parameters that vary."""
    index = StoreIndex(store, settings)
    sides = (_batch_side(store, index, *one), _batch_side(store, index, *two))
    a, b = (side.fingerprints for side in sides)
    both = tuple((fp, a[fp], b[fp]) for fp in a if fp in b)
    only = (
        tuple((fp, names) for fp, names in a.items() if fp not in b),
        tuple((fp, names) for fp, names in b.items() if fp not in a),
    )
    paths: dict[tuple[Any, ...], None] = {}
    for side in sides:
        for flat in side.params.values():
            paths.update(dict.fromkeys(flat))
    varying = []
    for path in sorted(paths, key=dotted_path):
        per_side = tuple(
            sort_values(flat.get(path, MISSING) for flat in side.params.values()) for side in sides
        )
        if len({repr(v) for values in per_side for v in values}) > 1:
            varying.append(Varying(dotted_path(path), (per_side[0], per_side[1])))
    return BatchComparison(sides, both, only, tuple(varying))
