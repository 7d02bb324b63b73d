"""``list-batches``, ``list-batch-experiments``, ``list-shared-experiments`` and
``list-data-paths``: each a function of the store returning a frozen result."""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from batchcheck.layout import SHARED
from batchcheck.lookups.common import (
    Json,
    ReuseStatus,
    check_dataset,
    data_path,
    find_batch,
    link_json,
    link_problem,
    metadata_json,
    metadata_problems,
    rel,
    reuse_status,
    stray_problem,
    under_root,
)
from batchcheck.model import Batch, DataState, Experiment, Link, LinkState, Store, Stray
from batchcheck.names import decoded, display, shown_path


def batch_issues(batch: Batch, links: bool = True, strays: bool = True) -> list[str]:
    """Every broken link, stray entry (unless left out) and unreadable folder of a batch."""
    out = [
        f"{rel(link.dataset, link.name)}: {link_problem(link)}"
        for link in batch.links
        if links and link.state is not LinkState.OK
    ]
    for stray in batch.strays if strays else ():
        if stray.path == batch.path:
            out.append(f"not a folder: a {stray.kind}")
            continue
        where = stray.name if stray.dataset is None else f"{stray.dataset}/{stray.name}"
        out.append(f"{display(where)}: {stray_problem(stray)}")
    out.extend(f"{under_root(batch.path.parent, p.path)}: {p.message}" for p in batch.problems)
    return out


@dataclass(frozen=True)
class BatchList:
    """``list-batches``: every batch with its datasets and links, sorted by name."""

    root: Path
    batches: tuple[Batch, ...]

    def to_json(self, cwd: Path) -> Json:
        """``{"root", "batches": [{"name", "path", "experiments", "datasets", "problems"}]}``."""
        return {
            "root": shown_path(self.root, cwd),
            "batches": [
                {
                    "name": decoded(batch.name),
                    "path": shown_path(batch.path, cwd),
                    "experiments": sum(len(links) for links in batch.datasets.values()),
                    "datasets": [
                        {
                            "name": decoded(dataset),
                            "experiments": [
                                {"name": decoded(link.name), "link": link_json(link)}
                                for link in links
                            ],
                        }
                        for dataset, links in sorted(batch.datasets.items())
                    ],
                    "problems": list(batch_issues(batch)),
                }
                for batch in self.batches
            ],
        }


def list_batches(store: Store) -> BatchList:
    """The batches of a store scanned without metadata (``shared="none"``)."""
    return BatchList(store.root, tuple(store.batches[name] for name in sorted(store.batches)))


@dataclass(frozen=True)
class BatchExperiment:
    """One link of a batch, the shared experiment it leads to, and its reuse status."""

    link: Link
    experiment: Experiment | None
    reuse: ReuseStatus

    @property
    def batch_view(self) -> str:
        """``<batch>/<Dataset>/<experiment>``, relative to the root as in the seed."""
        return rel(self.link.batch, self.link.dataset, self.link.name)

    @property
    def physical(self) -> str | None:
        """``_shared/<Dataset>/<experiment>`` when the link leads there."""
        key = self.link.key
        return rel(SHARED, *key) if key and self.experiment else None

    @property
    def problems(self) -> tuple[str, ...]:
        """The link's problem, then the metadata's."""
        broken = link_problem(self.link)
        return ((broken,) if broken else ()) + metadata_problems(self.experiment)

    def to_json(self, cwd: Path) -> Json:
        """One experiment entry of ``list-batch-experiments``."""
        return {
            "name": decoded(self.link.name),
            "dataset": decoded(self.link.dataset),
            "batch_view": self.batch_view,
            "physical_storage": self.physical,
            "data_path": shown_path(data_path(self.link.path, self.link.dataset), cwd),
            "link": link_json(self.link),
            "reuse": self.reuse.to_json(),
            **metadata_json(self.experiment),
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class BatchExperiments:
    """``list-batch-experiments``: a batch's experiments per dataset (one dataset if asked)."""

    batch: Batch
    datasets: tuple[tuple[str, tuple[BatchExperiment, ...], tuple[Stray, ...]], ...]

    @property
    def count(self) -> int:
        """How many experiments (links) are listed."""
        return sum(len(entries) for _, entries, _ in self.datasets)

    def to_json(self, cwd: Path) -> Json:
        """``{"batch", "path", "experiments", "datasets": [{"name", "experiments", "strays"}]}``."""
        return {
            "batch": decoded(self.batch.name),
            "path": shown_path(self.batch.path, cwd),
            "experiments": self.count,
            "datasets": [
                {
                    "name": decoded(dataset),
                    "experiments": [entry.to_json(cwd) for entry in entries],
                    "strays": [
                        {"name": decoded(s.name), "problem": stray_problem(s)} for s in strays
                    ],
                }
                for dataset, entries, strays in self.datasets
            ],
            "problems": batch_issues(self.batch, links=False, strays=False),
        }


def batch_experiments(store: Store, name: str, dataset: str | None = None) -> BatchExperiments:
    """The experiments batch ``name`` links, with the metadata the scan read for them."""
    batch = find_batch(store, name)
    check_dataset(dataset, batch.datasets, f"batch {display(name)}")
    sections = []
    for ds in sorted(batch.datasets):
        if dataset is not None and ds != dataset:
            continue
        entries = []
        for link in batch.datasets[ds]:
            exp = store.experiments.get(link.key) if link.key else None
            exp = exp if link.state is LinkState.OK else None
            entries.append(BatchExperiment(link, exp, reuse_status(batch.name, exp)))
        strays = tuple(s for s in batch.strays if s.dataset == ds)
        sections.append((ds, tuple(entries), strays))
    return BatchExperiments(batch, tuple(sections))


@dataclass(frozen=True)
class SharedExperiments:
    """``list-shared-experiments``: the physical experiments in ``_shared``, per dataset."""

    root: Path
    datasets: tuple[tuple[str, tuple[Experiment, ...]], ...]
    problems: tuple[str, ...]

    @property
    def count(self) -> int:
        """How many experiments are listed."""
        return sum(len(exps) for _, exps in self.datasets)

    def to_json(self, cwd: Path) -> Json:
        """``{"root", "experiments", "datasets": [{"name", "experiments": [...]}], "problems"}``."""
        return {
            "root": shown_path(self.root, cwd),
            "experiments": self.count,
            "datasets": [
                {
                    "name": decoded(dataset),
                    "experiments": [
                        {
                            "name": decoded(exp.name),
                            "path": shown_path(exp.path, cwd),
                            **metadata_json(exp),
                            "problems": list(metadata_problems(exp)),
                        }
                        for exp in exps
                    ],
                }
                for dataset, exps in self.datasets
            ],
            "problems": list(self.problems),
        }


def shared_experiments(store: Store, dataset: str | None = None) -> SharedExperiments:
    """Every experiment the scan read under ``_shared`` (one dataset if asked)."""
    grouped: dict[str, list[Experiment]] = defaultdict(list)
    for (ds, _), exp in sorted(store.experiments.items()):
        grouped[ds].append(exp)
    check_dataset(dataset, [*grouped, *store.shared_datasets], SHARED)
    sections = tuple(
        (ds, tuple(exps)) for ds, exps in sorted(grouped.items()) if dataset in (None, ds)
    )
    problems = tuple(f"{under_root(store.root, p.path)}: {p.message}" for p in store.problems)
    return SharedExperiments(store.root, sections, problems)


@dataclass(frozen=True)
class DataPaths:
    """The training data paths of one experiment: from each batch that links it, and shared."""

    dataset: str
    name: str
    shared: str  # the experiment folder under _shared
    exists: bool
    data: DataState
    links: tuple[Link, ...]

    @property
    def recommended(self) -> str:
        """The first working batch path, else the shared path."""
        for link in self.links:
            if link.state is LinkState.OK:
                return data_path(link.location, link.dataset)
        return data_path(self.shared, self.dataset)

    @property
    def problems(self) -> tuple[str, ...]:
        """What makes one of these paths unusable for training."""
        out = [] if self.exists else ["the shared experiment folder does not exist"]
        if self.exists and self.data not in (DataState.OK, DataState.UNCHECKED):
            out.append(f"training data folder {display(self.dataset)}: {self.data.value}")
        return tuple(out)

    def to_json(self, cwd: Path | None) -> Json:
        """One entry: the recommended ``path`` to paste into a training config, and the rest
        (``cwd`` None: every path absolute)."""
        return {
            "dataset": decoded(self.dataset),
            "experiment": decoded(self.name),
            "path": _shown(self.recommended, cwd),
            "batch_paths": [
                {
                    "batch": decoded(link.batch),
                    "path": _shown(data_path(link.location, link.dataset), cwd),
                    "link": link.state.value,
                }
                for link in self.links
            ],
            "shared_path": _shown(data_path(self.shared, self.dataset), cwd),
            "problems": list(self.problems),
        }


def _shown(path: Path | str, cwd: Path | None) -> str:
    return shown_path(path, cwd) if cwd is not None else display(os.fspath(path))


@dataclass(frozen=True)
class DataPathList:
    """``list-data-paths``: one entry per experiment, sorted by dataset and name."""

    root: Path
    entries: tuple[DataPaths, ...]
    absolute: bool = False  # every path absolute (a Hydra job that changes folder finds them)

    def to_json(self, cwd: Path) -> Json:
        """``{"root", "data_paths": [...]}``."""
        where = None if self.absolute else cwd
        return {
            "root": _shown(self.root, where),
            "data_paths": [entry.to_json(where) for entry in self.entries],
        }

    def to_config(self, cwd: Path) -> tuple[Json, list[str]]:
        """What pastes into a training config without a BC5xx finding: each usable experiment
        with its recommended ``path`` (a working batch path, else the shared path of an
        experiment no batch links), and, to show as comments, the experiments left out."""
        where = None if self.absolute else cwd
        usable = [entry for entry in self.entries if not entry.problems]
        left = [
            f"{display(entry.dataset)}/{display(entry.name)}: {'; '.join(entry.problems)}"
            for entry in self.entries
            if entry.problems
        ]
        paths = [
            {
                "dataset": decoded(entry.dataset),
                "experiment": decoded(entry.name),
                "path": _shown(entry.recommended, where),
            }
            for entry in usable
        ]
        return {"data_paths": paths}, left


def data_paths(
    store: Store, batch: str | None = None, dataset: str | None = None, absolute: bool = False
) -> DataPathList:
    """Every experiment's data paths; with ``batch``, only what that batch links."""
    batches = [find_batch(store, batch)] if batch is not None else store.batches.values()
    by_key: dict[tuple[str, str], list[Link]] = defaultdict(list)
    for each in batches:
        for link in each.links:
            by_key[
                link.key if link.state is LinkState.OK and link.key else (link.dataset, link.name)
            ].append(link)
    keys = set(by_key) if batch is not None else set(by_key) | set(store.experiments)
    known = [k[0] for k in keys] + (list(store.shared_datasets) if batch is None else [])
    check_dataset(dataset, known, f"batch {display(batch)}" if batch else "the store")
    entries = []
    for key in sorted(keys):
        if dataset not in (None, key[0]):
            continue
        exp = store.experiments.get(key)
        entries.append(
            DataPaths(
                dataset=key[0],
                name=key[1],
                shared=exp.location if exp else os.path.join(store.root, SHARED, *key),
                exists=exp is not None,
                data=exp.data if exp else DataState.UNCHECKED,
                links=tuple(sorted(by_key.get(key, ()), key=lambda li: (li.batch, li.name))),
            )
        )
    return DataPathList(store.root, tuple(entries), absolute)
