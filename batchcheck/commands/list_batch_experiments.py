"""``batchcheck list-batch-experiments BATCH``: a batch's experiments and their reuse status."""

from __future__ import annotations

import argparse

from batchcheck.commands._lookup import options, view
from batchcheck.context import Context
from batchcheck.formats import add_format_argument, lookups_text, with_data
from batchcheck.lookups.common import batch_name
from batchcheck.lookups.listing import batch_experiments
from batchcheck.scan import scan

NAME = "list-batch-experiments"
HELP = "list the experiments of one batch, with data reuse (--verbose: metadata too)"
NEEDS_ROOT = True
FORMATS = with_data(lookups_text.list_batch_experiments, "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """BATCH, ``--dataset``, ``--verbose`` and ``--format``, as the seed's tool."""
    parser.add_argument(
        "batch", metavar="BATCH", help="a batch name, e.g. batch_20241229_temperature"
    )
    parser.add_argument("--dataset", metavar="D", help="only this dataset")
    parser.add_argument(
        "--verbose", "-v", action="store_true", help="show physical storage and parameters"
    )
    add_format_argument(parser, FORMATS)


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Read only this batch and the metadata of the experiments it links."""
    name = batch_name(args.batch, ctx.settings.root, ctx.cwd)
    store = scan(ctx.settings.root, options(ctx, batches=(name,), shared="linked", data=False))
    result = batch_experiments(store, name, args.dataset)
    FORMATS[args.format](result, ctx.out, view(ctx, args))
    return 0
