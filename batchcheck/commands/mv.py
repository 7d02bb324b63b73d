"""``batchcheck mv DATASET/OLD NEW``: rename a shared experiment and every batch link to it.

Each step is atomic and a rerun finishes an interrupted move (``moving``); the training configs
``[tool.batchcheck] configs`` names that still use the old path are listed, and rewritten in
place with ``--configs``.
"""

from __future__ import annotations

import argparse

from batchcheck.context import Context
from batchcheck.formats import add_format_argument, changes_text, with_data
from batchcheck.formats.view import View
from batchcheck.lookups.common import shared_key
from batchcheck.moving import move_experiment

NAME = "mv"
HELP = "rename a shared experiment (DATASET/OLD NEW) and every batch link to it"
NEEDS_ROOT = True
FORMATS = with_data(changes_text.move, "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """DATASET/OLD, NEW, ``--configs``, ``--dry-run``, ``--format``."""
    parser.add_argument(
        "experiment", metavar="DATASET/OLD", help="the experiment, e.g. Copa/temp07_topp09_gpt4o"
    )
    parser.add_argument("new", metavar="NEW", help="its new folder name (it stays in DATASET)")
    parser.add_argument(
        "--configs",
        action="store_true",
        help="also rewrite the old path in the configured training configs, in place",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would change, write nothing"
    )
    add_format_argument(parser, FORMATS, help=None)


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Validate, move, list what was done, check what the move touched."""
    key = shared_key(args.experiment)
    result = move_experiment(ctx.settings, key, args.new, ctx.cwd, args.dry_run, args.configs)
    FORMATS[args.format](result, ctx.out, View(ctx.cwd, ctx.settings.root, ctx.symbols))
    result.finish()
    return result.exit_code()
