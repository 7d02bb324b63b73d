"""Builds the report (:class:`~batchcheck.report.views.Report`) from a scanned store, its
index and a check result: the sections of the index, and the batch and dataset views.

Only what the index needs is built up front; the batch and dataset views are built page by
page, by whichever process renders the page (see :meth:`Pages.subpages`).
"""

from __future__ import annotations

import heapq
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from datetime import datetime
from functools import partial
from operator import itemgetter
from typing import Any

from batchcheck.findings import CheckResult, Finding, Severity
from batchcheck.formats.seed import short
from batchcheck.index import StoreIndex
from batchcheck.lookups.common import parameters
from batchcheck.metadata import human_size, number
from batchcheck.model import Experiment, Link, LinkState, Store
from batchcheck.names import display
from batchcheck.report.facts import Facts, Status, reached
from batchcheck.report.navigation import (
    INDEX,
    Links,
    SiteMap,
    finding_view,
)
from batchcheck.report.pictures import (
    TableParams,
    batch_matrix,
    heatmaps,
    storage,
    table_data,
    timeline,
    worst_findings,
)
from batchcheck.report.sizes import Sizes
from batchcheck.report.values import natural, section, show_value, shown, varying_parameters
from batchcheck.report.views import (
    BatchDataset,
    BatchSummary,
    BatchView,
    Cell,
    DatasetSummary,
    DatasetView,
    ExperimentView,
    Grid,
    GridEntry,
    Pictures,
    Ref,
    Report,
    ReuseRow,
    ReuseView,
    Row,
    RuleGroup,
    Since,
    Subpage,
    Summary,
    Target,
)
from batchcheck.rules import by_code

MERMAID_MAX_EDGES = 40  # above this a reuse graph is unreadable: the table alone is shown
LABEL_MAX = 60  # characters of a name in the reuse graph
INDEX_ROWS_MAX = 500  # rows of a list on the index page (reuse, each rule's findings)
GRID_CELL_MAX = 6  # experiments listed in one grid cell; the rest are counted
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
SIZE_NOTE = (
    "Sizes are the apparent sizes (st_size) of the regular files under each experiment folder "
    "in _shared, walked once with lstat: symlinks are never followed nor counted, a hard-linked "
    "file counts once per name. Saved by reuse: for each experiment linked n > 1 times, "
    "(n - 1) x its size, i.e. the copies that reuse avoided."
)
_BATCH_NAME = re.compile(r"^batch_(\d{4})(\d{2})(\d{2})_(.+)$")


def build(
    store: Store,
    index: StoreIndex,
    result: CheckResult,
    rules: int,
    root: str,
    sizes: Callable[[], Sizes],
    since: Callable[[Facts], Since] | None = None,
) -> Report:
    """The report context for a fully scanned store; ``rules`` is how many rules ran,
    ``root`` the store's path as the report shows it, ``sizes`` a function giving the size of
    each experiment folder (see :func:`~batchcheck.report.sizes.measuring`): it is called once
    the parts that need no size are built, so that the folders are measured meanwhile;
    ``since``, when given, says what changed since a revision (:mod:`.since`)."""
    facts = Facts.of(store, index, result)
    site = SiteMap(facts)
    reuse = reuse_view(facts, site)
    findings = rule_groups(facts, site)
    # A batch's figures: counted once for the index, found again by its page.
    summaries = {name: batch_summary(facts, site, name) for name in store.batches}
    # The index only counts and draws; the batch and dataset pages describe.
    here = Links(site, INDEX)
    datasets = [dataset_summary(facts, name, here) for name in store.datasets()]
    measured = sizes()
    overview = pictures(facts, site, measured)
    pages = Pages(facts, site, summaries, measured)
    return Report(
        title=f"Store report: {display(store.root.name)}",
        root=root,
        generated=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip(),
        summary=summary(facts, reuse, rules, measured),
        batches=list(summaries.values()),
        datasets=datasets,
        reuse=reuse,
        rules=findings,
        pictures=overview,
        since=since(facts) if since else None,
        subpages=pages.subpages,
        size_note=SIZE_NOTE,
    )


# -- the index ------------------------------------------------------------------------------


def pictures(facts: Facts, site: SiteMap, sizes: Sizes) -> Pictures:
    """The overview's pictures and the experiment table's data."""
    reused = {key for key in facts.links_to if len(set(facts.linked(key))) >= 2}
    drawn = heatmaps(facts, reused)
    params = TableParams.of((h.x, h.y) for h in drawn)
    return Pictures(
        heatmaps=drawn,
        storage=storage(facts, sizes),
        timeline=timeline(facts),
        matrix=batch_matrix(facts, reused),
        worst=worst_findings(facts, site),
        table=partial(table_data, facts, site, sizes, params),
        params=params.columns(),
    )


def batch_summary(facts: Facts, site: SiteMap, name: str) -> BatchSummary:
    """A batch's figures: its links by reuse status and the findings in it."""
    counts = Counter(status for found in facts.statuses[name].values() for status, _ in found)
    match = _BATCH_NAME.match(name)
    return BatchSummary(
        name=display(name),
        target=site.batch_targets[name],
        date=f"{match[1]}-{match[2]}-{match[3]}" if match else "",
        purpose=display(match[4]) if match else "",
        links=sum(counts.values()),
        new=counts["new"],
        reused=counts["reused"],
        broken=counts["broken"],
        findings=facts.batch_findings[name],
    )


def dataset_summary(facts: Facts, name: str, links: Links) -> DatasetSummary:
    """A dataset's figures and the batches that link into it."""
    batches = facts.store.batches.values()
    return DatasetSummary(
        name=display(name),
        target=links.site.dataset_targets[name],
        count=len(facts.by_dataset.get(name, ())),
        batches=links.batches(b.name for b in batches if b.datasets.get(name)),
        links=sum(len(b.datasets.get(name, ())) for b in batches),
    )


def reuse_view(facts: Facts, site: SiteMap) -> ReuseView:
    """The experiments two or more batches link, most linked first; only the rows the index
    shows are built."""
    experiments = facts.store.experiments
    shared, single, orphans = [], 0, 0
    for key in experiments:
        batches = len(set(facts.linked(key)))
        if batches >= 2:
            shared.append((-batches, f"{display(key[0])}/{display(key[1])}", key))
        elif batches:
            single += 1
        else:
            orphans += 1
    links = Links(site, INDEX)
    rows = [
        ReuseRow(
            links.experiment(key, name),
            show_value(experiments[key].metadata.fields.get("original_batch")),
            links.batches(facts.linked(key)),
        )
        for _, name, key in heapq.nsmallest(INDEX_ROWS_MAX, shared, key=itemgetter(0, 1))
    ]
    edges = sum(len(set(facts.linked(key))) for key in facts.links_to)
    graph = None
    if 0 < edges <= MERMAID_MAX_EDGES:
        pairs = sorted({(b, key) for key in facts.links_to for b in facts.linked(key)})
        graph = mermaid(pairs, {r.experiment.name for r in rows})
    return ReuseView(
        rows=rows,
        hidden=len(shared) - len(rows),
        single=single,
        orphans=orphans,
        mermaid=graph,
        edges=edges,
    )


def mermaid(edges: list[tuple[str, tuple[str, str]]], reused: set[str]) -> str:
    """A left-to-right graph batch -> experiment; reused experiments get the ``reused`` class."""
    ids: dict[object, str] = {}
    lines = ["flowchart LR"]

    def node(item: object, label: str, shape: str) -> str:
        if item not in ids:
            ids[item] = f"n{len(ids)}"
            text = label[:LABEL_MAX].replace('"', "#quot;").replace("`", "#96;")
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


def rule_groups(facts: Facts, site: SiteMap) -> list[RuleGroup]:
    """check's findings by rule, each linked to what it is about; the first ones only."""
    groups: dict[str, list[Finding]] = defaultdict(list)
    for finding in facts.result.findings:
        groups[finding.code].append(finding)
    modules = by_code()
    out = []
    for code, found in sorted(groups.items()):
        module = modules.get(code)
        views = [finding_view(facts, site, f) for f in found[:INDEX_ROWS_MAX]]
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


def summary(facts: Facts, reuse: ReuseView, rules: int, sizes: Sizes) -> Summary:
    """The figures at the top of the index."""
    resolved = saved = 0
    for key in facts.links_to:
        count = len(facts.linked(key))
        resolved += count
        if count > 1 and key in sizes.by_key:
            saved += sizes.by_key[key] * (count - 1)
    shared = sum(sizes.by_key.values())
    store = facts.store
    experiments = len(store.experiments)
    return Summary(
        batches=len(store.batches),
        datasets=len(store.datasets()),
        experiments=experiments,
        links=facts.index.link_count,
        resolved=resolved,
        reused_experiments=len(reuse.rows) + reuse.hidden,
        orphans=reuse.orphans,
        reuse_ratio=f"{resolved / experiments:.2f}" if experiments else "n/a",
        shared_size=human_size(shared),
        saved_size=human_size(saved),
        shared_bytes=shared,
        saved_bytes=saved,
        unreadable=sizes.unreadable,
        errors=facts.result.errors,
        warnings=facts.result.warnings,
        rules=rules,
    )


# -- batches and datasets -------------------------------------------------------------------


@dataclass(frozen=True)
class Pages:
    """Builds the view of each batch and dataset, for the batch or dataset page being
    rendered."""

    facts: Facts
    site: SiteMap
    summaries: dict[str, BatchSummary]
    sizes: Sizes

    def batch(self, name: str) -> BatchView:
        """A batch: its link rows per dataset, what varies in it, what it generated."""
        facts = self.facts
        batch = facts.store.batches[name]
        page = self.site.batch_targets[name].page
        links = Links(self.site, page)
        targets = self.site.link_targets(name)
        statuses = facts.statuses[name]
        datasets = [
            BatchDataset(
                display(ds),
                [
                    row(facts, link, status, targets[link.location], links)
                    for link, status in zip(found, statuses[ds], strict=True)
                ],
            )
            for ds, found in batch.datasets.items()
        ]
        wanted = facts.index.settings.fingerprint_fields
        experiments = facts.store.experiments
        params = [
            parameters(experiments[key], wanted)
            for key in dict.fromkeys(
                link.key for link in batch.links if link.key and link.state is LinkState.OK
            )
            if key in experiments
        ]
        return BatchView(
            **_shallow(self.summaries[name]),
            datasets=datasets,
            varying=varying_parameters(params),
            experiments=self.described(page, links),
        )

    def dataset(self, name: str) -> DatasetView:
        """A dataset: its grids and its experiments (those no batch page describes)."""
        exps = self.facts.by_dataset.get(name, [])
        page = self.site.dataset_targets[name].page
        links = Links(self.site, page)
        found, ungridded = grids(self.facts, exps, links)
        return DatasetView(
            **_shallow(dataset_summary(self.facts, name, links)),
            experiments=self.described(page, links),
            grids=found,
            ungridded=ungridded,
        )

    def described(self, page: str, links: Links) -> list[ExperimentView]:
        """The experiments described on ``page``."""
        return [self.experiment(exp, links) for exp in self.site.described.get(page, ())]

    def experiment(self, exp: Experiment, links: Links) -> ExperimentView:
        """A physical experiment as its page describes it."""
        facts = self.facts
        meta = exp.metadata
        fields = meta.fields
        generation = section(fields, "generation")
        stored = fields.get("parameter_fingerprint")
        recomputed = facts.index.recomputed(exp)
        note = ""
        if isinstance(stored, str) and recomputed and stored != recomputed:
            note = f"stored value differs from the recomputed {short(recomputed)}"
        origin = fields.get("original_batch")
        return ExperimentView(
            dataset=display(exp.dataset),
            name=display(exp.name),
            target=self.site.exp_target(exp.key),
            path=facts.rel(exp.location),
            fingerprint=facts.short(exp),
            fingerprint_note=note,
            created=show_value(fields.get("created_at")).replace("T", " ", 1),
            origin=links.batch(origin) if isinstance(origin, str) else None,
            model=shown(generation.get("model")),
            temperature=shown(generation.get("temperature")),
            top_p=shown(generation.get("top_p")),
            max_tokens=shown(generation.get("max_tokens")),
            validation_model=shown(section(fields, "validation").get("model")),
            purpose=show_value(fields.get("experiment_purpose")),
            description=display(" ".join(str(fields.get("experiment_description") or "").split())),
            linked_by=links.batches(facts.linked(exp.key)),
            metadata="ok" if meta.ok else f"{meta.state}: {meta.error}".rstrip(": "),
            data=exp.data.value,
            size=human_size(self.sizes.by_key[exp.key]),
            codes=facts.codes(exp.location),
            level=facts.level(exp.location),
        )

    def subpages(self) -> Iterator[Subpage]:
        """The batch and dataset pages: (page, template stem, a function that builds its
        variables), so a page's view is built only by whoever renders it."""
        for name in self.facts.store.batches:
            page = self.site.batch_targets[name].page
            yield page, "batch", partial(self._variables, "batch", name)
        for name in self.facts.store.datasets():
            page = self.site.dataset_targets[name].page
            yield page, "dataset", partial(self._variables, "dataset", name)

    def _variables(self, stem: str, name: str) -> dict[str, Any]:
        return {"batch": self.batch(name)} if stem == "batch" else {"dataset": self.dataset(name)}


def row(facts: Facts, link: Link, status: Status, target: Target, links: Links) -> Row:
    """A link of a batch: what it reaches, and whether the batch generated or reused it."""
    exp = reached(facts.store, link)
    word, text = status
    visible = exp if word != "broken" else None
    fields = exp.metadata.fields if exp else {}
    generation = section(fields, "generation")
    return Row(
        name=display(link.name),
        target=target,
        state=link.state.value,
        experiment=links.experiment(visible.key) if visible else None,
        status=word,
        status_text=text,
        origin=links.batch(fields["original_batch"]) if word == "reused" else None,
        fingerprint=facts.short(visible) if visible else "",
        model=shown(generation.get("model")),
        temperature=shown(generation.get("temperature")),
        top_p=shown(generation.get("top_p")),
        codes=facts.codes(link.location, *([exp.location] if exp else [])),
        level=facts.level(link.location, *([exp.location] if exp else [])),
    )


def grids(facts: Facts, exps: list[Experiment], links: Links) -> tuple[list[Grid], list[Ref]]:
    """The temperature x top_p grids of a dataset's experiments, and those that fit none;
    only a cell's first experiments are described, the rest are counted."""
    cells: dict[str, dict[tuple[str, str], list[Experiment]]] = defaultdict(
        lambda: defaultdict(list)
    )
    ungridded = []
    for exp in exps:
        model = exp.metadata.get("generation.model")
        temp = exp.metadata.get("generation.temperature")
        top_p = exp.metadata.get("generation.top_p")
        if not isinstance(model, str) or number(temp) is None or number(top_p) is None:
            ungridded.append(links.experiment(exp.key))
            continue
        cells[display(model)][(show_value(temp), show_value(top_p))].append(exp)
    out = []
    for model, by_config in sorted(cells.items()):
        temps = sorted({t for t, _ in by_config}, key=natural)
        top_ps = sorted({p for _, p in by_config}, key=natural)
        rows = [(t, [cell(facts, by_config.get((t, p), []), links) for p in top_ps]) for t in temps]
        out.append(Grid(model, top_ps, rows))
    return out, ungridded


def cell(facts: Facts, exps: list[Experiment], links: Links) -> Cell:
    """One configuration of a grid: its first experiments, with the batches that link them."""
    entries = [
        GridEntry(links.experiment(exp.key), links.batches(facts.linked(exp.key)))
        for exp in exps[:GRID_CELL_MAX]
    ]
    return Cell(entries, max(0, len(exps) - GRID_CELL_MAX))


def _shallow(view: Any) -> dict[str, Any]:
    """A view's fields by name, values as they are (``asdict`` would copy them deeply)."""
    return {f.name: getattr(view, f.name) for f in fields(view)}
