"""What the lookup commands share: scan options within the configured limits, the text view."""

from __future__ import annotations

import argparse
from typing import Any

from batchcheck.context import Context
from batchcheck.formats.view import View
from batchcheck.scan import ScanOptions


def options(ctx: Context, **kwargs: Any) -> ScanOptions:
    """Scan options for exactly what a command shows, within the project's settings (no
    lookup shows the symlinks inside an experiment folder: only check reports them)."""
    return ctx.scan_options(**{"symlinks": False, **kwargs})


def view(ctx: Context, args: argparse.Namespace | None = None) -> View:
    """Paths relative to the current folder, the run's markers, ``--verbose`` and
    ``--absolute`` if the command has them."""
    verbose = bool(getattr(args, "verbose", False))
    absolute = bool(getattr(args, "absolute", False))
    return View(ctx.cwd, ctx.settings.root, ctx.symbols, verbose, absolute)
