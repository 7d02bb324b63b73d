"""``--format text`` of ``link`` and ``plan``: the steps, the sweep's configurations, and the
check of the batch a run wrote, under its own banner."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import groupby
from typing import TextIO

from batchcheck.formats import check_text
from batchcheck.formats.seed import DASH, RULE, multi_line, pair_lines, short, value
from batchcheck.formats.view import View, plural
from batchcheck.layout import SHARED
from batchcheck.linking import Action, LinkRun, LinkStep
from batchcheck.names import display
from batchcheck.planning import PlanItem, PlanRun


def status(step: LinkStep) -> str:
    """How a step reads in a listing: ``linked now``, ``to link``, ``already linked``..."""
    if step.action is Action.CREATE:
        return "linked now" if step.done else "to link"
    if step.action is Action.PRESENT:
        return f"already linked ({step.detail})" if step.detail else "already linked"
    return f"cannot link: {step.detail}" if step.blocked else f"link failed: {step.detail}"


def _check(run: LinkRun, out: TextIO, view: View) -> None:
    if run.check is not None:
        out.write(f"\n{RULE}\nCheck of {display(run.batch)}\n{RULE}\n\n")
        check_text.write(run.check, out, view)


def link(run: LinkRun, out: TextIO, view: View) -> None:
    """Every step with its mark, then the check of the batch when the run wrote it."""
    sym = view.symbols
    steps = run.steps
    created = sum(step.done for step in steps)
    present = sum(step.action is Action.PRESENT for step in steps)
    head = "Links (dry run, nothing written)" if run.dry_run else "Links"
    out.write(
        f"{RULE}\nBatch: {display(run.batch)}\n{head}: {len(steps)} ({created} created, "
        f"{present} already present)\n{RULE}\n\n"
    )
    for step in steps:
        if step.blocked or step.action is Action.FAILED:
            mark = sym.error
        else:
            mark = sym.ok if step.done or step.action is Action.PRESENT else sym.folder
        out.write(f"  {mark} {step.rel} -> {display(step.target)}  ({status(step)})\n")
    _check(run, out, view)


def _experiment(run: PlanRun, item: PlanItem, step: LinkStep | None, view: View) -> str:
    sym = view.symbols
    rel = display(f"{SHARED}/{item.config.dataset}/{item.experiment}")
    here = item.reuse is not None and item.original_batch == run.plan.batch
    mark = sym.new if item.reuse is None else sym.experiment if here else sym.reuse
    lines = [f"  {mark} {display(item.experiment)}"]
    if item.config.values:
        lines.append(f"     Sweep values: {item.config.described}")
    lines.append(f"     Parameter fingerprint: {short(item.fingerprint)}")
    if item.reuse is None:
        lines.append(f"     {sym.new} To generate: {rel}")
        lines.extend(_near_misses(item, view))
        return "\n".join(lines) + "\n"
    original = display(item.original_batch or "")
    reuse = "No (newly generated)" if here else f"Yes (original batch: {original})"
    lines.append(f"     {sym.reuse} Data reuse: {reuse}")
    lines.append(f"     Physical storage: {rel}")
    if item.also:
        lines.append(f"     {sym.warn} Also stored as: {', '.join(map(display, item.also))}")
    if step is not None:
        mark = f"{sym.error} " if step.blocked or step.action is Action.FAILED else ""
        lines.append(f"     {mark}Batch view: {step.rel} ({status(step)})")
    return "\n".join(lines) + "\n"


def _near_misses(item: PlanItem, view: View) -> list[str]:
    """The nearest stored experiments (all at the same distance) and how each differs,
    stored -> planned; a multi-line value as a unified diff."""
    if not item.near:
        return []
    count = len(item.near[0].differences)
    verb = "differs" if count == 1 else "differ"
    lines = [
        f"     {view.symbols.warn} Nearest stored ({plural(count, 'parameter')} {verb}, "
        "stored -> planned):"
    ]
    for near in item.near:
        name = display(near.experiment.name)
        changes = []
        for change in near.differences:
            pair = (change.stored, change.planned)
            if any(multi_line(v) for v in pair):
                changes.append(f"{change.path}:")
                changes.extend(pair_lines(("stored", "planned"), pair, "  "))
            else:
                changes.append(f"{change.path}: {value(pair[0])} -> {value(pair[1])}")
        if len(changes) == 1:
            lines.append(f"        {name}: {changes[0]}")
        else:
            lines.append(f"        {name}:")
            lines.extend(f"          {line}" for line in changes)
    return lines


def _closing(
    run: PlanRun, steps: Mapping[tuple[str, str], LinkStep], out: TextIO, view: View
) -> None:
    sym, plan = view.symbols, run.plan
    new = len(plan.to_generate)
    created = sum(step.done for step in steps.values())
    to_link = sum(step.action is Action.CREATE and not step.done for step in steps.values())
    if run.applied:
        out.write(
            f"{sym.ok} Linked {created} experiment(s) into {display(plan.batch)} "
            f"({len(steps) - created} already there)\n"
        )
    elif to_link:
        if not run.apply:
            how = "run again with --apply"
        elif run.links.dry_run:
            how = "dry run: nothing written"
        else:
            how = f"nothing written: resolve the {sym.error} entries first"
        out.write(f"{sym.info} To link: {to_link} reused configuration(s) ({how})\n")
    if new:
        left = "Left to generate" if run.applied else "To generate"
        out.write(f"{sym.info} {left}: {new} configuration(s) (--format yaml lists them):\n")
        for item in plan.to_generate:
            out.write(
                f"   {sym.new} {display(item.config.dataset)}/{display(item.experiment)}  "
                f"({short(item.fingerprint)})\n"
            )
        close = sum(item.near_miss for item in plan.to_generate)
        if close:
            out.write(
                f"{sym.warn} Near misses: {close} of them differ from a stored experiment only in "
                "a parameter the sweep does not vary: check the sweep before generating\n"
            )
    elif not to_link and not run.applied:
        out.write(f"{sym.ok} Nothing to generate or link\n")


def plan(run: PlanRun, out: TextIO, view: View) -> None:
    """The sweep per dataset (reused, generated for this batch, to generate), what to do next,
    then the check of the batch when ``--apply`` wrote it."""
    sym, plan = view.symbols, run.plan
    steps = run.steps()
    new = len(plan.to_generate)
    here = sum(item.original_batch == plan.batch for item in plan.reused)
    counts = [f"{len(plan.reused) - here} reused", f"{new} to generate"]
    if here:
        counts.insert(1, f"{here} generated for this batch")
    out.write(
        f"{RULE}\nSweep plan: {display(run.sweep_name)}\nBatch: {display(plan.batch)}\n"
        f"Configurations: {len(plan.items)} ({', '.join(counts)})\n{RULE}\n"
    )
    for dataset, group in groupby(plan.items, key=lambda item: item.config.dataset):
        items = list(group)
        noun = "configuration" if len(items) == 1 else "configurations"
        out.write(f"\n{sym.dataset} {display(dataset)} ({len(items)} {noun})\n{DASH}\n")
        for item in items:
            step = steps.get((dataset, item.experiment)) if item.reuse else None
            out.write("\n" + _experiment(run, item, step, view))
    out.write(f"\n{RULE}\n")
    _closing(run, steps, out, view)
    _check(run.links, out, view)
