"""What the gate commands share: selection options, output options and writing the result.

Settings from ``[tool.batchcheck]`` apply first; ``--select`` replaces the configured select
list, ``--extend-select`` adds to it and ``--ignore`` adds to the configured ignore list. Every
code is checked against the codes batchcheck knows, so a typo is a usage error instead of a
silently empty selection. ``per_path_ignores`` drops codes for paths matching a glob.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO

from batchcheck.context import Context
from batchcheck.errors import UsageError
from batchcheck.findings import CheckResult, Selection
from batchcheck.formats import check_summary
from batchcheck.formats.checks import CHECK_FORMATS
from batchcheck.formats.view import View
from batchcheck.locating import located, repository_top, without_ignored
from batchcheck.rules import check_codes

# Formats read by a CI service that wants paths from the repository root, on files in diffs.
_REPOSITORY_FORMATS = ("github", "gitlab")
# GitHub refuses a step summary over 1 MiB; leave room for what other steps append.
SUMMARY_LIMIT = 512 * 1024


def add_gate_arguments(parser: argparse.ArgumentParser) -> None:
    """Selection (``--select/--extend-select/--ignore``), ``--strict``, ``--exit-zero``,
    ``--statistics``, ``--output`` and ``--format`` (auto or a CHECK_FORMATS name)."""
    parser.add_argument(
        "--select",
        action="append",
        default=[],
        metavar="CODES",
        help="only these codes or prefixes (comma list, repeatable; replaces the configured list)",
    )
    parser.add_argument(
        "--extend-select",
        action="append",
        default=[],
        metavar="CODES",
        help="add these codes or prefixes to the configured (or given) select list",
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
        "--exit-zero",
        action="store_true",
        help="exit 0 even when errors are found (usage errors still exit 2)",
    )
    parser.add_argument(
        "--statistics",
        action="store_true",
        help="count findings per code (text: a table instead of the findings; json: in summary)",
    )
    parser.add_argument(
        "--output",
        metavar="FILE",
        help="write the report to FILE instead of standard output",
    )
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
    extend = split_codes(args.extend_select)
    check_codes(select, "--select")
    check_codes(extend, "--extend-select")
    check_codes(ignore, "--ignore")
    where = f"{settings.project_file} [tool.batchcheck]"
    check_codes(settings.select, f"{where} select")
    check_codes(settings.ignore, f"{where} ignore")
    check_codes(settings.severity, f"{where}.severity", prefixes=False)
    for pattern, codes in settings.per_path_ignores:
        check_codes(codes, f"{where} per_path_ignores {pattern!r}")
    chosen = select or settings.select
    if chosen and extend:
        chosen = (*chosen, *extend)
    return Selection(chosen, settings.ignore + ignore)


def write_result(ctx: Context, args: argparse.Namespace, result: CheckResult) -> int:
    """Write the result in ``--format`` (to ``--output``); the exit status comes from it."""
    settings = ctx.settings
    result = without_ignored(result, settings.root, settings.per_path_ignores, _project(ctx))
    chosen = output_format(args.format, os.environ)
    view = View(ctx.cwd, settings.root, ctx.symbols)
    shown = result
    if chosen in _REPOSITORY_FORMATS:
        # Annotations attach to files of the diff: paths from the repository's top, and
        # findings on an experiment placed on its metadata file.
        view = View(repository_top(ctx.cwd), settings.root, ctx.symbols)
        shown = located(result, settings.root)
    with ExitStack() as stack:
        out: TextIO = ctx.out
        if args.output:
            out = stack.enter_context(open(ctx.cwd / args.output, "w", encoding="utf-8"))
        if args.statistics and chosen in ("text", "json"):
            check_summary.STATISTICS[chosen](shown, out, view)
        else:
            CHECK_FORMATS[chosen](shown, out, view)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if chosen == "github" and summary:
        _append_summary(Path(summary), shown, view)
    return 0 if args.exit_zero else result.exit_code(args.strict)


def _project(ctx: Context) -> Path:
    """The folder per-path ignores of files outside the store are relative to."""
    project = ctx.settings.project_file
    return project.parent if project is not None else ctx.cwd


def _append_summary(path: Path, result: CheckResult, view: View) -> None:
    """The Markdown summary, appended (other steps write there too)."""
    text = check_summary.markdown(result, view, SUMMARY_LIMIT)
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write GITHUB_STEP_SUMMARY {path}: {exc.strerror}") from exc
