"""``--format text`` of the lookups: the seed's layout, line for line where the seed shows it.

Headers are 80 ``=``, dataset headers are followed by 80 ``-``; markers come from the view's
symbols (emoji or ASCII). "Batch view" / "Physical storage" are relative to the root as in the
seed; every other path is relative to the current folder when under it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from batchcheck.formats.data import dump_yaml
from batchcheck.formats.seed import (
    created,
    dataset_header,
    field_lines,
    header,
    label,
    multi_line,
    pair_lines,
    short,
    value,
)
from batchcheck.formats.view import View, plural
from batchcheck.layout import SHARED
from batchcheck.lookups.common import (
    data_path,
    link_problem,
    metadata_problem,
    metadata_problems,
    shown_fields,
    stray_problem,
)
from batchcheck.lookups.compare import BatchComparison, Comparison
from batchcheck.lookups.listing import (
    BatchExperiment,
    BatchExperiments,
    BatchList,
    DataPathList,
    DataPaths,
    SharedExperiments,
    batch_issues,
)
from batchcheck.lookups.resolve import Resolution
from batchcheck.model import Experiment, Link, LinkState
from batchcheck.names import display


def _fields(lines: list[str], pairs: Iterable[tuple[str, Any]], indent: str) -> None:
    for name, shown in pairs:
        if shown is not None:
            lines.extend(field_lines(name, shown, indent))


def _problems(lines: list[str], view: View, problems: Iterable[str], indent: str) -> None:
    lines.extend(f"{indent}{view.symbols.error} {display(problem)}" for problem in problems)


# -- list-batches ------------------------------------------------------------------------------


def list_batches(result: BatchList, out: TextIO, view: View) -> None:
    """``Found N batches`` and one block per batch; ``verbose`` adds datasets and experiments."""
    verbose = view.verbose
    count = len(result.batches)
    header(out, f"Found {count} {'batch' if count == 1 else 'batches'}")
    for batch in result.batches:
        lines = ["", f"{view.symbols.batch} {display(batch.name)}"]
        # The verbose listing marks a broken link next to its name instead.
        problems = batch_issues(batch, links=not verbose)
        lines.append(f"   Experiments: {sum(len(ls) for ls in batch.datasets.values())}")
        if verbose:
            for dataset, links in sorted(batch.datasets.items()):
                lines.append(f"   {display(dataset)}: {plural(len(links), 'experiment')}")
                for link in links:
                    broken = link_problem(link)
                    mark = f"  {view.symbols.error} {broken}" if broken else ""
                    lines.append(f"      - {display(link.name)}{mark}")
        _problems(lines, view, problems, "   ")
        out.write("\n".join(lines) + "\n")


# -- list-batch-experiments ---------------------------------------------------------------------


def _reuse_line(entry: BatchExperiment, view: View) -> str | None:
    reuse = entry.reuse
    if reuse.status == "new":
        return f"{view.symbols.reuse} Data reuse: No (newly generated)"
    if reuse.status == "reused":
        return f"{view.symbols.reuse} Data reuse: Yes (original batch: {reuse.original_batch})"
    if entry.problems:
        return None  # the problem line says why
    return f"{view.symbols.reuse} Data reuse: unknown (no original_batch in the metadata)"


def _short(fingerprint: Any) -> str | None:
    return short(value(fingerprint)) if fingerprint is not None else None


def list_batch_experiments(result: BatchExperiments, out: TextIO, view: View) -> None:
    """The seed's batch listing: per dataset, each experiment with its reuse status."""
    verbose = view.verbose
    header(out, f"Batch: {display(result.batch.name)}", f"Experiments: {result.count}")
    for dataset, entries, strays in result.datasets:
        dataset_header(out, view, dataset, len(entries))
        for entry in entries:
            meta = shown_fields(entry.experiment) if entry.experiment else None
            lines = ["", f"  {view.symbols.experiment} {display(entry.link.name)}"]
            lines.append(f"     Batch view: {display(entry.batch_view)}")
            _problems(lines, view, entry.problems, "     ")
            if verbose and meta is not None:
                _fields(
                    lines,
                    [
                        ("Physical storage", entry.physical),
                        ("Created", _maybe(created, meta.get("created_at"))),
                        ("Parameter fingerprint", _short(meta.get("parameter_fingerprint"))),
                    ],
                    "     ",
                )
            reuse_line = _reuse_line(entry, view)
            if reuse_line:
                lines.append(f"     {reuse_line}")
            if verbose and meta is not None:
                _fields(
                    lines,
                    [
                        ("Generation model", _maybe(value, meta.get("generation.model"))),
                        ("Temperature", _maybe(value, meta.get("generation.temperature"))),
                        ("Top_p", _maybe(value, meta.get("generation.top_p"))),
                    ],
                    "     ",
                )
            out.write("\n".join(lines) + "\n")
        for stray in strays:
            out.write(f"\n  {view.symbols.error} {display(stray.name)}: {stray_problem(stray)}\n")
    if result.batch.problems:
        out.write("\n")
        for problem in result.batch.problems:
            out.write(f"{view.symbols.error} {view.path(problem.path)}: {problem.message}\n")


def _maybe(show: Any, item: Any) -> str | None:
    return None if item is None else str(show(item))


# -- list-shared-experiments ---------------------------------------------------------------------


def _config(lines: list[str], title: str, config: Any) -> None:
    if not isinstance(config, Mapping):
        if config is not None:
            lines.append(f"     {title}: {value(config)}")
        return
    lines.extend(["", f"     {title}:"])
    for key, item in config.items():
        lines.extend(field_lines(label(key), item, "       "))


def _shared_entry(exp: Experiment, view: View) -> list[str]:
    verbose = view.verbose
    meta = shown_fields(exp)
    fingerprint = _short(meta.get("parameter_fingerprint"))
    lines = ["", f"  {view.symbols.shared} {display(exp.name)}"]
    lines.append(f"     Physical path: {view.path(exp.path)}")
    _problems(lines, view, metadata_problems(exp), "     ")
    _fields(
        lines,
        [
            ("Parameter fingerprint", f"{fingerprint}..." if fingerprint else None),
            ("Created", _maybe(created, meta.get("created_at")) if verbose else None),
            ("Original batch", _maybe(value, meta.get("original_batch"))),
        ],
        "     ",
    )
    if verbose:
        _config(lines, "Generation config", meta.get("generation"))
        _config(lines, "Validation config", meta.get("validation"))
        extra = [
            ("Experiment purpose", _maybe(value, meta.get("experiment_purpose"))),
            ("Experiment description", _maybe(value, meta.get("experiment_description"))),
        ]
        if any(shown for _, shown in extra):
            lines.append("")
        _fields(lines, extra, "     ")
    return lines


def list_shared_experiments(result: SharedExperiments, out: TextIO, view: View) -> None:
    """The seed's ``_shared`` listing; ``verbose`` adds the parameters and the purpose."""
    header(out, f"Physical experiment data in {SHARED}/", f"Experiments: {result.count}")
    for dataset, exps in result.datasets:
        dataset_header(out, view, dataset, len(exps))
        for exp in exps:
            out.write("\n".join(_shared_entry(exp, view)) + "\n")
    if result.problems:
        out.write("\n")
        _lines: list[str] = []
        _problems(_lines, view, result.problems, "")
        out.write("\n".join(_lines) + "\n")


# -- list-data-paths and resolve-data-path --------------------------------------------------------


def _paths(
    view: View,
    dataset: str,
    name: str,
    links: Iterable[Link],
    shared_data: Any,
    title: str = "Batch path (recommended)",
) -> list[str]:
    """One experiment's training data paths: batch paths first (recommended), then shared."""
    s = view.symbols
    lines = [f"{s.folder} {display(dataset)} / {display(name)}"]
    links = list(links)
    good = [link for link in links if link.state is LinkState.OK]
    if good:
        lines.append(f"   {s.ok} {title}:")
        lines.extend(f"      {view.path(data_path(li.location, li.dataset))}" for li in good)
    elif not links:
        lines.append(f"   {s.warn} No batch links this experiment: use the shared path")
    for link in links:
        if link.state is not LinkState.OK:
            lines.append(f"   {s.error} Batch path (broken link):")
            lines.append(f"      {view.path(data_path(link.location, link.dataset))}")
            lines.append(f"      {link_problem(link)}")
    lines.extend(["", f"   {s.shared} Shared path (physical storage):"])
    lines.append(f"      {view.path(shared_data)}")
    return lines


def _data_paths_entry(entry: DataPaths, view: View) -> list[str]:
    lines = _paths(
        view, entry.dataset, entry.name, entry.links, data_path(entry.shared, entry.dataset)
    )
    _problems(lines, view, entry.problems, "   ")
    return lines


def data_paths_yaml(result: DataPathList, out: TextIO, view: View) -> None:
    """``list-data-paths --format yaml``: a ``data_paths`` list to paste into a training
    config, each path usable as it is (no BC5xx finding); what was left out, as comments."""
    doc, left = result.to_config(view.cwd)
    out.write(f"# Training data paths of {view.path(result.root)} (batchcheck)\n")
    dump_yaml(doc, out)
    if left:
        out.write("# Left out, no usable path (batchcheck check says more):\n")
        out.writelines(f"#   {display(line)}\n" for line in left)


def list_data_paths(result: DataPathList, out: TextIO, view: View) -> None:
    """Every experiment's batch and shared training data paths, as the seed prints them."""
    header(out, "Training data paths", f"Experiments: {len(result.entries)}")
    for entry in result.entries:
        out.write("\n" + "\n".join(_data_paths_entry(entry, view)) + "\n")


def resolve_data_path(result: Resolution, out: TextIO, view: View) -> None:
    """A batch path with its shared path, or a shared path with every batch path linking it."""
    kind = result.query.kind
    header(out, "Batch path -> shared path" if kind == "batch" else "Shared path -> batches")
    shared_data = data_path(result.shared, result.dataset)
    title = "Batch path (recommended)"
    if kind == "shared":
        title = f"Referenced by {plural(len(result.links), 'batch link')} (recommended paths)"
    lines = _paths(view, result.dataset, result.shared.name, result.links, shared_data, title)
    lines.extend(["", f"   {view.symbols.info} Experiment folder: {view.path(result.shared)}"])
    out.write("\n" + "\n".join(lines) + "\n")


# -- compare-experiments -------------------------------------------------------------------------


def compare_experiments(result: Comparison, out: TextIO, view: View) -> None:
    """The seed's comparison: same parameters, different ones with both values, the verdict."""
    s = view.symbols
    header(out, "Experiment Parameter Comparison")
    lines = [""]
    for i, side in enumerate(result.sides, 1):
        lines.append(f"Experiment {i}: {side.label}")
        _problems(lines, view, [p for p in (metadata_problem(side.experiment),) if p], "  ")
    if result.same:
        lines.extend(["", f"{s.ok} Same parameters:"])
        for path, item in result.same:
            lines.extend(field_lines(path, item, "  "))
    if result.different:
        lines.extend(["", f"{s.warn} Different parameters:"])
        for change in result.different:
            lines.append(f"  {change.path}:")
            lines.extend(pair_lines(("Experiment 1", "Experiment 2"), change.values, "    "))
    verdict = {
        "same": f"{s.ok} Note: Same fingerprint, the data can be shared",
        "different": f"{s.experiment} Note: Parameters differ, need to generate data separately",
        "unknown": f"{s.error} Note: a fingerprint cannot be computed, so no verdict",
    }[result.verdict]
    lines.extend(["", verdict])
    for i, side in enumerate(result.sides, 1):
        shown = short(side.fingerprint) if side.fingerprint else "(cannot be computed)"
        if side.stored and side.stored != side.fingerprint:
            shown += f" (stored: {display(short(side.stored))})"
        lines.append(f"  Experiment {i} fingerprint: {shown}")
    out.write("\n".join(lines) + "\n")


def _configs(lines: list[str], title: str, items: list[tuple[str, str]]) -> None:
    lines.extend(["", f"{title} ({plural(len(items), 'configuration')}):"])
    lines.extend(f"  {short(fp)}  {names}" for fp, names in items)
    if not items:
        lines.append("  (none)")


def compare_batches(result: BatchComparison, out: TextIO, view: View) -> None:
    """Configurations on both sides, only on one, and the values of each varying parameter."""
    s = view.symbols
    header(out, "Batch Parameter Comparison")
    lines = [""]
    for i, side in enumerate(result.sides, 1):
        lines.append(
            f"Side {i}: {display(side.batch)} / {display(side.dataset)} "
            f"({plural(side.count, 'experiment')})"
        )
    both = [
        (fp, f"side 1: {', '.join(one)}; side 2: {', '.join(two)}") for fp, one, two in result.both
    ]
    _configs(lines, f"{s.ok} On both sides", both)
    for i, only in enumerate(result.only, 1):
        _configs(lines, f"{s.warn} Only in side {i}", [(fp, ", ".join(n)) for fp, n in only])
    lines.extend(["", f"{s.dataset} Parameters that vary:"])
    for varying in result.varying:
        lines.append(f"  {varying.path}:")
        for i, values in enumerate(varying.values, 1):
            if any(multi_line(v) for v in values):  # one block per value
                lines.extend(line for v in values for line in field_lines(f"Side {i}", v, "    "))
            else:
                shown = ", ".join(value(v) for v in values) or "(no experiment)"
                lines.append(f"    Side {i}: {shown}")
    if not result.varying:
        lines.append("  (none)")
    skipped = [(i, n, why) for i, side in enumerate(result.sides, 1) for n, why in side.skipped]
    if skipped:
        lines.extend(["", f"{s.error} Not compared:"])
        lines.extend(f"  Side {i}: {n}: {why}" for i, n, why in skipped)
    out.write("\n".join(lines) + "\n")


def compare(result: Comparison | BatchComparison, out: TextIO, view: View) -> None:
    """``compare-experiments`` in either of its two forms."""
    if isinstance(result, BatchComparison):
        compare_batches(result, out, view)
    else:
        compare_experiments(result, out, view)
