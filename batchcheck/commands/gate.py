"""What the gate commands share: ``--select/--ignore/--strict/--format`` and writing the result.

Settings from ``[tool.batchcheck]`` apply first; ``--select`` replaces the configured select
list and ``--ignore`` adds to the configured ignore list. Every code is checked against the
codes batchcheck knows, so a typo is a usage error instead of a silently empty selection.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable, Mapping

from batchcheck.context import Context
from batchcheck.findings import CheckResult, Selection
from batchcheck.formats import CHECK_FORMATS
from batchcheck.formats.view import View
from batchcheck.rules import check_codes


def add_gate_arguments(parser: argparse.ArgumentParser) -> None:
    """``--select``, ``--ignore``, ``--strict`` and ``--format`` (auto or a CHECK_FORMATS name)."""
    parser.add_argument(
        "--select",
        action="append",
        default=[],
        metavar="CODES",
        help="only these codes or prefixes (comma list, repeatable; replaces the configured list)",
    )
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="CODES",
        help="skip these codes or prefixes (comma list, repeatable; adds to the configured list)",
    )
    parser.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
    parser.add_argument(
        "--format",
        choices=("auto", *CHECK_FORMATS),
        default="auto",
        help="output format (auto: github under GitHub Actions, else text)",
    )


def split_codes(values: Iterable[str]) -> tuple[str, ...]:
    """``["BC1,BC5", "bc501"]`` -> ``("BC1", "BC5", "BC501")``."""
    return tuple(
        code.strip().upper() for value in values for code in value.split(",") if code.strip()
    )


def output_format(name: str, env: Mapping[str, str]) -> str:
    """``auto`` is ``github`` under GitHub Actions, else ``text``."""
    if name != "auto":
        return name
    return "github" if env.get("GITHUB_ACTIONS") == "true" else "text"


def selection(ctx: Context, args: argparse.Namespace) -> Selection:
    """The command line's codes over the project's, every one of them a known code."""
    settings = ctx.settings
    select, ignore = split_codes(args.select), split_codes(args.ignore)
    check_codes(select, "--select")
    check_codes(ignore, "--ignore")
    where = f"{settings.project_file} [tool.batchcheck]"
    check_codes(settings.select, f"{where} select")
    check_codes(settings.ignore, f"{where} ignore")
    check_codes(settings.severity, f"{where}.severity", prefixes=False)
    return Selection(select or settings.select, settings.ignore + ignore)


def write_result(ctx: Context, args: argparse.Namespace, result: CheckResult) -> int:
    """Write the result in ``--format``; the exit status comes from it."""
    view = View(ctx.cwd, ctx.settings.root, ctx.symbols)
    CHECK_FORMATS[output_format(args.format, os.environ)](result, ctx.out, view)
    return result.exit_code(args.strict)
