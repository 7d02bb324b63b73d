"""``batchcheck list-data-paths``: training data paths to put in a training config."""

from __future__ import annotations

import argparse

from batchcheck.commands._lookup import options, view
from batchcheck.context import Context
from batchcheck.formats import add_format_argument, lookups_text, with_data
from batchcheck.lookups.common import batch_name
from batchcheck.lookups.listing import data_paths
from batchcheck.scan import scan

NAME = "list-data-paths"
HELP = "list training data paths: batch path (recommended) and shared path"
NEEDS_ROOT = True
FORMATS = {**with_data(lookups_text.list_data_paths, "json"), "yaml": lookups_text.data_paths_yaml}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--batch``, ``--dataset``, ``--format text|yaml|json``, as the seed's tool, and
    ``--absolute``."""
    parser.add_argument("--batch", metavar="B", help="only the experiments this batch links")
    parser.add_argument("--dataset", metavar="D", help="only this dataset")
    parser.add_argument(
        "--absolute",
        action="store_true",
        help="every path in full (for jobs that change folder, e.g. hydra.job.chdir=True)",
    )
    add_format_argument(parser, FORMATS)


def run(ctx: Context, args: argparse.Namespace) -> int:
    """No metadata: one batch and what it links, or every batch and all of ``_shared``."""
    root = ctx.settings.root
    if args.batch is None:
        chosen = (args.dataset,) if args.dataset is not None else None
        how = options(ctx, shared="all", datasets=chosen, metadata=False)
        store = scan(root, how, ctx.progress())
        name = None
    else:
        name = batch_name(args.batch, root, ctx.cwd)
        store = scan(root, options(ctx, batches=(name,), shared="linked", metadata=False))
    result = data_paths(store, name, args.dataset, args.absolute)
    FORMATS[args.format](result, ctx.out, view(ctx, args))
    return 0
