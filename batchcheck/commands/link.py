"""``batchcheck link BATCH DATASET/EXPERIMENT ...``: add shared experiments to a batch, safely.

Every link is validated before any is written (a conflicting entry or an invalid target: exit 1,
nothing changed); links are relative, created atomically, never over an existing entry; the
batch is checked afterwards. ``plan --apply`` goes through the same steps.
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Sequence
from typing import Any

from batchcheck.context import Context
from batchcheck.errors import UsageError
from batchcheck.layout import SHARED
from batchcheck.linking import (
    Action,
    LinkError,
    LinkStep,
    apply_steps,
    check_batch_name,
    link_steps,
    refusal,
)
from batchcheck.model import Store
from batchcheck.names import display, shown_path
from batchcheck.scan import load_experiments, scan

NAME = "link"
HELP = "link existing shared experiments (DATASET/EXPERIMENT) into a batch"
NEEDS_ROOT = True
RULE = "=" * 80


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """BATCH, one or more DATASET/EXPERIMENT, ``--dry-run``, ``--format``."""
    parser.add_argument("batch", metavar="BATCH", help="batch_YYYYMMDD_<purpose> (created if new)")
    parser.add_argument(
        "experiments",
        metavar="DATASET/EXPERIMENT",
        nargs="+",
        help="a shared experiment, e.g. Copa/temp07_topp09_gpt4o",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would change, write nothing"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")


def _key(text: str) -> tuple[str, str]:
    parts = [p for p in text.strip("/").split("/") if p]
    if parts[:1] == [SHARED]:
        parts = parts[1:]
    if len(parts) != 2:
        raise UsageError(f"{text!r} is not DATASET/EXPERIMENT (e.g. Copa/temp07_topp09_gpt4o)")
    return parts[0], parts[1]


def batch_store(ctx: Context, batch: str) -> Store:
    """The batch as it stands, for judging links against it (experiments not read)."""
    options = ctx.scan_options(batches=(batch,), shared="linked", metadata=False, data=False)
    return scan(ctx.settings.root, options)


def status(step: LinkStep) -> str:
    """How a step reads in a listing: ``linked now``, ``to link``, ``already linked``..."""
    if step.action is Action.CREATE:
        return "linked now" if step.done else "to link"
    if step.action is Action.PRESENT:
        return f"already linked ({step.detail})" if step.detail else "already linked"
    return f"cannot link: {step.detail}" if step.blocked else f"link failed: {step.detail}"


def step_json(ctx: Context, step: LinkStep) -> dict[str, Any]:
    """A step as the JSON outputs show it (the path relative to the current folder)."""
    path = ctx.settings.root / step.batch / step.dataset / step.experiment
    return {
        "path": shown_path(path, ctx.cwd),
        "target": step.target,
        "action": step.action.value,
        "created": step.done,
        "detail": step.detail,
    }


def execute(
    ctx: Context, batch: str, steps: list[LinkStep], write: bool
) -> tuple[list[LinkStep], str]:
    """Apply the steps when asked and nothing blocks them; return them and any write error."""
    if not write or refusal(batch, steps):
        return steps, ""
    return apply_steps(ctx.settings.root, batch, steps)


def touched(steps: Sequence[LinkStep], write: bool, error: str) -> bool:
    """Whether the run wrote the batch as asked and the batch holds links: check it then."""
    if not write or error or refusal("", steps):
        return False
    return any(step.done or step.action is Action.PRESENT for step in steps)


def finish(steps: Sequence[LinkStep], batch: str, error: str) -> None:
    """After the listing is written: blocked steps or a failed write end the run (exit 1)."""
    reason = refusal(batch, steps) or error
    if reason:
        raise LinkError(reason)


def write_document(ctx: Context, doc: dict[str, Any], fmt: str) -> None:
    """A json or yaml document on ``ctx.out``."""
    if fmt == "json":
        json.dump(doc, ctx.out, indent=2, ensure_ascii=False)
        ctx.out.write("\n")
        return
    import yaml

    yaml.safe_dump(doc, ctx.out, sort_keys=False, allow_unicode=True, width=100)


def check_batch(ctx: Context, batch: str, fmt: str) -> tuple[int, Any]:
    """Run the store check on the batch just written: (exit code, its JSON or None).

    Text goes to ``ctx.out`` under its own header; for json/yaml the check's JSON document is
    returned to be nested in the command's own document.
    """
    from batchcheck.engine import run_check
    from batchcheck.formats import CHECK_FORMATS
    from batchcheck.formats.view import View

    options = ctx.scan_options(batches=(batch,), shared="linked")
    result = run_check(scan(ctx.settings.root, options), ctx.settings)
    view = View(cwd=ctx.cwd, root=ctx.settings.root, symbols=ctx.symbols)
    if fmt != "text":
        buffer = io.StringIO()
        CHECK_FORMATS["json"](result, buffer, view)
        return result.exit_code(), json.loads(buffer.getvalue())
    ctx.out.write(f"\n{RULE}\nCheck of {display(batch)}\n{RULE}\n\n")
    CHECK_FORMATS["text"](result, ctx.out, view)
    return result.exit_code(), None


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Validate every link, write them unless ``--dry-run``, list them, check the batch."""
    check_batch_name(args.batch)
    keys = [_key(text) for text in args.experiments]
    root = ctx.settings.root
    store = batch_store(ctx, args.batch)
    targets = load_experiments(
        root,
        keys,
        ctx.scan_options(batches=(), shared="linked", data=False),
    )
    merged = Store(root, store.batches, targets.experiments)
    steps, error = execute(
        ctx, args.batch, link_steps(merged, ctx.settings, args.batch, keys), not args.dry_run
    )
    check = touched(steps, not args.dry_run, error)
    if args.format == "json":
        doc: dict[str, Any] = {
            "batch": args.batch,
            "dry_run": args.dry_run,
            "links": [step_json(ctx, step) for step in steps],
        }
        code, doc["check"] = check_batch(ctx, args.batch, "json") if check else (0, None)
        write_document(ctx, doc, "json")
    else:
        _text(ctx, args.batch, steps, args.dry_run)
        code = check_batch(ctx, args.batch, "text")[0] if check else 0
    finish(steps, args.batch, error)
    return code


def _text(ctx: Context, batch: str, steps: Sequence[LinkStep], dry_run: bool) -> None:
    sym = ctx.symbols
    created = sum(step.done for step in steps)
    present = sum(step.action is Action.PRESENT for step in steps)
    head = "Links (dry run, nothing written)" if dry_run else "Links"
    ctx.out.write(
        f"{RULE}\nBatch: {display(batch)}\n{head}: {len(steps)} ({created} created, "
        f"{present} already present)\n{RULE}\n\n"
    )
    for step in steps:
        if step.blocked or step.action is Action.FAILED:
            mark = sym.error
        else:
            mark = sym.ok if step.done or step.action is Action.PRESENT else sym.folder
        ctx.out.write(f"  {mark} {step.rel} -> {step.target}  ({status(step)})\n")
