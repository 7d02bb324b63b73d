"""``batchcheck plan SWEEP.yaml --batch BATCH``: reuse what ``_shared`` holds, list the rest.

``--apply`` links every configuration that exists into the batch (the ``link`` command's safe
steps), prints what is left to generate and checks the batch; ``--format yaml`` lists only the
configurations to generate, as the metadata a generation pipeline writes for each.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from itertools import groupby
from typing import Any

from batchcheck.commands.link import (
    RULE,
    check_batch,
    execute,
    finish,
    status,
    step_json,
    touched,
    write_document,
)
from batchcheck.context import Context
from batchcheck.errors import UsageError
from batchcheck.fingerprint import SHORT
from batchcheck.layout import SHARED
from batchcheck.linking import Action, LinkStep, check_batch_name, link_steps
from batchcheck.names import display, shown_path
from batchcheck.planning import Plan, PlanItem, make_plan, record
from batchcheck.scan import scan
from batchcheck.sweep import load_sweep

NAME = "plan"
HELP = "plan a sweep: which configurations _shared holds, which to generate (--apply links them)"
NEEDS_ROOT = True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """SWEEP, ``--batch``, ``--apply``, ``--dry-run``, ``--format``."""
    parser.add_argument("sweep", metavar="SWEEP.yaml", help="the sweep file (see README)")
    parser.add_argument(
        "--batch",
        required=True,
        metavar="BATCH",
        help="batch_YYYYMMDD_<purpose> the sweep belongs to",
    )
    parser.add_argument(
        "--apply",
        action="store_true",
        help="create the batch and link every configuration that exists",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="show what --apply would change, write nothing"
    )
    parser.add_argument("--format", choices=("text", "json", "yaml"), default="text")


def _experiment_text(ctx: Context, plan: Plan, item: PlanItem, step: LinkStep | None) -> str:
    sym = ctx.symbols
    rel = display(f"{SHARED}/{item.config.dataset}/{item.experiment}")
    here = item.reuse is not None and item.original_batch == plan.batch
    mark = sym.new if item.reuse is None else sym.experiment if here else sym.reuse
    lines = [f"  {mark} {display(item.experiment)}"]
    if item.config.values:
        lines.append(f"     Sweep values: {item.config.described}")
    lines.append(f"     Parameter fingerprint: {item.fingerprint[:SHORT]}")
    if item.reuse is None:
        lines.append(f"     {sym.new} To generate: {rel}")
        return "\n".join(lines) + "\n"
    reuse = "No (newly generated)" if here else f"Yes (original batch: {item.original_batch})"
    lines.append(f"     {sym.reuse} Data reuse: {reuse}")
    lines.append(f"     Physical storage: {rel}")
    if item.also:
        lines.append(f"     {sym.warn} Also stored as: {', '.join(map(display, item.also))}")
    if step is not None:
        mark = f"{sym.error} " if step.blocked or step.action is Action.FAILED else ""
        lines.append(f"     {mark}Batch view: {step.rel} ({status(step)})")
    return "\n".join(lines) + "\n"


def _text(
    ctx: Context,
    plan: Plan,
    steps: Mapping[tuple[str, str], LinkStep],
    args: argparse.Namespace,
    applied: bool,
) -> None:
    out, sym = ctx.out, ctx.symbols
    new = len(plan.to_generate)
    here = sum(item.original_batch == plan.batch for item in plan.reused)
    counts = [f"{len(plan.reused) - here} reused", f"{new} to generate"]
    if here:
        counts.insert(1, f"{here} generated for this batch")
    out.write(
        f"{RULE}\nSweep plan: {display(args.sweep)}\nBatch: {display(plan.batch)}\n"
        f"Configurations: {len(plan.items)} ({', '.join(counts)})\n{RULE}\n"
    )
    for dataset, group in groupby(plan.items, key=lambda item: item.config.dataset):
        items = list(group)
        noun = "configuration" if len(items) == 1 else "configurations"
        out.write(f"\n{sym.dataset} {display(dataset)} ({len(items)} {noun})\n{'-' * 80}\n")
        for item in items:
            step = steps.get((dataset, item.experiment)) if item.reuse else None
            out.write("\n" + _experiment_text(ctx, plan, item, step))
    out.write(f"\n{RULE}\n")
    created = sum(step.done for step in steps.values())
    to_link = sum(step.action is Action.CREATE and not step.done for step in steps.values())
    if applied:
        out.write(
            f"{sym.ok} Linked {created} experiment(s) into {display(plan.batch)} "
            f"({len(steps) - created} already there)\n"
        )
    elif to_link:
        if not args.apply:
            how = "run again with --apply"
        elif args.dry_run:
            how = "dry run: nothing written"
        else:
            how = f"nothing written: resolve the {sym.error} entries first"
        out.write(f"{sym.info} To link: {to_link} reused configuration(s) ({how})\n")
    if new:
        left = "Left to generate" if applied else "To generate"
        out.write(f"{sym.info} {left}: {new} configuration(s) (--format yaml lists them):\n")
        for item in plan.to_generate:
            out.write(
                f"   {sym.new} {display(item.config.dataset)}/{display(item.experiment)}  "
                f"({item.fingerprint[:SHORT]})\n"
            )
    elif not to_link and not applied:
        out.write(f"{sym.ok} Nothing to generate or link\n")


def _shared_path(ctx: Context, item: PlanItem) -> str:
    return shown_path(ctx.settings.root / SHARED / item.config.dataset / item.experiment, ctx.cwd)


def _document(
    ctx: Context, plan: Plan, steps: Mapping[tuple[str, str], LinkStep], applied: bool
) -> dict[str, Any]:
    """The JSON shape: every configuration with its status, link and parameters."""
    items = []
    for item in plan.items:
        step = steps.get((item.config.dataset, item.experiment)) if item.reuse else None
        items.append(
            {
                "dataset": item.config.dataset,
                "experiment_name": item.experiment,
                "status": "reuse" if item.reuse else "generate",
                "parameter_fingerprint": item.fingerprint,
                "sweep_values": dict(item.config.values),
                "shared_path": _shared_path(ctx, item),
                "original_batch": item.original_batch,
                "also_stored_as": list(item.also),
                "link": step_json(ctx, step) if step else None,
                "generation": dict(item.config.generation),
                "validation": dict(item.config.validation),
            }
        )
    return {
        "sweep": shown_path(plan.sweep.path, ctx.cwd),
        "batch": plan.batch,
        "applied": applied,
        "configurations": items,
        "summary": {
            "configurations": len(plan.items),
            "reuse": len(plan.reused),
            "generate": len(plan.to_generate),
            "linked_now": sum(step.done for step in steps.values()),
        },
    }


def _to_generate(ctx: Context, plan: Plan) -> dict[str, Any]:
    """The YAML shape: only what to generate, each entry the metadata to write (plus its path)."""
    return {
        "batch": plan.batch,
        "generate": [
            {**record(item, plan.batch, plan.sweep), "shared_path": _shared_path(ctx, item)}
            for item in plan.to_generate
        ],
    }


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Plan the sweep; with ``--apply`` link what exists and check the batch."""
    check_batch_name(args.batch)
    args.apply = args.apply or args.dry_run  # --dry-run previews --apply
    settings = ctx.settings
    sweep = load_sweep(ctx.cwd / args.sweep, args.sweep, settings.metadata_schema)
    store = scan(
        settings.root,
        ctx.scan_options(batches=(args.batch,), data=False),
        ctx.progress(),
    )
    try:
        plan = make_plan(sweep, store, settings, args.batch)
    except UsageError as exc:  # a configuration of the file is wrong: name the file
        raise UsageError(f"{args.sweep}: {exc}") from exc
    keys = [(item.config.dataset, item.experiment) for item in plan.reused]
    planned = link_steps(store, settings, args.batch, keys)
    write = args.apply and not args.dry_run
    done, error = execute(ctx, args.batch, planned, write)
    applied = write and not error and not any(step.blocked for step in done)
    check = touched(done, write, error)
    steps = {(step.dataset, step.experiment): step for step in done}
    code = 0
    if args.format == "text":
        _text(ctx, plan, steps, args, applied)
        if check:
            code = check_batch(ctx, args.batch, "text")[0]
    else:
        doc = (
            _document(ctx, plan, steps, applied)
            if args.format == "json"
            else _to_generate(ctx, plan)
        )
        if check:
            code, doc["check"] = check_batch(ctx, args.batch, args.format)
        write_document(ctx, doc, args.format)
    if args.apply:  # a plain plan only shows what cannot be linked; applying it fails
        finish(done, args.batch, error)
    return code
