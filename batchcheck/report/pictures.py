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
from collections.abc import Iterable, Iterator
from itertools import combinations

from batchcheck.findings import Severity
from batchcheck.metadata import human_size
from batchcheck.names import display
from batchcheck.report.facts import Facts, Key
from batchcheck.report.navigation import SiteMap, finding_view
from batchcheck.report.sizes import Sizes
from batchcheck.report.values import natural, section, show_value
from batchcheck.report.views import Bar, FindingView, Heatmap, HeatRow, Matrix

# The parameters a heatmap may be drawn on: (short name in the page's data, metadata path).
AXES = (("t", "temperature"), ("p", "top_p"), ("k", "max_tokens"))
AXIS_VALUES_MAX = 12  # values of one heatmap axis; the rest are counted, not drawn
MATRIX_BATCHES_MAX = 12  # batches of the reuse matrix: those that share the most
WORST_MAX = 15  # findings the summary lists one by one
TABLE_CHUNK = 1000  # table rows joined into one text at a time
TIMELINE_MAX = 36  # bars of "created over time": months, or years when there are more


def worst_findings(facts: Facts, site: SiteMap) -> list[FindingView]:
    """The first errors, then the first warnings, of check's findings."""
    chosen = heapq.nsmallest(
        WORST_MAX,
        enumerate(facts.result.findings),
        key=lambda pair: (pair[1].severity is not Severity.ERROR, pair[0]),
    )
    return [finding_view(facts, site, f) for _, f in chosen]


def _generation(facts: Facts, key: Key) -> dict[str, str]:
    """The model and the axis parameters of an experiment, as shown."""
    generation = section(facts.store.experiments[key].metadata.fields, "generation")
    shown = {name: show_value(generation.get(path)) for name, path in AXES}
    shown["m"] = show_value(generation.get("model"))
    return shown


def heatmaps(facts: Facts, reused: set[Key]) -> list[Heatmap]:
    """One heatmap per dataset and generation model, on temperature x top_p or, when those
    do not both vary, the two parameters with the most values: each cell counts the
    experiments of that configuration and those of them two or more batches link."""
    # (dataset, model) -> (temperature, top_p, max_tokens) -> [experiments, reused]: counts
    # only, so a large store's heatmaps cost a few configurations, not an object per experiment.
    groups: dict[tuple[str, str], dict[tuple[str, ...], list[int]]] = defaultdict(dict)
    for key in facts.store.experiments:
        shown = _generation(facts, key)
        if shown["m"]:
            config = tuple(shown[name] for name, _ in AXES)
            counts = groups[key[0], shown["m"]].setdefault(config, [0, 0])
            counts[0] += 1
            counts[1] += key in reused
    out = []
    for (dataset, model), configs in sorted(groups.items()):
        values = [{c[i] for c in configs if c[i]} for i in range(len(AXES))]
        ranked = sorted(range(len(AXES)), key=lambda i: -len(values[i]))
        x, y = ranked[0], ranked[1]
        if (len(values[0]) > 1 and len(values[1]) > 1) or len(values[y]) < 2:
            x, y = 0, 1
        cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for config, (count, reuse) in configs.items():
            cell = cells[config[x] or "(missing)", config[y] or "(missing)"]
            cell[0] += count
            cell[1] += reuse
        xs = sorted({c[0] for c in cells}, key=natural)
        ys = sorted({c[1] for c in cells}, key=natural)
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
        out.append(
            Heatmap(
                dataset=display(dataset),
                model=model,
                x=AXES[x][1],
                y=AXES[y][1],
                xkey=AXES[x][0],
                ykey=AXES[y][0],
                columns=ys[:AXIS_VALUES_MAX],
                rows=rows,
                top=max(c[0] for c in cells.values()),
                count=sum(c[0] for c in cells.values()),
                hidden=max(0, len(xs) - AXIS_VALUES_MAX) + max(0, len(ys) - AXIS_VALUES_MAX),
            )
        )
    return out


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


def table_data(facts: Facts, site: SiteMap, sizes: Sizes) -> Iterator[str]:
    """Every experiment as a compact row of the page's table, as JSON text in pieces: names
    and batches as indexes into lists held once, the anchor only where it is not
    ``exp-<dataset>-<name>``.

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
        shown = _generation(facts, key)
        target = site.exp_target(key)
        created = exp.metadata.fields.get("created_at")
        name = display(key[1])
        anchor = target.anchor
        if anchor == f"exp-{site.dataset_slugs[key[0]]}-{name}":
            anchor = ""
        row = [
            datasets[key[0]],
            name,
            models.setdefault(shown["m"], len(models)),
            shown["t"],
            shown["p"],
            shown["k"],
            sorted({batches[b] for b in facts.linked(key) if b in batches}),
            facts.level(exp.location) or "ok",
            " ".join(facts.codes(exp.location)),
            sizes.by_key.get(key, 0),
            created[:10] if isinstance(created, str) else "",
            pages.setdefault(target.page, len(pages)),
            anchor,
        ]
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
    }
    yield "]," + dumps(head).replace("<", "\\u003c")[1:]
