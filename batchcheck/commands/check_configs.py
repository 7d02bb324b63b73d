"""``batchcheck check-configs [FILE|DIR...]``: the store paths training configs name (BC5xx).

With no argument, the configs ``[tool.batchcheck] configs`` names; a folder stands for the
YAML / JSON files in it.
"""

from __future__ import annotations

import argparse

from batchcheck.commands.gate import add_gate_arguments, selection, write_result
from batchcheck.configs import check_configs, config_files, configured
from batchcheck.context import Context
from batchcheck.errors import UsageError
from batchcheck.findings import settle

NAME = "check-configs"
HELP = "check the store paths named in training configs (YAML or JSON; exit 1 on an error)"
NEEDS_ROOT = True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Config files or folders (default: the configured ones), and the options ``check`` has."""
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="a YAML or JSON training config, or a folder of them "
        "(default: [tool.batchcheck] configs)",
    )
    add_gate_arguments(parser)


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Exit 1 on an error finding (or a warning under ``--strict``), else 0."""
    chosen = selection(ctx, args)
    if args.files:
        paths = config_files([ctx.cwd / name for name in args.files], ctx.settings.root)
    elif ctx.settings.configs:
        paths = configured(ctx.settings)
    else:
        raise UsageError("no config given, and [tool.batchcheck] configs names none")
    findings, counts = check_configs(paths, ctx.settings, ctx.cwd)
    return write_result(ctx, args, settle(findings, chosen, ctx.settings.severity, counts))
