"""``batchcheck gc``: the orphans (BC401) with their sizes; ``--archive DIR`` moves them out of
the store, ``--delete --yes`` removes them; a dry run otherwise.

It refuses to run when ``check`` finds an error in a batch, and never touches an experiment
that a batch link or a configured training config names (``collecting``).
"""

from __future__ import annotations

import argparse

from batchcheck.collecting import collect, parse_mode
from batchcheck.context import Context
from batchcheck.formats import add_format_argument, changes_text, with_data
from batchcheck.formats.view import View

NAME = "gc"
HELP = "list the orphans (BC401) with their sizes; --archive DIR or --delete --yes"
NEEDS_ROOT = True
FORMATS = with_data(changes_text.collect, "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--archive DIR``, ``--delete``, ``--yes``, ``--format``."""
    parser.add_argument(
        "--archive",
        metavar="DIR",
        help="move the orphans to DIR/_shared/<Dataset>/<experiment> (outside the store)",
    )
    parser.add_argument("--delete", action="store_true", help="remove the orphans (needs --yes)")
    parser.add_argument("--yes", action="store_true", help="confirm --delete")
    add_format_argument(parser, FORMATS, help=None)


def run(ctx: Context, args: argparse.Namespace) -> int:
    """List, archive or delete the orphans; exit 1 when one could not be moved or deleted."""
    archive = parse_mode(ctx.settings, ctx.cwd, args.archive, args.delete, args.yes)
    result = collect(ctx.settings, ctx.cwd, archive, args.delete)
    FORMATS[args.format](result, ctx.out, View(ctx.cwd, ctx.settings.root, ctx.symbols))
    return result.exit_code()
