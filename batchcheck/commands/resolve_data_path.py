"""``batchcheck resolve-data-path PATH``: batch path -> shared path, shared path -> batches."""

from __future__ import annotations

import argparse

from batchcheck.commands._lookup import options, view
from batchcheck.context import Context
from batchcheck.formats import add_format_argument, lookups_text, with_data
from batchcheck.lookups.resolve import (
    parse_store_path,
    resolve_batch_path,
    resolve_shared_path,
)
from batchcheck.scan import load_experiments, scan

NAME = "resolve-data-path"
HELP = "turn a batch path into its shared path, or a shared path into every batch linking it"
NEEDS_ROOT = True
FORMATS = with_data(lookups_text.resolve_data_path, "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """PATH (relative to the current folder or absolute) and ``--format``."""
    parser.add_argument(
        "path",
        metavar="PATH",
        help="<root>/<batch>/<Dataset>/<experiment>[/<Dataset>] or <root>/_shared/...",
    )
    add_format_argument(parser, FORMATS)


def run(ctx: Context, args: argparse.Namespace) -> int:
    """A batch path reads that batch only; a shared path reads every batch's links."""
    root = ctx.settings.root
    query = parse_store_path(args.path, root, ctx.cwd)
    if query.batch is not None:
        store = scan(
            root, options(ctx, batches=(query.batch,), shared="none", metadata=False, data=False)
        )
        result = resolve_batch_path(store, query)
    else:
        store = scan(root, options(ctx, shared="none", metadata=False, data=False), ctx.progress())
        found = load_experiments(
            root,
            [(query.dataset, query.name)],
            options(ctx, batches=(), shared="linked", metadata=False, data=False),
        )
        result = resolve_shared_path(store, found, query)
    FORMATS[args.format](result, ctx.out, view(ctx, args))
    return 0
