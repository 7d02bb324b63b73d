"""``batchcheck link BATCH DATASET/EXPERIMENT ...``: add shared experiments to a batch, safely.

Every link is validated before any is written (a conflicting entry or an invalid target: exit 1,
nothing changed); links are relative, created atomically, never over an existing entry; the
batch is checked afterwards (``linking``). ``plan --apply`` goes through the same steps.
"""

from __future__ import annotations

import argparse

from batchcheck.context import Context
from batchcheck.formats import add_format_argument, linking_text, with_data
from batchcheck.formats.view import View
from batchcheck.linking import check_batch_name, link_experiments, parse_keys

NAME = "link"
HELP = "link existing shared experiments (DATASET/EXPERIMENT) into a batch"
NEEDS_ROOT = True
FORMATS = with_data(linking_text.link, "json")


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
    add_format_argument(parser, FORMATS, help=None)


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Validate every link, write them unless ``--dry-run``, list them, check the batch."""
    check_batch_name(args.batch)
    keys = parse_keys(args.experiments)
    result = link_experiments(ctx.settings, args.batch, keys, args.dry_run)
    FORMATS[args.format](result, ctx.out, View(ctx.cwd, ctx.settings.root, ctx.symbols))
    result.finish()
    return result.exit_code()
