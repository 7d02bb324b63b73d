"""What the overview pictures and the experiment table of ``index.html`` show, and the bounded
parts of the Markdown summary: the parameter-coverage heatmaps, storage and reuse per dataset,
experiments created over time, reuse between batches, the worst findings, and every
experiment as one compact row of the page's JSON data.

Each list here is bounded (a heatmap's axes, the batches of the reuse matrix, the worst
findings) so that the pages that show them stay small whatever the store.
"""

from __future__ import annotations

import heapq
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from batchcheck.findings import Severity
from batchcheck.metadata import human_size
from batchcheck.names import display
from batchcheck.report.facts import Facts, Key
from batchcheck.report.navigation import SiteMap, finding_view
from batchcheck.report.sizes import Sizes
from batchcheck.report.values import section, shown
from batchcheck.report.views import Bar, FindingView, Heatmap, HeatRow, Matrix

# The parameters the experiment table has a column for: (key in the page's data, name). A
# heatmap drawn on another parameter adds its column (see TableParams).
AXES = (("t", "temperature"), ("p", "top_p"), ("k", "max_tokens"))
PREFERRED = tuple(name for _, name in AXES)  # how ties between axes break, then by name
MISSING = "(missing)"
AXIS_VALUES_MAX = 12  # values of one heatmap axis; the rest are counted, not drawn
MATRIX_BATCHES_MAX = 12  # batches of the reuse matrix: those that share the most
WORST_MAX = 15  # findings the summary lists one by one
TABLE_CHUNK = 1000  # table rows joined into one text at a time
TIMELINE_MAX = 36  # bars of "created over time": months, or years when there are more


@dataclass(frozen=True, slots=True)
class TableParams:
    """The generation parameters the heatmaps are drawn on, as the experiment table knows
    them: temperature, top_p and max_tokens by their keys in ``AXES``, any other as ``a<i>``,
    its place in ``extra`` (the values of a row's last field)."""

    names: frozenset[str]
    extra: tuple[str, ...]

    @classmethod
    def of(cls, axes: Iterable[Iterable[str]]) -> TableParams:
        """The parameters of heatmaps drawn on ``axes`` (an empty name is no axis)."""
        names = frozenset(name for pair in axes for name in pair if name)
        return cls(names, tuple(sorted(names - set(PREFERRED))))

    def key(self, name: str) -> str:
        """The key of a parameter in the page's data (empty for no axis)."""
        if name in PREFERRED:
            return AXES[PREFERRED.index(name)][0]
        return f"a{self.extra.index(name)}" if name else ""

    def columns(self) -> list[tuple[str, str]]:
        """(key, name) of the table's columns beyond temperature and top_p: the heatmaps'
        other parameters."""
        return [(self.key(n), display(n)) for n in ("max_tokens", *self.extra) if n in self.names]


def worst_findings(facts: Facts, site: SiteMap) -> list[FindingView]:
    """The first errors, then the first warnings, of check's findings."""
    chosen = heapq.nsmallest(
        WORST_MAX,
        enumerate(facts.result.findings),
        key=lambda pair: (pair[1].severity is not Severity.ERROR, pair[0]),
    )
    return [finding_view(facts, site, f) for _, f in chosen]


def _generation(facts: Facts, key: Key) -> Mapping[str, Any]:
    """The generation parameters of an experiment (the model among them), as stored."""
    return section(facts.store.experiments[key].metadata.fields, "generation")


def _axis_order(values: Iterable[str]) -> list[str]:
    """An axis's values: numbers in numeric order when every value is one, else by text;
    ``(missing)`` last."""
    present = [v for v in values if v != MISSING]
    try:
        ordered = sorted(present, key=lambda v: (_number(v), v))
    except ValueError:
        ordered = sorted(present)
    return ordered + [MISSING] * (len(present) < len(set(values)))


def _number(text: str) -> float:
    """The number a value's text shows; ValueError when it is none (NaN is none: it would
    leave the order undefined)."""
    found = float(text)
    if found != found:
        raise ValueError(text)
    return found


def _axes(values: dict[str, set[str]]) -> list[str]:
    """The (at most two) parameters of a heatmap: those with the most distinct values; a tie
    goes to temperature, top_p, max_tokens in that order, then to the name in text order.
    So when fewer than two vary, a parameter of one value completes the pair (temperature and
    top_p first): the grid still says what that value is."""
    ranked = sorted(
        values,
        key=lambda name: (
            -len(values[name]),
            PREFERRED.index(name) if name in PREFERRED else len(PREFERRED),
            name,
        ),
    )
    return ranked[:2]


def heatmaps(facts: Facts, reused: set[Key]) -> list[Heatmap]:
    """One heatmap per dataset and generation model, on the two generation parameters (any
    key of ``generation`` but the model) with the most distinct values (see :func:`_axes`):
    each cell counts the experiments of that configuration and those of them two or more
    batches link. Experiments of a model that has one generation parameter besides it are
    counted in one column, per its value; with none, in one cell.

    Two passes over the experiments holding counts only: the distinct values of each
    parameter, then the cells of the two chosen, so a large store's heatmaps cost a few
    configurations, not an object per experiment.
    """
    values: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for key in facts.store.experiments:
        generation = _generation(facts, key)
        model = shown(generation.get("model"))
        if model:
            found = values[key[0], model]
            for name, item in generation.items():
                text = shown(item)
                if text and name != "model":
                    found[str(name)].add(text)
    axes = {group: [*_axes(found), "", ""][:2] for group, found in values.items()}
    cells: dict[tuple[str, str], dict[tuple[str, str], list[int]]] = defaultdict(dict)
    for key in facts.store.experiments:
        generation = _generation(facts, key)
        chosen = axes.get((key[0], shown(generation.get("model"))))
        if chosen is not None:
            x, y = (shown(generation.get(a)) or MISSING if a else "" for a in chosen)
            counts = cells[key[0], shown(generation.get("model"))].setdefault((x, y), [0, 0])
            counts[0] += 1
            counts[1] += key in reused
    table = TableParams.of(axes.values())
    return [
        _heatmap(dataset, model, axes[dataset, model], found, table)
        for (dataset, model), found in sorted(cells.items())
    ]


def _heatmap(
    dataset: str,
    model: str,
    axes: list[str],
    cells: dict[tuple[str, str], list[int]],
    table: TableParams,
) -> Heatmap:
    """The heatmap of one dataset and model on ``axes`` (an empty name: no such axis)."""
    xs = _axis_order({c[0] for c in cells})
    ys = _axis_order({c[1] for c in cells})
    rows = [
        HeatRow(
            xv,
            [
                (cells[xv, yv][0], cells[xv, yv][1]) if (xv, yv) in cells else (0, 0)
                for yv in ys[:AXIS_VALUES_MAX]
            ],
        )
        for xv in xs[:AXIS_VALUES_MAX]
    ]
    return Heatmap(
        dataset=display(dataset),
        model=model,
        x=display(axes[0]),
        y=display(axes[1]),
        xkey=table.key(axes[0]),
        ykey=table.key(axes[1]),
        columns=ys[:AXIS_VALUES_MAX],
        rows=rows,
        top=max(c[0] for c in cells.values()),
        count=sum(c[0] for c in cells.values()),
        hidden=max(0, len(xs) - AXIS_VALUES_MAX) + max(0, len(ys) - AXIS_VALUES_MAX),
    )


def storage(facts: Facts, sizes: Sizes) -> list[Bar]:
    """The size of each dataset's experiments and what reuse saved in it, largest first."""
    size: Counter[str] = Counter()
    saved: Counter[str] = Counter()
    for key, found in sizes.by_key.items():
        size[key[0]] += found
        count = len(facts.linked(key))
        if count > 1:
            saved[key[0]] += found * (count - 1)
    top = max([*size.values(), *saved.values(), 1])
    return [
        Bar(display(name), value, saved[name], human_size(value), human_size(saved[name]), top)
        for name, value in size.most_common()
    ]


def timeline(facts: Facts) -> list[Bar]:
    """How many experiments were created each month (each year when the months are many)."""
    months: Counter[str] = Counter()
    for exp in facts.store.experiments.values():
        created = exp.metadata.fields.get("created_at")
        if isinstance(created, str) and len(created) >= 7 and created[4] == "-":
            months[created[:7]] += 1
    if len(months) > TIMELINE_MAX:
        years: Counter[str] = Counter()
        for month, count in months.items():
            years[month[:4]] += count
        months = years
    top = max(months.values(), default=1)
    return [Bar(display(k), v, 0, str(v), "", top) for k, v in sorted(months.items())]


def batch_matrix(facts: Facts, reused: Iterable[Key]) -> Matrix:
    """How many experiments each pair of batches shares, for the batches that share most."""
    pairs: Counter[tuple[str, str]] = Counter()
    shared: Counter[str] = Counter()
    for key in reused:
        batches = sorted(set(facts.linked(key)))
        for batch in batches:
            shared[batch] += 1
        for pair in combinations(batches[:50], 2):
            pairs[pair] += 1
    # Ties by name: the same batches whatever order the experiments came in.
    most = heapq.nsmallest(MATRIX_BATCHES_MAX, shared.items(), key=lambda bc: (-bc[1], bc[0]))
    chosen = sorted(name for name, _ in most)
    cells = [[pairs[min(a, b), max(a, b)] if a != b else 0 for b in chosen] for a in chosen]
    top = max([c for row in cells for c in row] + [1])
    return Matrix([display(n) for n in chosen], cells, top, max(0, len(shared) - len(chosen)))


def table_data(facts: Facts, site: SiteMap, sizes: Sizes, params: TableParams) -> Iterator[str]:
    """Every experiment as a compact row of the page's table, as JSON text in pieces: names
    and batches as indexes into lists held once, the anchor only where it is not
    ``exp-<dataset>-<name>``, the values of ``params.extra`` last when there are any.

    Made while the page is written, a thousand rows at a time: a 100k store's rows are never
    all held, as Python objects or as text.
    """
    datasets = {name: i for i, name in enumerate(facts.store.datasets())}
    batches = {name: i for i, name in enumerate(facts.store.batches)}
    models: dict[str, int] = {}
    pages: dict[str, int] = {}
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    rows: list[str] = []
    yield '{"rows":['
    comma = ""
    for key, exp in facts.store.experiments.items():
        generation = _generation(facts, key)
        target = site.exp_target(key)
        created = exp.metadata.fields.get("created_at")
        name = display(key[1])
        anchor = target.anchor
        if anchor == f"exp-{site.dataset_slugs[key[0]]}-{name}":
            anchor = ""
        row = [
            datasets[key[0]],
            name,
            models.setdefault(shown(generation.get("model")), len(models)),
            *(shown(generation.get(param)) for param in PREFERRED),
            sorted({batches[b] for b in facts.linked(key) if b in batches}),
            facts.level(exp.location) or "ok",
            " ".join(facts.codes(exp.location)),
            sizes.by_key.get(key, 0),
            created[:10] if isinstance(created, str) else "",
            pages.setdefault(target.page, len(pages)),
            anchor,
        ]
        if params.extra:
            row.append([shown(generation.get(param)) for param in params.extra])
        # Inside <script type="application/json">: no "<" may end the element early.
        rows.append(dumps(row).replace("<", "\\u003c"))
        if len(rows) == TABLE_CHUNK:
            yield comma + ",".join(rows)
            comma = ","
            rows.clear()
    if rows:
        yield comma + ",".join(rows)
    head = {
        "datasets": [display(n) for n in datasets],
        "slugs": [site.dataset_slugs[n] for n in datasets],
        "batches": [display(n) for n in batches],
        "models": list(models),
        "pages": list(pages),
        "params": [key for key, _ in params.columns()],
    }
    yield "]," + dumps(head).replace("<", "\\u003c")[1:]
