"""What the lookup commands share: scan options within the configured limits, the text view."""

from __future__ import annotations

import argparse
from typing import Any

from batchcheck.context import Context
from batchcheck.formats.view import View
from batchcheck.scan import ScanOptions


def options(ctx: Context, **kwargs: Any) -> ScanOptions:
    """Scan options for exactly what a command shows, within the project's settings."""
    return ctx.scan_options(**kwargs)


def view(ctx: Context, args: argparse.Namespace | None = None) -> View:
    """Paths relative to the current folder, the run's markers, ``--verbose`` if the command
    has it."""
    verbose = bool(getattr(args, "verbose", False))
    return View(ctx.cwd, ctx.settings.root, ctx.symbols, verbose)
