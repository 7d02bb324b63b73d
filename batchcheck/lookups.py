"""The lookups behind the seed's six tools: list, resolve and compare over a scanned store.

Each function reads a :class:`~batchcheck.store.Store` (never the disk) and returns a frozen
result. ``to_json(cwd)`` gives the stable JSON shape documented in the README (paths relative
to ``cwd`` when under it, as printed); ``formats/lookups_text.py`` lays out the seed's text.
A broken link or unreadable metadata never stops a listing: the entry is kept and carries
its problem.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batchcheck.config import Settings
from batchcheck.errors import NotFound
from batchcheck.index import StoreIndex
from batchcheck.layout import BATCH_PREFIX, SHARED
from batchcheck.model import Batch, DataState, Experiment, Link, LinkState, Store, Stray
from batchcheck.names import display, shown_path

# Metadata keys that listings show and put in their JSON, in the seed's order.
SHOWN_FIELDS = (
    "created_at",
    "original_batch",
    "parameter_fingerprint",
    "generation",
    "validation",
    "experiment_purpose",
    "experiment_description",
)
Json = dict[str, Any]


# -- shared pieces -----------------------------------------------------------------------------


def rel(*parts: str) -> str:
    """A store path relative to the root, as the seed's "Batch view" lines show it."""
    return display("/".join(parts))


def under_root(root: Path, path: Path) -> str:
    """A path the scan met, relative to the root (messages about the store's own folders)."""
    try:
        return display(str(path.relative_to(root)))
    except ValueError:
        return display(str(path))


def data_path(folder: Path | str, dataset: str) -> str:
    """The training data path ``<experiment>/<Dataset>`` (SPEC section 1), as text: listings
    show hundreds of thousands of them, and a Path each costs more than the rest of a line."""
    return f"{os.fspath(folder)}{os.sep}{dataset}"


def link_problem(link: Link) -> str | None:
    """Why a link does not lead to its shared experiment, or None when it does."""
    if link.state is LinkState.OK:
        return None
    detail = f": {link.detail}" if link.detail else ""
    return f"link {link.state.value}{detail} ({display(link.target)})"


def metadata_problem(exp: Experiment | None) -> str | None:
    """Why an experiment's metadata cannot be shown, or None (also when it was not read)."""
    if exp is None or exp.metadata.state == "unread":
        return None
    if not exp.metadata.ok:
        return f"metadata: {exp.metadata.error}"
    if not isinstance(exp.metadata.data, dict):
        return f"metadata: not a JSON object (it is {type(exp.metadata.data).__name__})"
    return None


def stray_problem(stray: Stray) -> str:
    """What a non-link entry in a batch is (copied data, a symlink checked out as a file)."""
    text = f"not a symlink: a {stray.kind}"
    if stray.pointer:
        text += f" holding the path {display(stray.pointer)}"
    return text


def _link_json(link: Link) -> Json:
    return {
        "target": display(link.target),
        "state": link.state.value,
        "detail": link.detail,
    }


def _metadata_json(exp: Experiment | None) -> Json:
    """The shown metadata fields (null when absent) plus how the file was read."""
    out: Json = {name: exp.metadata.fields.get(name) if exp else None for name in SHOWN_FIELDS}
    out["metadata"] = {"state": exp.metadata.state, "error": exp.metadata.error} if exp else None
    return out


@dataclass(frozen=True)
class Reuse:
    """SPEC section 4: new in the batch its ``original_batch`` names, reused elsewhere."""

    status: str  # "new", "reused" or "unknown" (no metadata to tell)
    original_batch: str | None

    def to_json(self) -> Json:
        """``{"status", "original_batch"}``."""
        return {"status": self.status, "original_batch": self.original_batch}


def reuse(batch: str, exp: Experiment | None) -> Reuse:
    """How ``batch`` holds ``exp``; an original batch that no longer exists is still named."""
    original = exp.metadata.fields.get("original_batch") if exp else None
    if not isinstance(original, str):
        return Reuse("unknown", None)
    return Reuse("new" if original == batch else "reused", display(original))


def check_dataset(dataset: str | None, known: Iterable[str], where: str) -> None:
    """NotFound naming an unknown ``--dataset`` and the datasets that exist there."""
    names = sorted(set(known))
    if dataset is not None and dataset not in names:
        listed = ", ".join(display(n) for n in names) or "none"
        raise NotFound(f"unknown dataset {display(dataset)!r} in {where} (known: {listed})")


def find_batch(store: Store, name: str) -> Batch:
    """The scanned batch ``name`` as a folder; NotFound when the store has no such batch."""
    batch = store.batches.get(name)
    if batch is None or not_a_folder(batch):
        raise NotFound(
            f"unknown batch {display(name)!r} in {shown_path(store.root)} "
            "(see 'batchcheck list-batches')"
        )
    return batch


def not_a_folder(batch: Batch) -> bool:
    """A ``batch_*`` entry that is a file or a symlink: the scan keeps it as its own stray."""
    return any(stray.path == batch.path for stray in batch.strays)


def batch_name(text: str, root: Path, cwd: Path) -> str:
    """A batch given by name (``batch_x``, ``batch_x/``) or by its path; NotFound otherwise."""
    name = text.rstrip("/")
    if "/" in name:
        path = Path(os.path.abspath(cwd / name))
        name = path.name if path.parent == root else ""
    if not name.startswith(BATCH_PREFIX):
        raise NotFound(f"unknown batch {display(text)!r}: a batch is a batch_* folder of the store")
    return name


# -- list-batches ------------------------------------------------------------------------------


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
                    "name": display(batch.name),
                    "path": shown_path(batch.path, cwd),
                    "experiments": sum(len(links) for links in batch.datasets.values()),
                    "datasets": [
                        {
                            "name": display(dataset),
                            "experiments": [
                                {"name": display(link.name), "link": _link_json(link)}
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


# -- list-batch-experiments ----------------------------------------------------------------------


@dataclass(frozen=True)
class BatchExperiment:
    """One link of a batch, the shared experiment it leads to, and its reuse status."""

    link: Link
    experiment: Experiment | None
    reuse: Reuse

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
        found = (link_problem(self.link), metadata_problem(self.experiment))
        return tuple(p for p in found if p)

    def to_json(self, cwd: Path) -> Json:
        """One experiment entry of ``list-batch-experiments``."""
        return {
            "name": display(self.link.name),
            "dataset": display(self.link.dataset),
            "batch_view": self.batch_view,
            "physical_storage": self.physical,
            "data_path": shown_path(data_path(self.link.path, self.link.dataset), cwd),
            "link": _link_json(self.link),
            "reuse": self.reuse.to_json(),
            **_metadata_json(self.experiment),
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
            "batch": display(self.batch.name),
            "path": shown_path(self.batch.path, cwd),
            "experiments": self.count,
            "datasets": [
                {
                    "name": display(dataset),
                    "experiments": [entry.to_json(cwd) for entry in entries],
                    "strays": [
                        {"name": display(s.name), "problem": stray_problem(s)} for s in strays
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
            entries.append(BatchExperiment(link, exp, reuse(batch.name, exp)))
        strays = tuple(s for s in batch.strays if s.dataset == ds)
        sections.append((ds, tuple(entries), strays))
    return BatchExperiments(batch, tuple(sections))


# -- list-shared-experiments ---------------------------------------------------------------------


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
                    "name": display(dataset),
                    "experiments": [
                        {
                            "name": display(exp.name),
                            "path": shown_path(exp.path, cwd),
                            **_metadata_json(exp),
                            "problems": [p for p in (metadata_problem(exp),) if p],
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


# -- list-data-paths -----------------------------------------------------------------------------


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

    def to_json(self, cwd: Path) -> Json:
        """One entry: the recommended ``path`` to paste into a training config, and the rest."""
        return {
            "dataset": display(self.dataset),
            "experiment": display(self.name),
            "path": shown_path(self.recommended, cwd),
            "batch_paths": [
                {
                    "batch": display(link.batch),
                    "path": shown_path(data_path(link.location, link.dataset), cwd),
                    "link": link.state.value,
                }
                for link in self.links
            ],
            "shared_path": shown_path(data_path(self.shared, self.dataset), cwd),
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class DataPathList:
    """``list-data-paths``: one entry per experiment, sorted by dataset and name."""

    root: Path
    entries: tuple[DataPaths, ...]

    def to_json(self, cwd: Path) -> Json:
        """``{"root", "data_paths": [...]}``: the same shape for json and yaml."""
        return {
            "root": shown_path(self.root, cwd),
            "data_paths": [entry.to_json(cwd) for entry in self.entries],
        }


def data_paths(store: Store, batch: str | None = None, dataset: str | None = None) -> DataPathList:
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
    return DataPathList(store.root, tuple(entries))


# -- resolve-data-path ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PathQuery:
    """What a PATH names in the store: a batch link or a shared experiment."""

    path: Path
    kind: str  # "batch" or "shared"
    batch: str | None
    dataset: str
    name: str


def parse_store_path(text: str, root: Path, cwd: Path) -> PathQuery:
    """Place PATH (relative to ``cwd`` or absolute) in the store; NotFound when it names nothing.

    Accepts ``<batch>/<Dataset>/<exp>`` and ``_shared/<Dataset>/<exp>``, each with or without
    the training data folder ``/<Dataset>`` (or a file below it).
    """
    path = Path(os.path.abspath(cwd / text))
    parts: tuple[str, ...] | None = None
    for base in dict.fromkeys((str(root), os.path.realpath(root))):
        if str(path) == base:
            parts = ("",)
        elif str(path).startswith(base.rstrip(os.sep) + os.sep):
            parts = Path(str(path)[len(base.rstrip(os.sep)) + 1 :]).parts
        if parts is not None:
            break
    if parts is None:
        raise NotFound(f"{display(text)}: outside the store {shown_path(root, cwd)}")
    top = parts[0]
    shape = len(parts) == 3 or (len(parts) >= 4 and parts[3] == parts[1])
    if not shape or not (top == SHARED or top.startswith(BATCH_PREFIX)):
        raise NotFound(
            f"{display(text)}: not an experiment path (expected <batch>/<Dataset>/<experiment> "
            f"or {SHARED}/<Dataset>/<experiment>, optionally with /<Dataset>)"
        )
    kind = "shared" if top == SHARED else "batch"
    return PathQuery(path, kind, None if kind == "shared" else top, parts[1], parts[2])


@dataclass(frozen=True)
class Resolution:
    """A batch path and its shared path, or a shared path and the batches that link it."""

    query: PathQuery
    shared: Path  # the shared experiment folder
    dataset: str  # the shared experiment's dataset
    links: tuple[Link, ...]  # the given link, or every link naming the shared experiment

    def to_json(self, cwd: Path) -> Json:
        """``{"query", "kind", "dataset", "experiment", "shared_path", ..., "batch_paths"}``."""
        return {
            "query": shown_path(self.query.path, cwd),
            "kind": self.query.kind,
            "dataset": display(self.dataset),
            "experiment": display(self.shared.name),
            "shared_path": shown_path(self.shared, cwd),
            "shared_data_path": shown_path(data_path(self.shared, self.dataset), cwd),
            "batch_paths": [
                {
                    "batch": display(link.batch),
                    "path": shown_path(link.path, cwd),
                    "data_path": shown_path(data_path(link.path, link.dataset), cwd),
                    "link": link.state.value,
                }
                for link in self.links
            ],
        }


def resolve_batch_path(store: Store, query: PathQuery) -> Resolution:
    """The shared experiment behind a batch link; NotFound when the link does not lead to one."""
    assert query.batch is not None
    batch = find_batch(store, query.batch)
    link = next((li for li in batch.datasets.get(query.dataset, ()) if li.name == query.name), None)
    shown = shown_path(query.path)
    if link is None:
        raise NotFound(f"{shown}: no such link in batch {display(batch.name)}")
    if link.state is not LinkState.OK or link.key is None:
        raise NotFound(f"{shown}: {link_problem(link)}")
    return Resolution(query, store.root / SHARED / link.key[0] / link.key[1], link.key[0], (link,))


def resolve_shared_path(store: Store, found: Store, query: PathQuery) -> Resolution:
    """Every batch link of ``store`` naming the shared experiment, which ``found`` must hold.

    No link is fine: an orphan is still found, it just has no batch path.
    """
    key = (query.dataset, query.name)
    if key not in found.experiments:
        raise NotFound(f"{shown_path(query.path)}: no shared experiment {display('/'.join(key))}")
    links = sorted(
        (link for link in store.links() if link.key == key),
        key=lambda li: (li.batch, li.dataset, li.name),
    )
    return Resolution(query, found.experiments[key].path, query.dataset, tuple(links))


# -- compare-experiments -------------------------------------------------------------------------


class _Missing:
    """A key one side lacks (deepdiff's ``notpresent``), shown as ``(missing)``, null in JSON."""

    def __repr__(self) -> str:
        return "(missing)"


MISSING: Any = _Missing()


def _json_value(value: Any) -> Any:
    return None if value is MISSING else value


def parameters(exp: Experiment, fields: Iterable[str]) -> dict[str, Any]:
    """The fingerprinted top-level keys of the metadata: what makes data differ."""
    data = exp.metadata.fields
    return {key: data[key] for key in fields if key in data}


def flatten(value: Any, prefix: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], Any]:
    """Leaves of nested dicts and lists keyed by their path (the paths deepdiff reports)."""
    if isinstance(value, dict) and value:
        out: dict[tuple[Any, ...], Any] = {}
        for key, item in value.items():
            out.update(flatten(item, (*prefix, key)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for i, item in enumerate(value):
            out.update(flatten(item, (*prefix, i)))
        return out
    return {prefix: value}


def dotted(path: Iterable[Any]) -> str:
    """``generation.stop[1]`` from ``("generation", "stop", 1)``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return display(out)


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
            "experiment1": _json_value(left),
            "experiment2": _json_value(right),
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
            "dataset": display(self.experiment.dataset),
            "name": display(self.experiment.name),
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


def shared_key(text: str) -> tuple[str, str]:
    """``Dataset/experiment`` (``_shared/`` in front and a trailing ``/`` are accepted)."""
    parts = [p for p in text.split("/") if p]
    if parts[:1] == [SHARED]:
        parts = parts[1:]
    if len(parts) != 2 or any(p in (".", "..") for p in parts):
        raise NotFound(
            f"{display(text)}: expected Dataset/experiment, e.g. Copa/temp07_topp10_gpt4o"
        )
    return parts[0], parts[1]


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
    diff = DeepDiff(left, right, view="tree", ignore_numeric_type_changes=True)
    changed: list[tuple[tuple[Any, ...], Change]] = []
    for levels in diff.values():
        for level in levels:
            path = tuple(level.path(output_format="list"))
            values = tuple(MISSING if v is notpresent else v for v in (level.t1, level.t2))
            changed.append((path, Change(dotted(path), (values[0], values[1]))))
    order = list(flatten(left)) + [p for p in flatten(right) if p not in flatten(left)]
    changed.sort(key=lambda pc: _position(pc[0], order))

    def touched(leaf: tuple[Any, ...]) -> bool:
        return any(leaf[: len(p)] == p or p[: len(leaf)] == leaf for p, _ in changed)

    # The header names both datasets already; a shared top-level dataset adds nothing.
    same = tuple(
        (dotted(path), value)
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
                    "batch": display(side.batch),
                    "dataset": display(side.dataset),
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
                    "side1": [_json_value(x) for x in v.values[0]],
                    "side2": [_json_value(x) for x in v.values[1]],
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


def _sort_values(values: Iterable[Any]) -> tuple[Any, ...]:
    """Distinct values, numbers in order before everything else (compared as text)."""
    unique = {repr(v): v for v in values}.values()

    def key(v: Any) -> tuple[int, float, str]:
        number = isinstance(v, (int, float)) and not isinstance(v, bool)
        return (0, float(v), "") if number else (1, 0.0, repr(v))

    return tuple(sorted(unique, key=key))


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
    for path in sorted(paths, key=dotted):
        per_side = tuple(
            _sort_values(flat.get(path, MISSING) for flat in side.params.values()) for side in sides
        )
        if len({repr(v) for values in per_side for v in values}) > 1:
            varying.append(Varying(dotted(path), (per_side[0], per_side[1])))
    return BatchComparison(sides, both, only, tuple(varying))
