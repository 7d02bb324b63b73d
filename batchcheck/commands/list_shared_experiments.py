"""``batchcheck list-shared-experiments``: the physical experiments under ``_shared``."""

from __future__ import annotations

import argparse

from batchcheck.commands._lookup import options, view
from batchcheck.context import Context
from batchcheck.formats import add_format_argument, lookups_text, with_data
from batchcheck.lookups.listing import shared_experiments
from batchcheck.scan import scan

NAME = "list-shared-experiments"
HELP = "list the physical experiments in _shared (--verbose: their parameters)"
NEEDS_ROOT = True
FORMATS = with_data(lookups_text.list_shared_experiments, "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--dataset``, ``--verbose`` and ``--format``, as the seed's tool."""
    parser.add_argument("--dataset", metavar="D", help="only this dataset")
    parser.add_argument(
        "--verbose", "-v", action="store_true", help="show generation and validation parameters"
    )
    add_format_argument(parser, FORMATS)


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Read ``_shared`` (or one dataset of it) with its metadata and no batch."""
    chosen = (args.dataset,) if args.dataset is not None else None
    store = scan(
        ctx.settings.root,
        options(ctx, batches=(), shared="all", datasets=chosen, data=False),
        ctx.progress(),
    )
    result = shared_experiments(store, args.dataset)
    FORMATS[args.format](result, ctx.out, view(ctx, args))
    return 0
