"""Near misses: the stored experiments closest to a configuration that is about to be generated.

A configuration and a stored experiment of its dataset are compared leaf by leaf over their
fingerprinted parameters (``generation.top_p``, ``validation.model``, ...; the dataset is the
same by construction). Numbers compare as the fingerprint writes them (``1.0`` is ``1``; a
boolean is no number). The distance is how many leaves differ: a changed value, or a key only
one side has. The nearest experiments are those at the smallest distance.

A sweep is laid against every experiment of a dataset, which may be 100k. Instead of a Python
comparison per pair, each leaf of a configuration costs two counter updates (done in C) over
inverted indexes: the experiments holding that key, and those holding it with that value.
"""

from __future__ import annotations

import heapq
import json
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batchcheck.lookups.common import MISSING, Json, dotted_path, flatten, json_value, parameters
from batchcheck.model import Experiment
from batchcheck.names import decoded, shown_path

NEAREST = 3  # experiments shown per configuration, at most (the nearest, ties by name)

Leaf = tuple[Any, ...]


def _same(value: Any) -> Hashable:
    """What two leaves must share to be equal: the value as the fingerprint hashes it."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, (int, float)):
        return ("number", int(value) if isinstance(value, float) and value.is_integer() else value)
    return ("json", json.dumps(value, sort_keys=True))  # an empty {} or [] leaf


@dataclass(frozen=True)
class Difference:
    """One parameter that differs, stored -> planned (``MISSING``: that side lacks the key)."""

    path: str
    stored: Any
    planned: Any

    def to_json(self) -> Json:
        """``{"path", "stored", "planned", "change"}``: ``added`` when only the plan has the key,
        ``removed`` when only the stored experiment has it."""
        kind = (
            "added"
            if self.stored is MISSING
            else "removed"
            if self.planned is MISSING
            else "changed"
        )
        return {
            "path": self.path,
            "stored": json_value(self.stored),
            "planned": json_value(self.planned),
            "change": kind,
        }


@dataclass(frozen=True)
class NearMiss:
    """A stored experiment close to a planned configuration, and exactly how they differ."""

    experiment: Experiment
    differences: tuple[Difference, ...]

    def to_json(self, cwd: Path) -> Json:
        """``{"experiment", "shared_path", "differing", "differences": [...]}``."""
        return {
            "experiment": decoded(self.experiment.name),
            "shared_path": shown_path(self.experiment.path, cwd),
            "differing": len(self.differences),
            "differences": [difference.to_json() for difference in self.differences],
        }


class _Dataset:
    """The stored experiments of one dataset, indexed by the leaves of their parameters."""

    def __init__(self) -> None:
        self.experiments: list[Experiment] = []
        self.leaves: list[dict[Leaf, Any]] = []
        self.by_key: dict[Leaf, list[int]] = defaultdict(list)
        self.by_value: dict[tuple[Leaf, Hashable], list[int]] = defaultdict(list)

    def add(self, exp: Experiment, leaves: dict[Leaf, Any]) -> None:
        number = len(self.experiments)
        self.experiments.append(exp)
        self.leaves.append(leaves)
        for leaf, value in leaves.items():
            self.by_key[leaf].append(number)
            self.by_value[(leaf, _same(value))].append(number)

    def nearest(self, wanted: dict[Leaf, Any], limit: int) -> list[NearMiss]:
        shared_keys: Counter[int] = Counter()
        shared_values: Counter[int] = Counter()
        for leaf, value in wanted.items():
            shared_keys.update(self.by_key.get(leaf, ()))
            shared_values.update(self.by_value.get((leaf, _same(value)), ()))
        size = len(wanted)
        # Differing leaves: the union of both key sets minus the leaves with equal values.
        distance = [
            size + len(leaves) - shared_keys[i] - shared_values[i]
            for i, leaves in enumerate(self.leaves)
        ]
        names = [exp.name for exp in self.experiments]
        best = heapq.nsmallest(limit, range(len(names)), key=lambda i: (distance[i], names[i]))
        return [
            NearMiss(self.experiments[i], _differences(self.leaves[i], wanted))
            for i in best
            if distance[i] == distance[best[0]]
        ]


def _differences(stored: Mapping[Leaf, Any], planned: Mapping[Leaf, Any]) -> tuple[Difference, ...]:
    """Every leaf that differs, in the plan's order, then the keys only the stored one has."""
    leaves = [*planned, *(leaf for leaf in stored if leaf not in planned)]
    return tuple(
        Difference(dotted_path(leaf), stored.get(leaf, MISSING), planned.get(leaf, MISSING))
        for leaf in leaves
        if leaf not in stored or leaf not in planned or _same(stored[leaf]) != _same(planned[leaf])
    )


def _leaves(params: Mapping[str, Any]) -> dict[Leaf, Any]:
    """The leaves that can differ within a dataset (the dataset itself is left out)."""
    return flatten({key: value for key, value in params.items() if key != "dataset"})


class NearIndex:
    """Every stored experiment whose parameters can be fingerprinted, by dataset."""

    def __init__(self, experiments: Iterable[Experiment], fields: Sequence[str]) -> None:
        self.fields = tuple(fields)
        self.datasets: dict[str, _Dataset] = defaultdict(_Dataset)
        for exp in experiments:
            if exp.metadata.fingerprint is not None:
                self.datasets[exp.dataset].add(exp, _leaves(parameters(exp, self.fields)))

    def nearest(
        self, dataset: str, params: Mapping[str, Any], limit: int = NEAREST
    ) -> tuple[NearMiss, ...]:
        """The stored experiments of ``dataset`` with the fewest differing parameters (at most
        ``limit``, by name), each with its differences; none when the dataset has none."""
        found = self.datasets.get(dataset)
        if found is None or not found.experiments:
            return ()
        wanted = {key: params[key] for key in self.fields if key in params}
        return tuple(found.nearest(_leaves(wanted), limit))
