"""``batchcheck list-batches``: every batch of the store (the seed's list_batches.py)."""

from __future__ import annotations

import argparse

from batchcheck.commands._lookup import options, view
from batchcheck.context import Context
from batchcheck.formats import add_format_argument, lookups_text, with_data
from batchcheck.lookups.listing import list_batches
from batchcheck.scan import scan

NAME = "list-batches"
HELP = "list every batch (--verbose: datasets and experiments of each)"
NEEDS_ROOT = True
FORMATS = with_data(lookups_text.list_batches, "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--verbose`` and ``--format``, as the seed's tool."""
    parser.add_argument(
        "--verbose", "-v", action="store_true", help="show each batch's datasets and experiments"
    )
    add_format_argument(parser, FORMATS)


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Links are judged by their target folder alone: no metadata is read."""
    store = scan(
        ctx.settings.root,
        options(ctx, shared="none", metadata=False, data=False),
        ctx.progress(),
    )
    result = list_batches(store)
    FORMATS[args.format](result, ctx.out, view(ctx, args))
    return 0
