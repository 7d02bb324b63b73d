"""``batchcheck list-batches``: every batch of the store (the seed's list_batches.py)."""

from __future__ import annotations

import argparse

from batchcheck.commands._lookup import options, view
from batchcheck.context import Context
from batchcheck.formats import lookups_text
from batchcheck.formats.data import add_format_argument, write
from batchcheck.lookups import list_batches
from batchcheck.scan import scan

NAME = "list-batches"
HELP = "list every batch (--verbose: datasets and experiments of each)"
NEEDS_ROOT = True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--verbose`` and ``--format``, as the seed's tool."""
    parser.add_argument(
        "--verbose", "-v", action="store_true", help="show each batch's datasets and experiments"
    )
    add_format_argument(parser, "json")


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Links are judged by their target folder alone: no metadata is read."""
    store = scan(
        ctx.settings.root,
        options(ctx, shared="none", metadata=False, data=False),
        ctx.progress(),
    )
    result = list_batches(store)
    write(
        ctx,
        args.format,
        result,
        lambda: lookups_text.list_batches(result, ctx.out, view(ctx), args.verbose),
    )
    return 0
