"""``batchcheck plan SWEEP.yaml --batch BATCH``: reuse what ``_shared`` holds, list the rest.

``--apply`` links every configuration that exists into the batch (the ``link`` command's safe
steps), prints what is left to generate and checks the batch; ``--format yaml`` lists only the
configurations to generate, as the metadata a generation pipeline writes for each.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from batchcheck.context import Context
from batchcheck.formats import Formatter, add_format_argument, linking_text
from batchcheck.formats.data import dump_json, dump_yaml
from batchcheck.formats.view import View
from batchcheck.planning import PlanRun, plan_sweep

NAME = "plan"
HELP = "plan a sweep: which configurations _shared holds, which to generate (--apply links them)"
NEEDS_ROOT = True


def _json(result: PlanRun, out: TextIO, view: View) -> None:
    dump_json(result.to_json(view.cwd), out)


def _yaml(result: PlanRun, out: TextIO, view: View) -> None:
    dump_yaml(result.to_generate_json(view.cwd), out, width=100)


FORMATS: dict[str, Formatter] = {"text": linking_text.plan, "json": _json, "yaml": _yaml}


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
    add_format_argument(parser, FORMATS, help=None)


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Plan the sweep; with ``--apply`` link what exists and check the batch."""
    result = plan_sweep(
        ctx.settings,
        ctx.cwd / args.sweep,
        args.sweep,
        args.batch,
        apply=args.apply or args.dry_run,  # --dry-run previews --apply
        dry_run=args.dry_run,
        progress=ctx.progress(),
    )
    FORMATS[args.format](result, ctx.out, View(ctx.cwd, ctx.settings.root, ctx.symbols))
    if result.apply:  # a plain plan only shows what cannot be linked; applying it fails
        result.links.finish()
    return result.links.exit_code()
