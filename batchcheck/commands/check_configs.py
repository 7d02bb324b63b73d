"""``batchcheck check-configs FILE...``: the store paths that training configs name (BC5xx)."""

from __future__ import annotations

import argparse

from batchcheck.commands.gate import add_gate_arguments, selection, write_result
from batchcheck.configs import check_configs
from batchcheck.context import Context
from batchcheck.findings import settle

NAME = "check-configs"
HELP = "check the store paths named in training configs (YAML or JSON; exit 1 on an error)"
NEEDS_ROOT = True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One or more config files, and the options ``check`` has."""
    parser.add_argument("files", nargs="+", metavar="FILE", help="a YAML or JSON training config")
    add_gate_arguments(parser)


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Exit 1 on an error finding (or a warning under ``--strict``), else 0."""
    chosen = selection(ctx, args)
    findings, counts = check_configs([ctx.cwd / name for name in args.files], ctx.settings, ctx.cwd)
    return write_result(ctx, args, settle(findings, chosen, ctx.settings.severity, counts))
