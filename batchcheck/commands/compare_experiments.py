"""``batchcheck compare-experiments``: parameters of two experiments, or of two batches."""

from __future__ import annotations

import argparse

from batchcheck.commands._lookup import options, view
from batchcheck.context import Context
from batchcheck.errors import UsageError
from batchcheck.formats import add_format_argument, lookups_text, with_data
from batchcheck.lookups.common import batch_name, shared_key
from batchcheck.lookups.compare import compare_batches, compare_shared
from batchcheck.scan import load_experiments, scan

NAME = "compare-experiments"
HELP = (
    "compare two shared experiments (--shared D/EXP --shared D/EXP) or the experiments of "
    "two batches (--batch1 B --dataset1 D --batch2 B --dataset2 D)"
)
NEEDS_ROOT = True
BATCH_FORM = ("batch1", "dataset1", "batch2", "dataset2")
FORMATS = with_data(lookups_text.compare, "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The seed's two forms: ``--shared`` twice, or the four batch/dataset options."""
    parser.add_argument(
        "--shared",
        action="append",
        metavar="D/EXP",
        default=[],
        help="a shared experiment, e.g. Copa/temp07_topp10_gpt4o (give it twice)",
    )
    for option in BATCH_FORM:
        kind = "B" if option.startswith("batch") else "D"
        parser.add_argument(f"--{option}", metavar=kind, help=f"the batch form: {option}")
    add_format_argument(parser, FORMATS)


def run(ctx: Context, args: argparse.Namespace) -> int:
    """``--shared`` reads only the two experiments; the batch form only the two batches."""
    root = ctx.settings.root
    given = [option for option in BATCH_FORM if getattr(args, option) is not None]
    if args.shared and given:
        raise UsageError("give either --shared twice or --batch1/--dataset1/--batch2/--dataset2")
    if given:
        if len(given) != len(BATCH_FORM):
            missing = ", ".join(f"--{o}" for o in BATCH_FORM if o not in given)
            raise UsageError(f"the batch form needs {missing} too")
        one = (batch_name(args.batch1, root, ctx.cwd), args.dataset1)
        two = (batch_name(args.batch2, root, ctx.cwd), args.dataset2)
        store = scan(
            root,
            options(
                ctx, batches=tuple(dict.fromkeys((one[0], two[0]))), shared="linked", data=False
            ),
        )
        batches = compare_batches(store, ctx.settings, one, two)
        FORMATS[args.format](batches, ctx.out, view(ctx, args))
        return 0
    if len(args.shared) != 2:
        raise UsageError("compare-experiments needs --shared D/EXP twice (or the batch form)")
    keys = (shared_key(args.shared[0]), shared_key(args.shared[1]))
    store = load_experiments(root, keys, options(ctx, batches=(), shared="linked", data=False))
    result = compare_shared(store, ctx.settings, keys)
    FORMATS[args.format](result, ctx.out, view(ctx, args))
    return 0 if result.verdict != "unknown" else 1
