"""The public Python API (SPEC section 9): what training scripts and generation pipelines use
instead of the command line. Everything else in the package is private and may change.

``open_store()`` finds the store as the command line does and returns a :class:`Store`; each
method reads the store afresh and returns frozen dataclasses whose fields are the keys of the
matching command's ``--format json`` output (a flat list where the JSON groups by dataset:
each item then carries its ``dataset``). Paths are text, relative to the current folder when
under it, as the command line prints them; ``data_paths(absolute=True)`` gives them in full.

Errors are those of the command line: :class:`UsageError` for bad input (exit 2 there) and
:class:`NotFound` for a lookup that found nothing or an operation the store refuses (exit 1).
"""

from __future__ import annotations

import os
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar, Union

from batchcheck.errors import NotFound, UsageError

__all__ = [
    "AddResult",
    "Batch",
    "BatchDataset",
    "BatchLink",
    "BatchPath",
    "CheckResult",
    "Configuration",
    "DataBatchPath",
    "DataPath",
    "Difference",
    "Experiment",
    "Finding",
    "LinkResult",
    "LinkState",
    "LinkStep",
    "MetadataState",
    "NearMiss",
    "NotFound",
    "Plan",
    "Resolution",
    "Store",
    "UsageError",
    "open_store",
]

PathLike = Union[str, "os.PathLike[str]"]
T = TypeVar("T")


def _build(kind: Any, data: Any) -> Any:
    """``data`` (a JSON shape) as ``kind``: dataclasses field by field, tuples item by item."""
    origin = typing.get_origin(kind)
    if origin in (Union, types.UnionType):
        if data is None:
            return None
        (inner,) = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return _build(inner, data)
    if origin is tuple:
        return tuple(_build(typing.get_args(kind)[0], item) for item in data)
    if is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        # A key the JSON leaves out when it does not apply (a finding's ``line``) is None.
        made: Any = kind
        return made(**{f.name: _build(hints[f.name], data.get(f.name)) for f in fields(kind)})
    if origin is dict or kind is dict:
        return dict(data)
    return data


def _make(kind: type[T], data: Mapping[str, Any], **more: Any) -> T:
    built: T = _build(kind, {**data, **more})
    return built


# -- what the methods return ----------------------------------------------------------------------


@dataclass(frozen=True)
class LinkState:
    """Where a batch link leads: its target text and ``state`` (``ok``, ``dangling``,
    ``outside``, ``misplaced``, ``loop``, ``unreadable``)."""

    target: str
    state: str
    detail: str


@dataclass(frozen=True)
class BatchLink:
    """One link of a batch dataset folder."""

    name: str
    link: LinkState


@dataclass(frozen=True)
class BatchDataset:
    """A dataset folder of a batch and its links."""

    name: str
    experiments: tuple[BatchLink, ...]


@dataclass(frozen=True)
class Batch:
    """A batch (``list-batches``): its datasets, links and what is wrong in it."""

    name: str
    path: str
    experiments: int
    datasets: tuple[BatchDataset, ...]
    problems: tuple[str, ...]


@dataclass(frozen=True)
class MetadataState:
    """How ``experiment_metadata.json`` was read: ``ok``, ``missing``, ``unreadable``,
    ``too_large``, ``invalid``, ``unread``."""

    state: str
    error: str


@dataclass(frozen=True)
class Experiment:
    """A shared experiment (``list-shared-experiments``); metadata fields are None when absent.
    ``problems`` are the listing's ``❌`` lines (unreadable or invalid metadata, stale
    fingerprint)."""

    dataset: str
    name: str
    path: str
    created_at: Any
    original_batch: Any
    parameter_fingerprint: Any
    generation: Any
    validation: Any
    experiment_purpose: Any
    experiment_description: Any
    metadata: MetadataState | None
    problems: tuple[str, ...]


@dataclass(frozen=True)
class BatchPath:
    """A batch link of a resolved experiment, and its training data path."""

    batch: str
    path: str
    data_path: str
    link: str


@dataclass(frozen=True)
class Resolution:
    """``resolve-data-path``: a batch path and its shared path, or a shared path and every
    batch that links it (``kind``: ``batch`` or ``shared``)."""

    query: str
    kind: str
    dataset: str
    experiment: str
    shared_path: str
    shared_data_path: str
    batch_paths: tuple[BatchPath, ...]


@dataclass(frozen=True)
class DataBatchPath:
    """One batch's training data path of an experiment, and the state of its link."""

    batch: str
    path: str
    link: str


@dataclass(frozen=True)
class DataPath:
    """``list-data-paths``: an experiment's training data paths; ``path`` is the one to train
    on (a working batch path, else the shared path)."""

    dataset: str
    experiment: str
    path: str
    batch_paths: tuple[DataBatchPath, ...]
    shared_path: str
    problems: tuple[str, ...]


@dataclass(frozen=True)
class Finding:
    """One finding of ``check`` (``line``: of a training config, else None)."""

    code: str
    severity: str
    path: str
    message: str
    related: tuple[str, ...]
    line: int | None


@dataclass(frozen=True)
class CheckResult:
    """``check``: the findings and the summary (``errors``, ``warnings``, what was looked at)."""

    findings: tuple[Finding, ...]
    summary: dict[str, int]

    @property
    def ok(self) -> bool:
        """No error (what ``check`` exits 0 on, without ``--strict``)."""
        return self.summary.get("errors", 0) == 0


@dataclass(frozen=True)
class LinkStep:
    """One link of ``link`` or ``plan --apply``: ``action`` is ``create``, ``present``,
    ``conflict``, ``refused`` or ``failed``; ``created`` whether this run made it."""

    path: str
    target: str
    action: str
    created: bool
    detail: str


@dataclass(frozen=True)
class LinkResult:
    """``link``: every step and the check of the batch when it was written."""

    batch: str
    dry_run: bool
    links: tuple[LinkStep, ...]
    check: CheckResult | None


@dataclass(frozen=True)
class Difference:
    """A parameter in which a stored experiment differs from a planned configuration
    (``stored`` / ``planned`` None where that side lacks it: ``change`` is then ``added`` or
    ``removed``)."""

    path: str
    stored: Any
    planned: Any
    change: str


@dataclass(frozen=True)
class NearMiss:
    """A stored experiment nearest to a configuration to generate, and how it differs."""

    experiment: str
    shared_path: str
    differing: int
    differences: tuple[Difference, ...]


@dataclass(frozen=True)
class Configuration:
    """One configuration of a sweep: ``status`` ``reuse`` (stored as ``experiment_name``) or
    ``generate`` (then ``metadata`` is what to register it with, ``Store.add`` takes it as it
    is, and ``near_misses`` the closest stored experiments)."""

    dataset: str
    experiment_name: str
    status: str
    parameter_fingerprint: str
    sweep_values: dict[str, Any]
    shared_path: str
    original_batch: str | None
    also_stored_as: tuple[str, ...]
    link: LinkStep | None
    generation: dict[str, Any]
    validation: dict[str, Any]
    near_misses: tuple[NearMiss, ...]
    metadata: dict[str, Any] | None


@dataclass(frozen=True)
class Plan:
    """``plan``: every configuration of a sweep against the store, for one batch."""

    sweep: str
    batch: str
    applied: bool
    configurations: tuple[Configuration, ...]
    summary: dict[str, int]
    check: CheckResult | None

    @property
    def to_generate(self) -> tuple[Configuration, ...]:
        """The configurations the store does not hold."""
        return tuple(c for c in self.configurations if c.status == "generate")


@dataclass(frozen=True)
class AddResult:
    """``add``: what happened (``action``: ``add``, ``finish`` an interrupted add, ``present``
    nothing to do; ``done``: written by this call), the metadata, the link and the check."""

    dataset: str
    experiment: str
    shared_path: str
    data_path: str
    source: str
    mode: str
    action: str
    done: bool
    dry_run: bool
    files: int
    parameter_fingerprint: str
    metadata: dict[str, Any]
    link: LinkResult | None
    check: CheckResult | None


# -- the store ------------------------------------------------------------------------------------


def open_store(root: PathLike | None = None, *, cache: bool = True) -> Store:
    """The store at ``root``, or found as the command line finds it: ``BATCHCHECK_ROOT``, then
    ``root`` in the nearest ``pyproject.toml``'s ``[tool.batchcheck]``, then
    ``Data_v2/synthetic`` under the current folder. ``cache=False``: no metadata cache."""
    from batchcheck.config import load_settings

    cwd = Path.cwd()
    settings = load_settings(os.fspath(root) if root is not None else None, cwd)
    cache_dir = None
    if cache:
        from batchcheck.records import default_dir

        cache_dir = default_dir()
    return Store(settings, cache_dir)


class Store:
    """A Batch Scheme 3++ store. Each method reads what it needs afresh (a change made in
    between is seen) and returns frozen dataclasses."""

    def __init__(self, settings: Any, cache_dir: Path | None) -> None:
        self._settings = settings
        self._cache_dir = cache_dir

    @property
    def root(self) -> Path:
        """The store's root folder (absolute)."""
        path: Path = self._settings.root
        return path

    def __repr__(self) -> str:
        return f"batchcheck.Store({os.fspath(self.root)!r})"

    def _scan(self, **options: Any) -> Any:
        from batchcheck.scan import ScanOptions, scan

        how = ScanOptions.from_settings(self._settings, cache_dir=self._cache_dir, **options)
        return scan(self.root, how)

    def batches(self) -> tuple[Batch, ...]:
        """Every batch with its links (``list-batches``); no metadata is read."""
        from batchcheck.lookups.listing import list_batches

        store = self._scan(shared="none", metadata=False, data=False)
        doc = list_batches(store).to_json(Path.cwd())
        return tuple(_make(Batch, item) for item in doc["batches"])

    def experiments(self, dataset: str | None = None) -> tuple[Experiment, ...]:
        """The shared experiments with their metadata (``list-shared-experiments``), of one
        dataset if given."""
        from batchcheck.lookups.listing import shared_experiments

        chosen = (dataset,) if dataset is not None else None
        store = self._scan(batches=(), shared="all", datasets=chosen, data=False)
        doc = shared_experiments(store, dataset).to_json(Path.cwd())
        return tuple(
            _make(Experiment, item, dataset=group["name"])
            for group in doc["datasets"]
            for item in group["experiments"]
        )

    def resolve(self, path: PathLike) -> Resolution:
        """A batch path to its shared path, or a shared path to every batch linking it
        (``resolve-data-path``); ``path`` is relative to the current folder or absolute."""
        from batchcheck.lookups.resolve import (
            parse_store_path,
            resolve_batch_path,
            resolve_shared_path,
        )
        from batchcheck.scan import ScanOptions, load_experiments

        cwd = Path.cwd()
        query = parse_store_path(os.fspath(path), self.root, cwd)
        if query.batch is not None:
            store = self._scan(batches=(query.batch,), shared="none", metadata=False, data=False)
            result = resolve_batch_path(store, query)
        else:
            store = self._scan(shared="none", metadata=False, data=False)
            how = ScanOptions.from_settings(
                self._settings, batches=(), shared="linked", metadata=False, data=False
            )
            found = load_experiments(self.root, [(query.dataset, query.name)], how)
            result = resolve_shared_path(store, found, query)
        return _make(Resolution, result.to_json(cwd))

    def data_paths(
        self, batch: str | None = None, dataset: str | None = None, absolute: bool = False
    ) -> tuple[DataPath, ...]:
        """Training data paths (``list-data-paths``): what ``batch`` links, or every
        experiment; of one dataset if given; ``absolute``: every path in full."""
        from batchcheck.lookups.common import batch_name
        from batchcheck.lookups.listing import data_paths

        cwd = Path.cwd()
        if batch is None:
            chosen = (dataset,) if dataset is not None else None
            store = self._scan(shared="all", datasets=chosen, metadata=False)
            name = None
        else:
            name = batch_name(batch, self.root, cwd)
            store = self._scan(batches=(name,), shared="linked", metadata=False)
        doc = data_paths(store, name, dataset, absolute).to_json(cwd)
        return tuple(_make(DataPath, item) for item in doc["data_paths"])

    def check(self, select: Sequence[str] | str | None = None) -> CheckResult:
        """Every rule over the whole store (``check``), or only the codes or prefixes in
        ``select`` (``"BC1"``, ``["BC101", "BC2"]``); configured ``ignore`` still applies."""
        from batchcheck.engine import metadata_fields, run_check
        from batchcheck.findings import Selection
        from batchcheck.rules import check_codes

        settings = self._settings
        chosen = settings.select
        if select is not None:
            given = [select] if isinstance(select, str) else list(select)
            chosen = tuple(c.strip().upper() for text in given for c in text.split(",") if c)
            check_codes(chosen, "select")
        store = self._scan(keep=metadata_fields())
        result = run_check(store, settings, Selection(chosen, settings.ignore))
        return _make(CheckResult, result.to_json(Path.cwd()))

    def plan(
        self,
        sweep: PathLike,
        batch: str,
        *,
        apply: bool = False,
        dry_run: bool = False,
    ) -> Plan:
        """Lay the sweep file against the store for ``batch`` (``plan``); ``apply``: link
        every configuration the store holds into the batch and check it."""
        from batchcheck.linking import LinkError
        from batchcheck.planning import plan_sweep

        cwd = Path.cwd()
        result = plan_sweep(
            self._settings, cwd / sweep, os.fspath(sweep), batch, apply or dry_run, dry_run
        )
        if result.apply and result.links.failure:
            raise LinkError(result.links.failure)
        return _make(Plan, result.to_json(cwd), check=result.links.check_json(cwd))

    def add(
        self,
        experiment: str,
        source: PathLike,
        metadata: Mapping[str, Any] | PathLike,
        *,
        batch: str | None = None,
        copy: bool = False,
        dry_run: bool = False,
    ) -> AddResult:
        """Register freshly generated data as the shared experiment ``"Dataset/name"``
        (``add``): ``source`` is the data folder (moved in, or copied with ``copy``),
        ``metadata`` a mapping (a plan configuration's ``metadata``) or a metadata / plan
        file; ``batch``: link it there. Safe to call again after a crash."""
        from batchcheck.adding import add_experiment, read_metadata_file
        from batchcheck.lookups.common import shared_key

        key = shared_key(experiment)
        cwd = Path.cwd()
        if isinstance(metadata, Mapping):
            given = dict(metadata)
        else:
            given = read_metadata_file(cwd / metadata, os.fspath(metadata), key, self._settings)
        result = add_experiment(
            self._settings, key, cwd / source, given, batch=batch, copy=copy, dry_run=dry_run
        )
        result.finish()
        return _make(AddResult, result.to_json(cwd))

    def link(self, batch: str, experiments: Sequence[str], *, dry_run: bool = False) -> LinkResult:
        """Link existing shared experiments (``"Dataset/name"``) into ``batch`` (``link``)."""
        from batchcheck.linking import check_batch_name, link_experiments, parse_keys

        check_batch_name(batch)
        result = link_experiments(self._settings, batch, parse_keys(experiments), dry_run)
        result.finish()
        return _make(LinkResult, result.to_json(Path.cwd()))
