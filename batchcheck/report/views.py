"""What the templates lay out: plain dataclasses, every text already worded and every link
already worked out, so a template (the shipped ones or a team's own) only arranges them.

What a page shows by the hundred (Ref, Row, ExperimentView, GridEntry) is not frozen: a frozen
dataclass sets each field through object.__setattr__, which made up a third of building a row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

# A page to render: (page, template stem, a function giving its variables).
Subpage = tuple[str, str, Callable[[], dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Target:
    """Where something is shown: a page (relative, without extension) and an anchor on it."""

    page: str
    anchor: str


@dataclass(slots=True)
class Ref:
    """A name and, when it exists in the report, where it is shown: its ``target``, and
    ``file``, the target's page relative to the page being laid out, without extension (empty
    on that page itself); the render step adds the extension of its format (the ``link``
    filter).

    The relative files are worked out once per page in Python: a template that asked
    ``href()`` for each of a page's hundreds of references would spend more time there than
    on the rows.
    """

    name: str
    target: Target | None = None
    file: str = ""


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
    level: str  # the worst severity among ``codes``: error, warning, or empty


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
    level: str  # the worst severity among ``codes``: error, warning, or empty


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
class ReuseView:
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
    code: str = ""


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
class HeatRow:
    """A row of a heatmap: its value and, per column, (experiments, of them reused)."""

    value: str
    cells: list[tuple[int, int]]


@dataclass(frozen=True, slots=True)
class Heatmap:
    """The parameter coverage of one dataset and generation model: ``x`` (rows) by ``y``
    (columns); ``xkey``/``ykey`` name the parameters in the page's table data."""

    dataset: str
    model: str
    x: str
    y: str
    xkey: str
    ykey: str
    columns: list[str]
    rows: list[HeatRow]
    top: int  # the largest count, that colours are scaled to
    count: int
    hidden: int  # axis values not drawn


@dataclass(frozen=True, slots=True)
class Bar:
    """A bar of a chart: its label, value (and a second one, such as what reuse saved) and
    the largest value of the chart, that widths are scaled to."""

    label: str
    value: int
    extra: int
    shown: str
    extra_shown: str
    top: int


@dataclass(frozen=True, slots=True)
class Matrix:
    """How many experiments each pair of batches shares."""

    batches: list[str]
    cells: list[list[int]]
    top: int
    hidden: int  # sharing batches left out


@dataclass(frozen=True, slots=True)
class Pictures:
    """The overview of ``index.html`` (and the coverage tables of the summary)."""

    heatmaps: list[Heatmap]
    storage: list[Bar]
    timeline: list[Bar]
    matrix: Matrix
    worst: list[FindingView]
    # The experiment table's data: JSON in pieces, safe inside a script element, made as the
    # page is written.
    table: Callable[[], Iterator[str]]
    params: list[tuple[str, str]]  # (key, name): the table's columns for heatmap parameters


@dataclass(frozen=True, slots=True)
class SinceRow:
    """One thing that changed since the revision, and what about it."""

    name: str
    detail: str


@dataclass(frozen=True, slots=True)
class Since:
    """What changed since a git revision: (title, how many, the first rows) per kind."""

    rev: str
    lists: list[tuple[str, int, list[SinceRow]]]


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
    """Everything the templates lay out: the index lists the summaries of ``batches`` and
    ``datasets``, and ``subpages`` builds each batch and dataset page's view as that page is
    rendered."""

    title: str
    root: str
    generated: str
    summary: Summary
    batches: list[BatchSummary]
    datasets: list[DatasetSummary]
    reuse: ReuseView
    rules: list[RuleGroup]
    pictures: Pictures
    since: Since | None
    subpages: Callable[[], Iterator[Subpage]]
    size_note: str
