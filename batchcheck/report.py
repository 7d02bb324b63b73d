"""The store report: the model, its index and a check result turned into a plain context.

Everything the pages show is computed here (reuse, sizes, varying parameters, grids, links
between pages); the Jinja2 templates in ``batchcheck.templates`` (or a team's own folder) only
lay it out. A small store is one page per format; a large one (``LARGE_BATCHES`` /
``LARGE_EXPERIMENTS``) gets an index with the summary and links plus one page per batch and
per dataset. Pages are written atomically under the output folder and nowhere else.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import json
import math
import os
import posixpath
import re
import tempfile
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cached_property, lru_cache, partial
from importlib import resources
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

from batchcheck.errors import UsageError
from batchcheck.findings import CheckResult, Finding, Severity
from batchcheck.fingerprint import SHORT
from batchcheck.forking import PARALLEL_MIN, fork_pool
from batchcheck.formats.view import plural
from batchcheck.index import StoreIndex
from batchcheck.layout import SHARED
from batchcheck.metadata import human_size
from batchcheck.model import Experiment, Link, LinkState, Store
from batchcheck.names import display
from batchcheck.rules import by_code
from batchcheck.scan.experiments import tree_size

LARGE_BATCHES = 50  # more batches than this: one page per batch and per dataset
LARGE_EXPERIMENTS = 2000  # ... or more shared experiments than this
MERMAID_MAX_EDGES = 40  # above this a reuse graph is unreadable: the table alone is shown
INDEX_ROWS_MAX = 500  # rows of a list on the index page (reuse, each rule's findings)
GRID_CELL_MAX = 6  # experiments listed in one grid cell; the rest are counted
VALUE_MAX = 60  # characters of a parameter value shown in a table cell
FORMATS = {"md": ".md", "html": ".html"}
# Metadata the pages read besides the rules' fields and the fingerprint fields (dotted paths).
METADATA_FIELDS = frozenset(
    {
        "created_at",
        "experiment_description",
        "experiment_purpose",
        "original_batch",
        "parameter_fingerprint",
        "generation.model",
        "generation.temperature",
        "generation.top_p",
        "generation.max_tokens",
        "validation.model",
    }
)
PAGE_TEMPLATES = ("index", "batch", "dataset")
SIZE_NOTE = (
    "Sizes are the apparent sizes (st_size) of the regular files under each experiment folder "
    "in _shared, walked once with lstat: symlinks are never followed nor counted, a hard-linked "
    "file counts once per name. Saved by reuse: for each experiment linked n > 1 times, "
    "(n - 1) x its size, i.e. the copies that reuse avoided."
)
SIZE_CHUNK = 2000  # experiment folders measured by one task of a worker process
WRITE_AHEAD = 8  # rendered files that may wait for the writing thread
_BATCH_NAME = re.compile(r"^batch_(\d{4})(\d{2})(\d{2})_(.+)$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
T = TypeVar("T")
Sizes = Sequence[tuple[int, bool]]  # what tree_size says of each experiment, in store order
# Leaf path -> (comparable value, value) of each experiment that has it (varying_parameters).
Leaves = defaultdict[tuple[str, ...], list[tuple[Any, Any]]]


# -- the context ------------------------------------------------------------------------------
# What a page shows by the hundred (Ref, Row, ExperimentView, GridEntry) is not frozen: a frozen
# dataclass sets each field through object.__setattr__, which made up a third of building a row.


@dataclass(frozen=True, slots=True)
class Target:
    """Where something is shown: a page (relative, without extension) and an anchor on it."""

    page: str
    anchor: str


@dataclass(slots=True)
class Ref:
    """A name and, when it exists in the report, where it is shown: its ``target`` and the
    link to that from the page being laid out, per format (``href_md``, ``href_html``).

    The links are worked out once per page in Python: a template that asked ``href()`` for
    each of a page's hundreds of references would spend more time there than on the rows.
    """

    name: str
    target: Target | None = None
    href_md: str = ""
    href_html: str = ""


@dataclass(frozen=True, slots=True)
class Param:
    """A parameter that varies among a batch's experiments, with the values seen."""

    path: str
    values: list[str]


@dataclass(slots=True)
class Row:
    """One link of a batch: what it reaches and whether the batch generated or reused it."""

    name: str
    target: Target
    state: str  # a LinkState value
    experiment: Ref | None
    status: str  # new / reused / unknown / broken
    status_text: str
    origin: Ref | None
    fingerprint: str
    model: str
    temperature: str
    top_p: str
    codes: list[str]


@dataclass(frozen=True, slots=True)
class BatchDataset:
    """A dataset folder of a batch with its link rows."""

    name: str
    rows: list[Row]


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """A batch as the index of a large store lists it: its figures and its page."""

    name: str
    target: Target
    date: str
    purpose: str
    links: int
    new: int
    reused: int
    broken: int
    findings: int


@dataclass(frozen=True, slots=True)
class BatchView(BatchSummary):
    """A batch with its rows per dataset and the parameters that vary inside it.

    On a large store it is built only while its own page is rendered, so the rows of no more
    than one batch are held at a time.
    """

    datasets: list[BatchDataset]
    varying: list[Param]
    experiments: list[ExperimentView]


@dataclass(slots=True)
class ExperimentView:
    """A physical experiment in ``_shared`` as the report describes it."""

    dataset: str
    name: str
    target: Target
    path: str
    fingerprint: str
    fingerprint_note: str
    created: str
    origin: Ref | None
    model: str
    temperature: str
    top_p: str
    max_tokens: str
    validation_model: str
    purpose: str
    description: str
    linked_by: list[Ref]
    metadata: str
    data: str
    size: str
    codes: list[str]


@dataclass(slots=True)
class GridEntry:
    """One experiment in a grid cell, with the batches that link it."""

    experiment: Ref
    batches: list[Ref]


@dataclass(frozen=True, slots=True)
class Cell:
    """One configuration of a grid: its first experiments and how many more there are."""

    entries: list[GridEntry]
    more: int = 0


@dataclass(frozen=True, slots=True)
class Grid:
    """Temperature (rows) x top_p (columns) for one generation model of one dataset."""

    model: str
    top_ps: list[str]
    rows: list[tuple[str, list[Cell]]]


@dataclass(frozen=True, slots=True)
class DatasetSummary:
    """A dataset as the index of a large store lists it."""

    name: str
    target: Target
    count: int
    batches: list[Ref]
    links: int


@dataclass(frozen=True, slots=True)
class DatasetView(DatasetSummary):
    """A dataset: its parameter grids and its physical experiments (built like BatchView)."""

    experiments: list[ExperimentView]  # those described on this dataset's page or section
    grids: list[Grid]
    ungridded: list[Ref]


@dataclass(frozen=True, slots=True)
class ReuseRow:
    """A physical experiment that two or more batches link."""

    experiment: Ref
    origin: str
    batches: list[Ref]


@dataclass(frozen=True, slots=True)
class Reuse:
    """Which experiments batches share, and a Mermaid graph when the store is small."""

    rows: list[ReuseRow]
    hidden: int
    single: int
    orphans: int
    mermaid: str | None
    edges: int


@dataclass(frozen=True, slots=True)
class FindingView:
    """One finding of ``check``, linked to what it is about."""

    severity: str
    path: str
    message: str
    target: Target | None
    related: list[str]


@dataclass(frozen=True, slots=True)
class RuleGroup:
    """The findings of one rule."""

    code: str
    summary: str
    errors: int
    warnings: int
    findings: list[FindingView]
    hidden: int


@dataclass(frozen=True, slots=True)
class Summary:
    """The figures at the top of the index."""

    batches: int
    datasets: int
    experiments: int
    links: int
    resolved: int
    reused_experiments: int
    orphans: int
    reuse_ratio: str
    shared_size: str
    saved_size: str
    shared_bytes: int
    saved_bytes: int
    unreadable: int
    errors: int
    warnings: int
    rules: int


@dataclass(frozen=True, slots=True)
class Report:
    """Everything the templates lay out. On a small store ``batches`` and ``datasets`` are
    full views (BatchView, DatasetView); on a large one the index lists summaries and
    ``subpages`` builds each batch and dataset page's view as that page is rendered."""

    title: str
    root: str
    generated: str
    paged: bool
    summary: Summary
    batches: list[BatchSummary]
    datasets: list[DatasetSummary]
    reuse: Reuse
    rules: list[RuleGroup]
    subpages: Callable[[], Iterator[tuple[str, str, Callable[[], dict[str, Any]]]]]
    size_note: str = SIZE_NOTE
    thresholds: Mapping[str, int] = field(
        default_factory=lambda: {"batches": LARGE_BATCHES, "experiments": LARGE_EXPERIMENTS}
    )


# -- small helpers ----------------------------------------------------------------------------


def slug(name: str) -> str:
    """A file-name-safe form of a store name (also used for anchors)."""
    text = _UNSAFE.sub("-", display(name)).strip("-.")
    return text[:100] or "x"


class _Slugs:
    """Unique slugs per namespace: two names that slug alike get ``-2``, ``-3``."""

    def __init__(self) -> None:
        self.seen: dict[str, set[str]] = defaultdict(set)

    def __call__(self, space: str, name: str) -> str:
        base = candidate = slug(name)
        n = 1
        while candidate.lower() in self.seen[space]:
            n += 1
            candidate = f"{base}-{n}"
        self.seen[space].add(candidate.lower())
        return candidate


def show_value(value: Any) -> str:
    """A metadata value as short text: strings as they are, the rest as JSON."""
    kind = type(value)
    if kind is int or (kind is float and math.isfinite(value)):
        text = repr(value)  # what json.dumps writes, without its machinery: one ASCII word
        return text if len(text) <= VALUE_MAX else text[: VALUE_MAX - 1] + "…"
    if kind is str:
        text = value
    elif value is None:
        return ""
    else:
        text = json.dumps(value, ensure_ascii=False)
    text = display(" ".join(text.split()))
    return text if len(text) <= VALUE_MAX else text[: VALUE_MAX - 1] + "…"


@contextlib.contextmanager
def measuring(store: Store, workers: int) -> Iterator[Callable[[], Sizes]]:
    """The size of every experiment folder (:func:`tree_size`): yields a function that waits
    for them, in store order.

    The scan measured the folders it read afresh (``Experiment.size``); the ones it took from
    its cache (which keeps no sizes: a data file rewritten in place changes no stamp) are
    measured here, in the background. A large store's are shared among ``workers`` forked
    processes, started at once so that they measure while this process runs check.
    """
    experiments = list(store.experiments.values())
    folders = [exp.location for exp in experiments if exp.size is None]

    def merged(measured: Iterable[tuple[int, bool]]) -> Sizes:
        fresh = iter(measured)
        return [exp.size if exp.size is not None else next(fresh) for exp in experiments]

    pool = fork_pool(workers) if workers > 1 and len(folders) >= PARALLEL_MIN else None
    if pool is None:
        yield lambda: merged(tree_size(folder) for folder in folders)
        return
    with pool:
        chunks = [folders[i : i + SIZE_CHUNK] for i in range(0, len(folders), SIZE_CHUNK)]
        futures = [pool.submit(_tree_sizes, chunk) for chunk in chunks]
        try:
            yield lambda: merged(size for future in futures for size in future.result())
        finally:
            for future in futures:
                future.cancel()


def _tree_sizes(folders: list[str]) -> list[tuple[int, bool]]:
    return [tree_size(folder) for folder in folders]


def _leaves(data: Mapping[str, Any], prefix: tuple[str, ...], out: Leaves) -> None:
    """Add (comparable value, value) of every leaf of ``data`` to ``out`` under its path; a
    list is one leaf, as a whole.

    Strings compare as themselves, numbers as floats (1 and 1.0 are one configuration, as in
    the fingerprint), anything else as its JSON text in a 1-tuple, so it never equals a string.
    """
    for key, value in data.items():
        path = (*prefix, key if type(key) is str else str(key))
        kind = type(value)
        if kind is str:
            out[path].append((value, value))
        elif kind is float or kind is int:
            out[path].append((float(value), value))
        elif (kind is dict or isinstance(value, Mapping)) and value:
            _leaves(value, path, out)
        else:
            out[path].append(((json.dumps(value, sort_keys=True, default=str),), value))


def varying_parameters(params: Iterable[Mapping[str, Any]]) -> list[Param]:
    """Parameters whose values differ among ``params`` (a value missing somewhere counts).

    One pass over each experiment's leaves, so a batch of any size costs what reading it
    costs; ``compare-experiments`` shows the full deepdiff of two experiments.
    """
    trees = list(params)
    leaves: Leaves = defaultdict(list)
    for tree in trees:
        _leaves(tree, (), leaves)
    out = []
    for path, found in sorted(leaves.items()):
        if len(found) == len(trees):  # every tree has this leaf: its values say it all
            if len({comparable for comparable, _ in found}) < 2:
                continue
            shown = {show_value(value) or "(missing)" for _, value in found}
        else:
            shown = {show_value(_lookup(tree, path)) or "(missing)" for tree in trees}
        out.append(Param(".".join(path), sorted(shown, key=_natural)))
    return out


def _lookup(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = data
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _natural(text: str) -> tuple[int, float, str]:
    """Numbers in numeric order before other text."""
    try:
        return (0, float(text), text)
    except ValueError:
        return (1, 0.0, text)


def href(target: Target, page: str, ext: str) -> str:
    """The link from ``page`` to ``target``: ``#anchor`` on the same page, else a relative path."""
    if target.page == page:
        return f"#{target.anchor}"
    return f"{_relative(target.page + ext, page)}#{target.anchor}"


def _relative(file: str, page: str) -> str:
    """``file`` relative to the folder of ``page`` (both relative to the output folder)."""
    folder, name = posixpath.split(file)
    way = _relative_folder(folder, posixpath.dirname(page))
    return name if way == "." else f"{way}/{name}"


@lru_cache(maxsize=256)
def _relative_folder(folder: str, start: str) -> str:
    """Pages live in a handful of folders: each pair is worked out once."""
    return posixpath.relpath(folder or ".", start or ".")


class _Links:
    """Makes the :class:`Ref` objects of one page: what :func:`href` gives, in each format.

    A page refers to hundreds of other pages: the file part of each link is worked out once
    per folder (:func:`_files`), and the reference to each batch once per page.
    """

    def __init__(self, page: str) -> None:
        self.page = page
        self.folder = posixpath.dirname(page)
        self.batches: dict[str, Ref] = {}

    def __call__(self, name: str, target: Target | None) -> Ref:
        if target is None:
            return Ref(name)
        if target.page == self.page:
            here = "#" + target.anchor
            return Ref(name, target, here, here)
        md_file, html_file = _files(target.page, self.folder)
        return Ref(name, target, md_file + target.anchor, html_file + target.anchor)


@lru_cache(maxsize=8192)
def _files(page: str, folder: str) -> tuple[str, str]:
    """The links to ``page`` from a page in ``folder``, up to the anchor, in each format."""
    way = _relative_folder(posixpath.dirname(page), folder)
    name = posixpath.basename(page)
    stem = name if way == "." else f"{way}/{name}"
    return f"{stem}{FORMATS['md']}#", f"{stem}{FORMATS['html']}#"


# -- building the context ---------------------------------------------------------------------

Key = tuple[str, str]


class _Builder:
    """Builds one :class:`Report`; holds the lookups the sections share.

    Only what the index needs is computed up front; a large store's batch and dataset views
    are built page by page (see :meth:`subpages`). Paths stay text: the model keeps them so.
    """

    def __init__(self, store: Store, index: StoreIndex, result: CheckResult) -> None:
        self.store = store
        self.index = index
        self.result = result
        self.root = str(store.root) + os.sep
        self.paged = (
            len(store.batches) > LARGE_BATCHES or len(store.experiments) > LARGE_EXPERIMENTS
        )
        # The links that name each experiment, as check found them (see linked()).
        self.links_to = index.links_to
        slugs = _Slugs()
        self.batch_slugs = {name: slugs("batches", name) for name in store.batches}
        dataset_slugs = {name: slugs("datasets", name) for name in store.datasets()}
        self.batch_targets = {
            name: self._target("batches", s, "batch") for name, s in self.batch_slugs.items()
        }
        self.dataset_targets = {
            name: self._target("datasets", s, "dataset") for name, s in dataset_slugs.items()
        }
        # Where each experiment is described (see exp_target): its page, and the slug of its
        # name where that is not the name itself. A Target for each of a large store's
        # experiments would cost more memory than the rest of the report.
        self.dataset_slugs = dataset_slugs
        self.exp_pages: dict[Key, str] = {}
        self.exp_slugs: dict[Key, str] = {}
        for key, exp in store.experiments.items():
            self.exp_pages[key] = self._home(exp)
            name = slugs("exp-" + key[0], key[1])
            if name != key[1]:
                self.exp_slugs[key] = name
        self.by_path: dict[str, list[Finding]] = defaultdict(list)
        batch_paths = {str(batch.path): name for name, batch in store.batches.items()}
        self.batch_findings: Counter[str] = Counter()
        for finding in result.findings:
            text = str(finding.path)
            self.by_path[text].append(finding)
            if text.startswith(self.root):
                top = self.root + text[len(self.root) :].split(os.sep, 1)[0]
                if top in batch_paths:
                    self.batch_findings[batch_paths[top]] += 1
        # The experiments each page describes: built here, before the page renderers fork.
        self.pages_experiments: dict[str, list[Experiment]] = defaultdict(list)
        if self.paged:
            for key, exp in store.experiments.items():
                self.pages_experiments[self.exp_pages[key]].append(exp)
        self.summaries: dict[str, BatchSummary] = {}
        self.sizes: dict[Key, int] = {}
        self.unreadable = 0
        self.link_targets = lru_cache(maxsize=4)(self._link_targets)

    def measured(self, sizes: Sizes) -> None:
        """Take the size of each experiment folder (measured while check ran)."""
        for key, (size, complete) in zip(self.store.experiments, sizes, strict=True):
            self.sizes[key] = size
            self.unreadable += not complete

    def linked(self, key: Key) -> list[str]:
        """The batch of every link that reaches experiment ``key``, in scan order."""
        return [link.batch for link in self.links_to.get(key, ()) if link.state is LinkState.OK]

    def _home(self, exp: Experiment) -> str:
        """The page that describes an experiment: on a large store the page of the batch that
        generated it (so no page grows with the whole store), else its dataset's section."""
        if self.paged:
            origin = exp.metadata.fields.get("original_batch")
            if origin in self.linked(exp.key):
                return self.batch_targets[origin].page
        return self.dataset_targets[exp.dataset].page

    def _target(self, folder: str, name: str, kind: str) -> Target:
        page = f"{folder}/{name}" if self.paged else "index"
        return Target(page, f"{kind}-{name}")

    def _link_targets(self, batch: str) -> dict[str, Target]:
        """Link path -> where its row is, for one batch (anchors are unique per batch)."""
        slugs = _Slugs()
        page, prefix = self.batch_targets[batch].page, f"link-{self.batch_slugs[batch]}-"
        return {
            link.location: Target(page, prefix + slugs("", f"{link.dataset}-{link.name}"))
            for link in self.store.batches[batch].links
        }

    def rel(self, path: str) -> str:
        return display(path[len(self.root) :] if path.startswith(self.root) else path)

    def batch_ref(self, name: str, links: _Links) -> Ref:
        ref = links.batches.get(name)
        if ref is None:
            ref = links.batches[name] = links(display(name), self.batch_targets.get(name))
        return ref

    def batch_refs(self, key: Key, links: _Links) -> list[Ref]:
        """The batches that link an experiment, by name."""
        return [self.batch_ref(b, links) for b in sorted(set(self.linked(key)))]

    def exp_target(self, key: Key) -> Target:
        """Where an experiment of the store is described."""
        anchor = f"exp-{self.dataset_slugs[key[0]]}-{self.exp_slugs.get(key, key[1])}"
        return Target(self.exp_pages[key], anchor)

    def exp_ref(self, key: Key, links: _Links) -> Ref:
        return links(display(key[1]), self.exp_target(key))

    def codes(self, *paths: str) -> list[str]:
        if not self.by_path:
            return []
        return sorted({f.code for path in paths for f in self.by_path.get(path, ())})

    # -- batches ---------------------------------------------------------------------------

    def status(self, link: Link, exp: Experiment | None) -> tuple[str, str]:
        """new / reused / unknown / broken, and its text, for a link and what it names."""
        if link.state is not LinkState.OK or exp is None:
            return "broken", f"{link.state.value}: {link.detail}".rstrip(": ")
        origin = exp.metadata.fields.get("original_batch")
        if not isinstance(origin, str):
            return "unknown", "unknown (no original_batch)"
        if origin == link.batch:
            return "new", "new"
        if origin not in self.store.batches:
            return "reused", "reused from (no such batch)"
        return "reused", "reused from"

    def row(self, link: Link, target: Target, links: _Links) -> Row:
        exp = self.store.experiments.get(link.key) if link.key else None
        status, text = self.status(link, exp)
        reached = exp if status != "broken" else None
        fields = exp.metadata.fields if exp else {}
        generation = _section(fields, "generation")
        return Row(
            name=display(link.name),
            target=target,
            state=link.state.value,
            experiment=self.exp_ref(reached.key, links) if reached else None,
            status=status,
            status_text=text,
            origin=self.batch_ref(fields["original_batch"], links) if status == "reused" else None,
            fingerprint=self.short(reached) if reached else "",
            model=show_value(generation.get("model")),
            temperature=show_value(generation.get("temperature")),
            top_p=show_value(generation.get("top_p")),
            codes=self.codes(link.location, *([exp.location] if exp else [])),
        )

    def short(self, exp: Experiment) -> str:
        stored = exp.metadata.fields.get("parameter_fingerprint")
        if isinstance(stored, str) and stored:
            return stored[:SHORT]
        recomputed = self.index.recomputed(exp)
        return recomputed[:SHORT] if recomputed else ""

    def batch_summary(self, name: str) -> BatchSummary:
        """A batch's figures: counted once for the index, found again by its page."""
        summary = self.summaries.get(name)
        if summary is None:
            summary = self.summaries[name] = self._batch_summary(name)
        return summary

    def _batch_summary(self, name: str) -> BatchSummary:
        batch = self.store.batches[name]
        experiments = self.store.experiments
        counts = Counter(
            self.status(link, experiments.get(link.key) if link.key else None)[0]
            for link in batch.links
        )
        match = _BATCH_NAME.match(name)
        return BatchSummary(
            name=display(name),
            target=self.batch_targets[name],
            date=f"{match[1]}-{match[2]}-{match[3]}" if match else "",
            purpose=display(match[4]) if match else "",
            links=sum(counts.values()),
            new=counts["new"],
            reused=counts["reused"],
            broken=counts["broken"],
            findings=self.batch_findings[name],
        )

    def batch(self, name: str) -> BatchView:
        batch = self.store.batches[name]
        page = self.batch_targets[name].page
        links = _Links(page)
        targets = self.link_targets(name)
        datasets = [
            BatchDataset(
                display(ds), [self.row(link, targets[link.location], links) for link in found]
            )
            for ds, found in batch.datasets.items()
        ]
        wanted = self.index.settings.fingerprint_fields
        params = []
        for key in dict.fromkeys(
            link.key for link in batch.links if link.key and link.state is LinkState.OK
        ):
            if key in self.store.experiments:
                fields = self.store.experiments[key].metadata.fields
                params.append({k: fields[k] for k in wanted if k in fields})
        summary = self.batch_summary(name)
        return BatchView(
            **_shallow(summary),
            datasets=datasets,
            varying=varying_parameters(params),
            experiments=self.homed(page, links),
        )

    # -- datasets ---------------------------------------------------------------------------

    def experiment(self, exp: Experiment, links: _Links) -> ExperimentView:
        meta = exp.metadata
        fields = meta.fields
        generation = _section(fields, "generation")
        stored = fields.get("parameter_fingerprint")
        recomputed = self.index.recomputed(exp)
        note = ""
        if isinstance(stored, str) and recomputed and stored != recomputed:
            note = f"stored value differs from the recomputed {recomputed[:SHORT]}"
        origin = fields.get("original_batch")
        return ExperimentView(
            dataset=display(exp.dataset),
            name=display(exp.name),
            target=self.exp_target(exp.key),
            path=self.rel(exp.location),
            fingerprint=self.short(exp),
            fingerprint_note=note,
            created=show_value(fields.get("created_at")).replace("T", " ", 1),
            origin=self.batch_ref(origin, links) if isinstance(origin, str) else None,
            model=show_value(generation.get("model")),
            temperature=show_value(generation.get("temperature")),
            top_p=show_value(generation.get("top_p")),
            max_tokens=show_value(generation.get("max_tokens")),
            validation_model=show_value(_section(fields, "validation").get("model")),
            purpose=show_value(fields.get("experiment_purpose")),
            description=display(" ".join(str(fields.get("experiment_description") or "").split())),
            linked_by=self.batch_refs(exp.key, links),
            metadata="ok" if meta.ok else f"{meta.state}: {meta.error}".rstrip(": "),
            data=exp.data.value,
            size=human_size(self.sizes[exp.key]),
            codes=self.codes(exp.location),
        )

    def grids(self, exps: list[Experiment], links: _Links) -> tuple[list[Grid], list[Ref]]:
        """The grids of a dataset's experiments; only a cell's first experiments are
        described, the rest are counted."""
        cells: dict[str, dict[tuple[str, str], list[Experiment]]] = defaultdict(
            lambda: defaultdict(list)
        )
        ungridded = []
        for exp in exps:
            model = exp.metadata.get("generation.model")
            temp = exp.metadata.get("generation.temperature")
            top_p = exp.metadata.get("generation.top_p")
            if not isinstance(model, str) or not _number(temp) or not _number(top_p):
                ungridded.append(self.exp_ref(exp.key, links))
                continue
            cells[display(model)][(show_value(temp), show_value(top_p))].append(exp)
        grids = []
        for model, by_config in sorted(cells.items()):
            temps = sorted({t for t, _ in by_config}, key=_natural)
            top_ps = sorted({p for _, p in by_config}, key=_natural)
            rows = [
                (t, [self._cell(by_config.get((t, p), []), links) for p in top_ps]) for t in temps
            ]
            grids.append(Grid(model, top_ps, rows))
        return grids, ungridded

    def _cell(self, exps: list[Experiment], links: _Links) -> Cell:
        entries = [
            GridEntry(self.exp_ref(exp.key, links), self.batch_refs(exp.key, links))
            for exp in exps[:GRID_CELL_MAX]
        ]
        return Cell(entries, max(0, len(exps) - GRID_CELL_MAX))

    def homed(self, page: str, links: _Links) -> list[ExperimentView]:
        """The experiments described on ``page`` (on a small store every one is on the index)."""
        if not self.paged:
            return []
        return [self.experiment(exp, links) for exp in self.pages_experiments.get(page, ())]

    @cached_property
    def dataset_experiments(self) -> dict[str, list[Experiment]]:
        out: dict[str, list[Experiment]] = defaultdict(list)
        for key, exp in self.store.experiments.items():
            out[key[0]].append(exp)
        return out

    def dataset_summary(self, name: str, links: _Links) -> DatasetSummary:
        batches = sorted(b.name for b in self.store.batches.values() if b.datasets.get(name))
        return DatasetSummary(
            name=display(name),
            target=self.dataset_targets[name],
            count=len(self.dataset_experiments.get(name, ())),
            batches=[self.batch_ref(b, links) for b in batches],
            links=sum(len(b.datasets.get(name, ())) for b in self.store.batches.values()),
        )

    def dataset(self, name: str) -> DatasetView:
        exps = self.dataset_experiments.get(name, [])
        page = self.dataset_targets[name].page
        links = _Links(page)
        grids, ungridded = self.grids(exps, links)
        summary = self.dataset_summary(name, links)
        return DatasetView(
            **_shallow(summary),
            experiments=(
                self.homed(page, links) if self.paged else [self.experiment(e, links) for e in exps]
            ),
            grids=grids,
            ungridded=ungridded,
        )

    def subpages(self) -> Iterator[tuple[str, str, Callable[[], dict[str, Any]]]]:
        """A large store's batch and dataset pages: (page, template stem, a function that
        builds its variables), so a page's view is built only by whoever renders it."""
        if not self.paged:
            return
        for name in self.store.batches:
            yield self.batch_targets[name].page, "batch", partial(self._vars, "batch", name)
        for name in self.store.datasets():
            page = self.dataset_targets[name].page
            yield page, "dataset", partial(self._vars, "dataset", name)

    def _vars(self, stem: str, name: str) -> dict[str, Any]:
        return {"batch": self.batch(name)} if stem == "batch" else {"dataset": self.dataset(name)}

    # -- reuse, findings, summary -----------------------------------------------------------

    def reuse(self) -> Reuse:
        """The experiments two or more batches link, most linked first; only the rows the
        index shows are built."""
        shared, single, orphans = [], 0, 0
        for key in self.store.experiments:
            batches = len(set(self.linked(key)))
            if batches >= 2:
                shared.append((-batches, f"{display(key[0])}/{display(key[1])}", key))
            elif batches:
                single += 1
            else:
                orphans += 1
        links = _Links("index")
        rows = [
            ReuseRow(
                links(name, self.exp_target(key)),
                show_value(self.store.experiments[key].metadata.fields.get("original_batch")),
                self.batch_refs(key, links),
            )
            for _, name, key in heapq.nsmallest(INDEX_ROWS_MAX, shared, key=itemgetter(0, 1))
        ]
        edges = sum(len(set(self.linked(key))) for key in self.links_to)
        mermaid = None
        if 0 < edges <= MERMAID_MAX_EDGES:
            pairs = sorted({(b, key) for key in self.links_to for b in self.linked(key)})
            mermaid = _mermaid(pairs, {r.experiment.name for r in rows})
        return Reuse(
            rows=rows,
            hidden=len(shared) - len(rows),
            single=single,
            orphans=orphans,
            mermaid=mermaid,
            edges=edges,
        )

    def finding_target(self, finding: Finding) -> Target | None:
        text = str(finding.path)
        if not text.startswith(self.root):
            return None
        parts = text[len(self.root) :].split(os.sep)
        if len(parts) >= 3 and parts[0] == SHARED:
            key = (parts[1], parts[2])
            return self.exp_target(key) if key in self.exp_pages else None
        if parts[0] in self.store.batches:
            return self.link_targets(parts[0]).get(text) or self.batch_targets[parts[0]]
        return None

    def rules(self) -> list[RuleGroup]:
        groups: dict[str, list[Finding]] = defaultdict(list)
        for finding in self.result.findings:
            groups[finding.code].append(finding)
        modules = by_code()
        out = []
        for code, found in sorted(groups.items()):
            module = modules.get(code)
            views = [
                FindingView(
                    severity=f.severity.value,
                    path=self.rel(str(f.path)),
                    message=display(f.message),
                    target=self.finding_target(f),
                    related=[self.rel(str(p)) for p in f.related],
                )
                for f in found[:INDEX_ROWS_MAX]
            ]
            out.append(
                RuleGroup(
                    code=code,
                    summary=str(getattr(module, "SUMMARY", "")),
                    errors=sum(f.severity is Severity.ERROR for f in found),
                    warnings=sum(f.severity is Severity.WARNING for f in found),
                    findings=views,
                    hidden=max(0, len(found) - INDEX_ROWS_MAX),
                )
            )
        return out

    def summary(self, reuse: Reuse, rules: int) -> Summary:
        resolved = saved = 0
        for key in self.links_to:
            count = len(self.linked(key))
            resolved += count
            if count > 1 and key in self.sizes:
                saved += self.sizes[key] * (count - 1)
        shared = sum(self.sizes.values())
        experiments = len(self.store.experiments)
        return Summary(
            batches=len(self.store.batches),
            datasets=len(self.store.datasets()),
            experiments=experiments,
            links=self.index.link_count,
            resolved=resolved,
            reused_experiments=len(reuse.rows) + reuse.hidden,
            orphans=reuse.orphans,
            reuse_ratio=f"{resolved / experiments:.2f}" if experiments else "n/a",
            shared_size=human_size(shared),
            saved_size=human_size(saved),
            shared_bytes=shared,
            saved_bytes=saved,
            unreadable=self.unreadable,
            errors=self.result.errors,
            warnings=self.result.warnings,
            rules=rules,
        )


def _section(fields: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """A sub-object of the metadata (``generation``), or an empty one when it is not one."""
    value = fields.get(name)
    return value if isinstance(value, dict) else {}


def _shallow(view: Any) -> dict[str, Any]:
    """A view's fields by name, values as they are (``asdict`` would copy them deeply)."""
    return {f.name: getattr(view, f.name) for f in fields(view)}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _mermaid(edges: list[tuple[str, tuple[str, str]]], reused: set[str]) -> str | None:
    """A left-to-right graph batch -> experiment; reused experiments get the ``reused`` class."""
    if len(edges) > MERMAID_MAX_EDGES:
        return None
    ids: dict[object, str] = {}
    lines = ["flowchart LR"]

    def node(item: object, label: str, shape: str) -> str:
        if item not in ids:
            ids[item] = f"n{len(ids)}"
            text = label.replace('"', "#quot;").replace("`", "#96;")
            lines.append(f'  {ids[item]}{shape[0]}"{text}"{shape[1]}')
        return ids[item]

    for batch, key in edges:
        name = f"{display(key[0])}/{display(key[1])}"
        b = node(("batch", batch), display(batch), "[]")
        e = node(key, name, "()")
        lines.append(f"  {b} --> {e}")
        if name in reused:
            lines.append(f"  class {e} reused")
    lines.append("  classDef reused fill:#fde68a,stroke:#b45309")
    return "\n".join(dict.fromkeys(lines))


def build(
    store: Store,
    index: StoreIndex,
    result: CheckResult,
    rules: int,
    root: str,
    sizes: Callable[[], Sizes],
) -> Report:
    """The report context for a fully scanned store; ``rules`` is how many rules ran,
    ``root`` the store's path as the report shows it, ``sizes`` a function giving the size of
    each experiment folder (see :func:`measuring`): it is called once the parts that need no
    size are built, so that the folders are measured meanwhile."""
    builder = _Builder(store, index, result)
    reuse = builder.reuse()
    findings = builder.rules()
    here = _Links("index")
    # A large store's index only counts (no sizes needed); a small store's sections describe
    # every experiment, sizes included.
    if builder.paged:
        batches = [builder.batch_summary(name) for name in store.batches]
        datasets = [builder.dataset_summary(name, here) for name in store.datasets()]
    builder.measured(sizes())
    if not builder.paged:
        batches = [builder.batch(name) for name in store.batches]
        datasets = [builder.dataset(name) for name in store.datasets()]
    return Report(
        title=f"Store report: {display(store.root.name)}",
        root=root,
        generated=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip(),
        paged=builder.paged,
        summary=builder.summary(reuse, rules),
        batches=batches,
        datasets=datasets,
        reuse=reuse,
        rules=findings,
        subpages=builder.subpages,
    )


# -- rendering and writing --------------------------------------------------------------------

# Markup characters, an underscore at the edge of a word, an ``&`` that starts an entity. The
# leading lookahead lets the scan pass over plain characters (most of a name) at once.
_MD_SPECIAL = re.compile(
    r"(?=[\\`*\[\]<>|_&])(?:[\\`*\[\]<>|]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|&(?=#?\w+;))"
)


def md(text: object) -> str:
    """Text safe in a GitHub Markdown table cell: one line, pipes and markup escaped."""
    return _md(str(text))


@lru_cache(maxsize=4096)
def _md(text: str) -> str:
    """:func:`md` of a text: a page repeats most of its texts (models, values, batch names)."""
    return _MD_SPECIAL.sub(_escaped, " ".join(text.split()))


def _escaped(match: re.Match[str]) -> str:
    return "\\" + match[0]


def environment(folder: Path | None) -> Any:
    """The Jinja2 environment: a team's folder, or the templates shipped in the package.

    The shipped ones are read through importlib.resources, so the same code finds them in a
    checkout, an editable install and a wheel.
    """
    import jinja2

    loader: jinja2.BaseLoader
    if folder is None:
        package = resources.files("batchcheck.templates")

        def load(name: str) -> tuple[str, None, Any] | None:
            resource = package.joinpath(*name.split("/"))
            if not resource.is_file():
                return None
            return resource.read_text("utf-8"), None, lambda: True

        loader = jinja2.FunctionLoader(load)
    else:
        loader = jinja2.FileSystemLoader(str(folder))
    env = jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(["html", "html.j2"], default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md
    env.filters["plural"] = plural
    return env


def pages(report: Report) -> Iterator[tuple[str, str, Callable[[], dict[str, Any]]]]:
    """(page, template stem, a function giving its extra variables) for every page."""
    yield "index", "index", dict
    yield from report.subpages()


def render(
    report: Report, formats: Iterable[str], folder: Path | None = None
) -> Iterator[tuple[str, str]]:
    """(relative file name, text) of every page in every format, one page at a time, so a
    large store's pages are never all in memory together.

    Raises :class:`UsageError` when a template is missing or fails to render; the templates
    are all loaded (and their syntax checked) before the first page is produced.
    """
    for _, rel, text in _rendered(report, tuple(formats), folder, (0, 1)):
        yield rel, text


def _rendered(
    report: Report, formats: tuple[str, ...], folder: Path | None, shard: tuple[int, int]
) -> Iterator[tuple[int, str, str]]:
    """(position, relative file name, text) of the pages whose position is ``shard[0]``
    modulo ``shard[1]``."""
    import jinja2

    env = environment(folder)
    stems = PAGE_TEMPLATES if report.paged else PAGE_TEMPLATES[:1]
    templates: dict[tuple[str, str], Any] = {}
    for fmt in formats:
        for stem in stems:
            try:
                templates[fmt, stem] = env.get_template(f"{stem}{FORMATS[fmt]}.j2")
            except jinja2.TemplateNotFound as exc:
                raise UsageError(f"template {exc.name} not found") from exc
            except jinja2.TemplateSyntaxError as exc:
                raise UsageError(f"template {exc.name}:{exc.lineno}: {exc.message}") from exc
    position = 0
    for page, stem, variables in pages(report):
        if position // len(formats) % shard[1] != shard[0]:
            position += len(formats)
            continue
        extra = variables()
        for fmt in formats:
            ext = FORMATS[fmt]

            def link(target: Target, page: str = page, ext: str = ext) -> str:
                return href(target, page, ext)

            home = _relative("index" + ext, page)
            try:
                text = templates[fmt, stem].render(
                    r=report, page=page, ext=ext, href=link, home=home, **extra
                )
            except jinja2.TemplateNotFound as exc:
                raise UsageError(f"template {exc.name} not found") from exc
            except jinja2.TemplateError as exc:
                raise UsageError(f"template {stem}{ext}.j2: {exc}") from exc
            yield position, page + ext, text
            position += 1
        # A template that imports macros "with context" leaves a reference cycle holding the
        # page's view (the shipped page templates do not). The command runs with the collector
        # off: without this, each such view would stay. With no cycle it costs next to nothing.
        del extra
        gc.collect(0)


# What the forked publishing processes render: set just before they are forked.
_PUBLISHING: tuple[Report, tuple[str, ...], Path | None, Path] | None = None


def publish(
    report: Report, formats: Iterable[str], folder: Path | None, output: Path, workers: int
) -> list[Path]:
    """Render every page and write it under ``output`` (see :func:`write`); the written
    files in page order.

    Rendering is pure Python, one core per process: a large store's pages are dealt out to
    ``workers`` processes forked from this one, which already holds the whole context.
    """
    global _PUBLISHING
    formats = tuple(formats)
    pool = fork_pool(workers - 1) if report.paged and workers > 1 else None
    if pool is None:
        return list(write(output, render(report, formats, folder)))
    _PUBLISHING = (report, formats, folder, output)
    try:
        with pool:
            others = [pool.submit(_publish_shard, (i, workers)) for i in range(1, workers)]
            written = _publish_shard((0, workers))
            for future in others:
                written += future.result()
    finally:
        _PUBLISHING = None
    return [Path(path) for _, path in sorted(written)]


def _publish_shard(shard: tuple[int, int]) -> list[tuple[int, str]]:
    assert _PUBLISHING is not None
    report, formats, folder, output = _PUBLISHING
    files = _rendered(report, formats, folder, shard)
    return [(position, str(path)) for position, path in _written(output, files)]


def write(output: Path, files: Iterable[tuple[str, str]]) -> Iterator[Path]:
    """Write each (relative name, text) under ``output`` atomically (temp file in its folder,
    then rename), yielding each path once written.

    Folders the pages need are created inside ``output``; a symlinked sub-folder is refused so
    that nothing outside ``output`` is ever written.
    """
    for _, path in _written(output, ((rel, rel, text) for rel, text in files)):
        yield path


def _written(output: Path, files: Iterable[tuple[T, str, str]]) -> Iterator[tuple[T, Path]]:
    """(tag, path) of each (tag, relative name, text) once written (see :func:`write`).

    A thread writes while the next pages are rendered: replacing an earlier report's file can
    wait for the disk (ext4 flushes a file renamed over another), and waiting lets go of the
    GIL. At most ``WRITE_AHEAD`` files wait to be written; after a failure, none is started.
    """
    from concurrent.futures import Future, ThreadPoolExecutor

    writer = ThreadPoolExecutor(1)
    try:
        pending: deque[tuple[T, Future[Path]]] = deque()
        for tag, rel, text in files:
            pending.append((tag, writer.submit(_write_file, output, rel, text)))
            if len(pending) > WRITE_AHEAD:
                done, future = pending.popleft()
                yield done, future.result()
        for done, future in pending:
            yield done, future.result()
    finally:
        writer.shutdown(cancel_futures=True)


def _write_file(output: Path, rel: str, text: str) -> Path:
    target = output.joinpath(*rel.split("/"))
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    if folder != output and os.path.islink(folder):
        raise UsageError(f"{folder} is a symlink: refusing to write through it")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return target
