"""``batchcheck report``: the Markdown and HTML overview of the whole store.

Scans the store once, runs ``check`` over it, turns both into a plain context
(:mod:`batchcheck.report`) and renders the templates into ``--output`` (default ``reports/``).
Exit 0 whatever the check finds: the report shows the findings, ``check`` gates on them.
"""

from __future__ import annotations

import argparse
import gc

from batchcheck.context import Context
from batchcheck.errors import UsageError
from batchcheck.names import shown_path

NAME = "report"
HELP = "write a Markdown and HTML overview of the store (index.md / index.html)"
NEEDS_ROOT = True
CHOICES = {"md": ("md",), "html": ("html",), "all": ("md", "html")}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--output, --format and --templates."""
    parser.add_argument(
        "--output", metavar="DIR", default="reports", help="folder to write (default: reports/)"
    )
    parser.add_argument(
        "--format", choices=tuple(CHOICES), default="all", help="md, html or all (default: all)"
    )
    parser.add_argument(
        "--summary",
        action="store_true",
        help="print the Markdown summary (index.md) alone and write nothing",
    )
    parser.add_argument(
        "--since",
        metavar="REV",
        help="also show what changed in the store since git revision REV (read from git)",
    )
    parser.add_argument(
        "--templates",
        metavar="DIR",
        help="use the Jinja2 templates in DIR (index.md.j2, index.html.j2, batch.*, dataset.*)",
    )


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Write every page and print the written paths."""
    from batchcheck.forking import default_workers
    from batchcheck.report import publish, report_fields, store_report, summary_text

    settings = ctx.settings
    output = ctx.cwd / args.output
    if output.exists() and not output.is_dir():
        raise UsageError(f"--output {args.output}: not a folder")
    templates = None
    if args.templates is not None:
        templates = ctx.cwd / args.templates
        if not templates.is_dir():
            raise UsageError(f"--templates {args.templates}: not a folder")
    workers = default_workers()
    options = ctx.scan_options(keep=report_fields(settings), sizes=True)
    shown = shown_path(settings.root, ctx.cwd)
    report = store_report(settings, options, shown, workers, ctx.progress(), args.since)
    # The model lives until the end: keep the collector off it, so it neither walks it again
    # while pages render nor touches (and so copies) its memory in the forked renderers.
    gc.freeze()
    if args.summary:
        ctx.out.write(summary_text(report, templates))
        return 0
    try:
        for path in publish(report, CHOICES[args.format], templates, output, workers):
            ctx.out.write(shown_path(path, ctx.cwd) + "\n")
    except OSError as exc:  # a read-only folder, a folder where a page goes, a full disk
        where = shown_path(exc.filename, ctx.cwd) if exc.filename else args.output
        raise UsageError(f"--output {args.output}: cannot write {where}: {exc.strerror}") from exc
    return 0
