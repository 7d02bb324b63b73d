"""``batchcheck add DATASET/EXPERIMENT --from DIR --metadata FILE``: register freshly generated
data as a shared experiment.

The metadata is completed, fingerprinted and judged, a duplicate or a taken name is refused,
the data is moved (or copied) in and the experiment renamed into place in one step, so a crash
leaves no experiment or a whole one; a rerun finishes an interrupted add (``adding``). With
``--batch`` it is linked into that batch the ``link`` way.
"""

from __future__ import annotations

import argparse

from batchcheck.adding import add_experiment, read_metadata_file
from batchcheck.context import Context
from batchcheck.formats import add_format_argument, adding_text, with_data
from batchcheck.formats.view import View
from batchcheck.lookups.common import shared_key

NAME = "add"
HELP = "register freshly generated data (--from DIR) as the shared experiment DATASET/EXPERIMENT"
NEEDS_ROOT = True
FORMATS = with_data(adding_text.add, "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """DATASET/EXPERIMENT, ``--from``, ``--metadata``, ``--batch``, ``--copy``, ``--dry-run``."""
    parser.add_argument(
        "experiment",
        metavar="DATASET/EXPERIMENT",
        help="where it goes in _shared, e.g. Copa/temp07_topp06_gpt4o",
    )
    parser.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="DIR",
        help="the generated training data (its content becomes _shared/D/E/D/)",
    )
    parser.add_argument(
        "--metadata",
        required=True,
        metavar="FILE",
        help="its metadata (JSON or YAML), or the plan from 'plan --format yaml'",
    )
    parser.add_argument(
        "--batch", metavar="BATCH", help="link it into this batch (and its original_batch)"
    )
    parser.add_argument(
        "--copy", action="store_true", help="copy the data in and leave DIR as it is"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="judge everything, show what would happen"
    )
    add_format_argument(parser, FORMATS, help=None)


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Judge, stage, rename into place, link or check; write what was done."""
    key = shared_key(args.experiment)
    given = read_metadata_file(ctx.cwd / args.metadata, args.metadata, key, ctx.settings)
    result = add_experiment(
        ctx.settings,
        key,
        ctx.cwd / args.source,
        given,
        batch=args.batch,
        copy=args.copy,
        dry_run=args.dry_run,
        shown_source=args.source,
    )
    FORMATS[args.format](result, ctx.out, View(ctx.cwd, ctx.settings.root, ctx.symbols))
    result.finish()
    return result.exit_code()
