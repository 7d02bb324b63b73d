"""The store report: the model, its index and a check result turned into a plain context.

Everything the pages show is computed here (reuse, sizes, varying parameters, grids, links
between pages); the Jinja2 templates in ``batchcheck.templates`` (or a team's own folder) only
lay it out. A small store is one page per format; a large one (``LARGE_BATCHES`` /
``LARGE_EXPERIMENTS``) gets an index with the summary and links plus one page per batch and
per dataset. Pages are written atomically under the output folder and nowhere else.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import re
import stat
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from batchcheck.errors import UsageError
from batchcheck.findings import CheckResult, Finding, Severity
from batchcheck.fingerprint import SHORT
from batchcheck.formats.view import plural
from batchcheck.index import StoreIndex
from batchcheck.metadata import human_size
from batchcheck.names import display
from batchcheck.rules import by_code
from batchcheck.store import SHARED, Experiment, Link, LinkState, Store

LARGE_BATCHES = 50  # more batches than this: one page per batch and per dataset
LARGE_EXPERIMENTS = 2000  # ... or more shared experiments than this
MERMAID_MAX_EDGES = 40  # above this a reuse graph is unreadable: the table alone is shown
INDEX_ROWS_MAX = 500  # rows of a list on the index page (reuse, each rule's findings)
GRID_CELL_MAX = 6  # experiments listed in one grid cell; the rest are counted
VALUE_MAX = 60  # characters of a parameter value shown in a table cell
FORMATS = {"md": ".md", "html": ".html"}
PAGE_TEMPLATES = ("index", "batch", "dataset")
SIZE_NOTE = (
    "Sizes are the apparent sizes (st_size) of the regular files under each experiment folder "
    "in _shared, walked once with lstat: symlinks are never followed nor counted, a hard-linked "
    "file counts once per name. Saved by reuse: for each experiment linked n > 1 times, "
    "(n - 1) x its size, i.e. the copies that reuse avoided."
)
_BATCH_NAME = re.compile(r"^batch_(\d{4})(\d{2})(\d{2})_(.+)$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


# -- the context ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where something is shown: a page (relative, without extension) and an anchor on it."""

    page: str
    anchor: str


@dataclass(frozen=True)
class Ref:
    """A name and, when it exists in the report, where it is shown."""

    name: str
    target: Target | None = None


@dataclass(frozen=True)
class Param:
    """A parameter that varies among a batch's experiments, with the values seen."""

    path: str
    values: list[str]


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class BatchDataset:
    """A dataset folder of a batch with its link rows."""

    name: str
    rows: list[Row]


@dataclass(frozen=True)
class BatchView:
    """A batch with its rows per dataset and the parameters that vary inside it."""

    name: str
    target: Target
    date: str
    purpose: str
    datasets: list[BatchDataset]
    varying: list[Param]
    experiments: list[ExperimentView]
    links: int
    new: int
    reused: int
    broken: int
    findings: int


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class GridEntry:
    """One experiment in a grid cell, with the batches that link it."""

    experiment: Ref
    batches: list[Ref]


@dataclass(frozen=True)
class Cell:
    """One configuration of a grid: its first experiments and how many more there are."""

    entries: list[GridEntry]
    more: int = 0


@dataclass(frozen=True)
class Grid:
    """Temperature (rows) x top_p (columns) for one generation model of one dataset."""

    model: str
    top_ps: list[str]
    rows: list[tuple[str, list[Cell]]]


@dataclass(frozen=True)
class DatasetView:
    """A dataset: its parameter grids and its physical experiments."""

    name: str
    target: Target
    experiments: list[ExperimentView]  # those described on this dataset's page or section
    count: int
    grids: list[Grid]
    ungridded: list[Ref]
    batches: list[Ref]
    links: int


@dataclass(frozen=True)
class ReuseRow:
    """A physical experiment that two or more batches link."""

    experiment: Ref
    origin: str
    batches: list[Ref]


@dataclass(frozen=True)
class Reuse:
    """Which experiments batches share, and a Mermaid graph when the store is small."""

    rows: list[ReuseRow]
    hidden: int
    single: int
    orphans: int
    mermaid: str | None
    edges: int


@dataclass(frozen=True)
class FindingView:
    """One finding of ``check``, linked to what it is about."""

    severity: str
    path: str
    message: str
    target: Target | None
    related: list[str]


@dataclass(frozen=True)
class RuleGroup:
    """The findings of one rule."""

    code: str
    summary: str
    errors: int
    warnings: int
    findings: list[FindingView]
    hidden: int


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Report:
    """Everything the templates lay out."""

    title: str
    root: str
    generated: str
    paged: bool
    summary: Summary
    batches: list[BatchView]
    datasets: list[DatasetView]
    reuse: Reuse
    rules: list[RuleGroup]
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
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = display(" ".join(text.split()))
    return text if len(text) <= VALUE_MAX else text[: VALUE_MAX - 1] + "…"


def tree_size(path: Path) -> tuple[int, bool]:
    """Bytes of the regular files under ``path`` (lstat, never following a link), and
    whether every folder could be read."""
    total, complete = 0, True
    pending = [path]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError:
            complete = False
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                complete = False
                continue
            if stat.S_ISDIR(st.st_mode):
                pending.append(Path(entry.path))
            elif stat.S_ISREG(st.st_mode):
                total += st.st_size
    return total, complete


def _leaves(data: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[Any, Any]]:
    """(path, comparable value) of every leaf; a list is one leaf, as a whole."""
    for key, value in data.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping) and value:
            yield from _leaves(value, path)
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            yield path, json.dumps(value, sort_keys=True, default=str)
        else:
            yield path, float(value)  # 1 and 1.0 are one configuration, as in the fingerprint


def varying_parameters(params: Iterable[Mapping[str, Any]]) -> list[Param]:
    """Parameters whose values differ among ``params`` (a value missing somewhere counts).

    One pass over each experiment's leaves, so a batch of any size costs what reading it
    costs; ``compare-experiments`` shows the full deepdiff of two experiments.
    """
    trees = list(params)
    seen: dict[tuple[str, ...], set[Any]] = defaultdict(set)
    counts: Counter[tuple[str, ...]] = Counter()
    for tree in trees:
        for path, value in _leaves(tree):
            seen[path].add(value)
            counts[path] += 1
    out = []
    for path in sorted(
        p for p, values in seen.items() if len(values) > 1 or counts[p] < len(trees)
    ):
        values = {show_value(_lookup(tree, path)) or "(missing)" for tree in trees}
        out.append(Param(".".join(path), sorted(values, key=_natural)))
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


@lru_cache(maxsize=4096)
def _relative(file: str, page: str) -> str:
    return posixpath.relpath(file, posixpath.dirname(page) or ".")


# -- building the context ---------------------------------------------------------------------


class _Builder:
    """Builds one :class:`Report`; holds the lookups the sections share."""

    def __init__(self, store: Store, index: StoreIndex, result: CheckResult) -> None:
        self.store = store
        self.index = index
        self.result = result
        self.paged = (
            len(store.batches) > LARGE_BATCHES or len(store.experiments) > LARGE_EXPERIMENTS
        )
        slugs = _Slugs()
        batch_slugs = {name: slugs("batches", name) for name in store.batches}
        dataset_slugs = {name: slugs("datasets", name) for name in store.datasets()}
        self.batch_targets = {
            name: self._target("batches", s, "batch") for name, s in batch_slugs.items()
        }
        self.dataset_targets = {
            name: self._target("datasets", s, "dataset") for name, s in dataset_slugs.items()
        }
        self.ok_links: dict[tuple[str, str], list[Link]] = {
            key: [link for link in links if link.state is LinkState.OK]
            for key, links in index.links_to.items()
        }
        self.exp_targets = {
            key: Target(
                self._home(exp),
                f"exp-{dataset_slugs[key[0]]}-{slugs('exp-' + key[0], key[1])}",
            )
            for key, exp in store.experiments.items()
        }
        self.link_targets = {
            link.path: Target(
                self.batch_targets[link.batch].page,
                f"link-{batch_slugs[link.batch]}-"
                f"{slugs('link-' + link.batch, link.dataset + '-' + link.name)}",
            )
            for link in store.links()
        }
        self.by_path: dict[Path, list[Finding]] = defaultdict(list)
        for finding in result.findings:
            self.by_path[finding.path].append(finding)
        self.sizes: dict[tuple[str, str], int] = {}
        self.unreadable = 0
        for key, exp in store.experiments.items():
            size, complete = tree_size(exp.path)
            self.sizes[key] = size
            self.unreadable += not complete

    def _home(self, exp: Experiment) -> str:
        """The page that describes an experiment: on a large store the page of the batch that
        generated it (so no page grows with the whole store), else its dataset's section."""
        origin = exp.metadata.get("original_batch")
        if self.paged and any(link.batch == origin for link in self.ok_links.get(exp.key, ())):
            return self.batch_targets[origin].page
        return self.dataset_targets[exp.dataset].page

    def _target(self, folder: str, name: str, kind: str) -> Target:
        page = f"{folder}/{name}" if self.paged else "index"
        return Target(page, f"{kind}-{name}")

    def rel(self, path: Path) -> str:
        return display(self.index.rel(path))

    def batch_ref(self, name: str) -> Ref:
        return Ref(display(name), self.batch_targets.get(name))

    def exp_ref(self, key: tuple[str, str]) -> Ref:
        return Ref(display(key[1]), self.exp_targets.get(key))

    def codes(self, *paths: Path) -> list[str]:
        return sorted({f.code for path in paths for f in self.by_path.get(path, ())})

    # -- batches ---------------------------------------------------------------------------

    def row(self, link: Link) -> Row:
        exp = self.store.experiments.get(link.key) if link.key else None
        ok = link.state is LinkState.OK and exp is not None
        origin_name = exp.metadata.get("original_batch") if exp else None
        origin = None
        if not ok:
            status, text = "broken", f"{link.state.value}: {link.detail}".rstrip(": ")
        elif not isinstance(origin_name, str):
            status, text = "unknown", "unknown (no original_batch)"
        elif origin_name == link.batch:
            status, text = "new", "new"
        else:
            origin = self.batch_ref(origin_name)
            status, text = "reused", "reused from"
            if origin_name not in self.store.batches:
                text = "reused from (no such batch)"
        meta = exp.metadata if exp else None
        return Row(
            name=display(link.name),
            target=self.link_targets[link.path],
            state=link.state.value,
            experiment=self.exp_ref(exp.key) if ok and exp else None,
            status=status,
            status_text=text,
            origin=origin,
            fingerprint=self.short(exp) if ok and exp else "",
            model=show_value(meta.get("generation.model")) if meta else "",
            temperature=show_value(meta.get("generation.temperature")) if meta else "",
            top_p=show_value(meta.get("generation.top_p")) if meta else "",
            codes=self.codes(link.path, *([exp.path] if exp else [])),
        )

    def short(self, exp: Experiment) -> str:
        stored = exp.metadata.get("parameter_fingerprint")
        if isinstance(stored, str) and stored:
            return stored[:SHORT]
        recomputed = self.index.recomputed(exp)
        return recomputed[:SHORT] if recomputed else ""

    def batch(self, name: str) -> BatchView:
        batch = self.store.batches[name]
        datasets = [
            BatchDataset(display(ds), [self.row(link) for link in links])
            for ds, links in batch.datasets.items()
        ]
        rows = [row for ds in datasets for row in ds.rows]
        fields = self.index.settings.fingerprint_fields
        params = [
            {k: v for k, v in self.store.experiments[key].metadata.fields.items() if k in fields}
            for key in dict.fromkeys(
                link.key for link in batch.links if link.key and link.state is LinkState.OK
            )
            if key in self.store.experiments
        ]
        match = _BATCH_NAME.match(name)
        prefix = str(batch.path) + os.sep
        return BatchView(
            name=display(name),
            target=self.batch_targets[name],
            date=f"{match[1]}-{match[2]}-{match[3]}" if match else "",
            purpose=display(match[4]) if match else "",
            datasets=datasets,
            varying=varying_parameters(params),
            experiments=self.homed(self.batch_targets[name].page),
            links=len(rows),
            new=sum(r.status == "new" for r in rows),
            reused=sum(r.status == "reused" for r in rows),
            broken=sum(r.status == "broken" for r in rows),
            findings=sum(
                len(found)
                for path, found in self.by_path.items()
                if path == batch.path or str(path).startswith(prefix)
            ),
        )

    # -- datasets ---------------------------------------------------------------------------

    def experiment(self, exp: Experiment) -> ExperimentView:
        meta = exp.metadata
        stored = meta.get("parameter_fingerprint")
        recomputed = self.index.recomputed(exp)
        note = ""
        if isinstance(stored, str) and recomputed and stored != recomputed:
            note = f"stored value differs from the recomputed {recomputed[:SHORT]}"
        origin = meta.get("original_batch")
        links = self.ok_links.get(exp.key, [])
        return ExperimentView(
            dataset=display(exp.dataset),
            name=display(exp.name),
            target=self.exp_targets[exp.key],
            path=self.rel(exp.path),
            fingerprint=self.short(exp),
            fingerprint_note=note,
            created=show_value(meta.get("created_at")).replace("T", " ", 1),
            origin=self.batch_ref(origin) if isinstance(origin, str) else None,
            model=show_value(meta.get("generation.model")),
            temperature=show_value(meta.get("generation.temperature")),
            top_p=show_value(meta.get("generation.top_p")),
            max_tokens=show_value(meta.get("generation.max_tokens")),
            validation_model=show_value(meta.get("validation.model")),
            purpose=show_value(meta.get("experiment_purpose")),
            description=display(" ".join(str(meta.get("experiment_description") or "").split())),
            linked_by=[self.batch_ref(b) for b in sorted({link.batch for link in links})],
            metadata="ok" if meta.ok else f"{meta.state}: {meta.error}".rstrip(": "),
            data=exp.data.value,
            size=human_size(self.sizes[exp.key]),
            codes=self.codes(exp.path),
        )

    def grids(self, exps: list[Experiment]) -> tuple[list[Grid], list[Ref]]:
        cells: dict[str, dict[tuple[str, str], list[GridEntry]]] = defaultdict(
            lambda: defaultdict(list)
        )
        ungridded = []
        for exp in exps:
            model = exp.metadata.get("generation.model")
            temp = exp.metadata.get("generation.temperature")
            top_p = exp.metadata.get("generation.top_p")
            if not isinstance(model, str) or not _number(temp) or not _number(top_p):
                ungridded.append(self.exp_ref(exp.key))
                continue
            batches = sorted({link.batch for link in self.ok_links.get(exp.key, [])})
            entry = GridEntry(self.exp_ref(exp.key), [self.batch_ref(b) for b in batches])
            cells[display(model)][(show_value(temp), show_value(top_p))].append(entry)
        grids = []
        for model, by_config in sorted(cells.items()):
            temps = sorted({t for t, _ in by_config}, key=_natural)
            top_ps = sorted({p for _, p in by_config}, key=_natural)
            rows = [(t, [_cell(by_config.get((t, p), [])) for p in top_ps]) for t in temps]
            grids.append(Grid(model, top_ps, rows))
        return grids, ungridded

    def homed(self, page: str) -> list[ExperimentView]:
        """The experiments described on ``page`` (on a small store every one is on the index)."""
        if not self.paged:
            return []
        return [self.experiment(exp) for exp in self.pages_experiments.get(page, ())]

    @cached_property
    def pages_experiments(self) -> dict[str, list[Experiment]]:
        out: dict[str, list[Experiment]] = defaultdict(list)
        for key, exp in self.store.experiments.items():
            out[self.exp_targets[key].page].append(exp)
        return out

    def dataset(self, name: str) -> DatasetView:
        exps = [exp for key, exp in self.store.experiments.items() if key[0] == name]
        grids, ungridded = self.grids(exps)
        page = self.dataset_targets[name].page
        batches = sorted(b.name for b in self.store.batches.values() if b.datasets.get(name))
        return DatasetView(
            name=display(name),
            target=self.dataset_targets[name],
            experiments=self.homed(page) if self.paged else [self.experiment(e) for e in exps],
            count=len(exps),
            grids=grids,
            ungridded=ungridded,
            batches=[self.batch_ref(b) for b in batches],
            links=sum(len(b.datasets.get(name, ())) for b in self.store.batches.values()),
        )

    # -- reuse, findings, summary -----------------------------------------------------------

    def reuse(self) -> Reuse:
        rows, single, orphans = [], 0, 0
        for key, exp in self.store.experiments.items():
            batches = sorted({link.batch for link in self.ok_links.get(key, [])})
            if len(batches) >= 2:
                origin = exp.metadata.get("original_batch")
                rows.append(
                    ReuseRow(
                        Ref(f"{display(key[0])}/{display(key[1])}", self.exp_targets[key]),
                        show_value(origin),
                        [self.batch_ref(b) for b in batches],
                    )
                )
            elif batches:
                single += 1
            else:
                orphans += 1
        rows.sort(key=lambda r: (-len(r.batches), r.experiment.name))
        edges = sorted(
            {(link.batch, key) for key, links in self.ok_links.items() for link in links}
        )
        return Reuse(
            rows=rows[:INDEX_ROWS_MAX],
            hidden=max(0, len(rows) - INDEX_ROWS_MAX),
            single=single,
            orphans=orphans,
            mermaid=_mermaid(edges, {r.experiment.name for r in rows}) if edges else None,
            edges=len(edges),
        )

    def finding_target(self, finding: Finding) -> Target | None:
        if finding.path in self.link_targets:
            return self.link_targets[finding.path]
        try:
            parts = finding.path.relative_to(self.store.root).parts
        except ValueError:
            return None
        if len(parts) >= 3 and parts[0] == SHARED:
            return self.exp_targets.get((parts[1], parts[2]))
        if len(parts) >= 1:
            return self.batch_targets.get(parts[0])
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
                    path=self.rel(f.path),
                    message=display(f.message),
                    target=self.finding_target(f),
                    related=[self.rel(p) for p in f.related],
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
        resolved = sum(len(links) for links in self.ok_links.values())
        shared = sum(self.sizes.values())
        saved = sum(
            self.sizes[key] * (len(links) - 1)
            for key, links in self.ok_links.items()
            if len(links) > 1 and key in self.sizes
        )
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


def _cell(entries: list[GridEntry]) -> Cell:
    return Cell(entries[:GRID_CELL_MAX], max(0, len(entries) - GRID_CELL_MAX))


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


def build(store: Store, index: StoreIndex, result: CheckResult, rules: int, root: str) -> Report:
    """The report context for a fully scanned store; ``rules`` is how many rules ran and
    ``root`` the store's path as the report shows it."""
    builder = _Builder(store, index, result)
    reuse = builder.reuse()
    return Report(
        title=f"Store report: {display(store.root.name)}",
        root=root,
        generated=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip(),
        paged=builder.paged,
        summary=builder.summary(reuse, rules),
        batches=[builder.batch(name) for name in store.batches],
        datasets=[builder.dataset(name) for name in store.datasets()],
        reuse=reuse,
        rules=builder.rules(),
    )


# -- rendering and writing --------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|&(?=#?\w+;)")


def md(text: object) -> str:
    """Text safe in a GitHub Markdown table cell: one line, pipes and markup escaped."""
    flat = " ".join(str(text).split())
    return _MD_SPECIAL.sub(lambda m: "\\" + m[0], flat)


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


def pages(report: Report) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(page, template stem, extra variables) for every page of the report."""
    yield "index", "index", {}
    if report.paged:
        for batch in report.batches:
            yield batch.target.page, "batch", {"batch": batch}
        for dataset in report.datasets:
            yield dataset.target.page, "dataset", {"dataset": dataset}


def render(report: Report, formats: Iterable[str], folder: Path | None = None) -> dict[str, str]:
    """Every page of every format: relative file name -> text.

    Raises :class:`UsageError` when a template is missing or fails to render.
    """
    import jinja2

    env = environment(folder)
    out: dict[str, str] = {}
    for fmt in formats:
        ext = FORMATS[fmt]
        stems = PAGE_TEMPLATES if report.paged else PAGE_TEMPLATES[:1]
        try:
            templates = {stem: env.get_template(f"{stem}{ext}.j2") for stem in stems}
        except jinja2.TemplateNotFound as exc:
            raise UsageError(f"template {exc.name} not found") from exc
        except jinja2.TemplateSyntaxError as exc:
            raise UsageError(f"template {exc.name}:{exc.lineno}: {exc.message}") from exc
        for page, stem, extra in pages(report):

            def link(target: Target, page: str = page, ext: str = ext) -> str:
                return href(target, page, ext)

            home = _relative("index" + ext, page)
            try:
                text = templates[stem].render(
                    r=report, page=page, ext=ext, href=link, home=home, **extra
                )
            except jinja2.TemplateNotFound as exc:
                raise UsageError(f"template {exc.name} not found") from exc
            except jinja2.TemplateError as exc:
                raise UsageError(f"template {stem}{ext}.j2: {exc}") from exc
            out[page + ext] = text
    return out


def write(output: Path, files: Mapping[str, str]) -> list[Path]:
    """Write each file under ``output`` atomically (temp file in its folder, then rename).

    Folders the pages need are created inside ``output``; a symlinked sub-folder is refused so
    that nothing outside ``output`` is ever written.
    """
    written = []
    for rel, text in files.items():
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
        written.append(target)
    return written
