"""``batchcheck completion bash|zsh``: a shell completion script, generated from the parser."""

from __future__ import annotations

import argparse

from batchcheck.context import Context
from batchcheck.formats.completion import SHELLS

NAME = "completion"
HELP = "print a shell completion script (bash or zsh) for batchcheck"
NEEDS_ROOT = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The shell."""
    parser.add_argument("shell", choices=tuple(SHELLS), help="the shell to complete in")


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Write the script for the whole command line (``cli`` hands over its parser)."""
    SHELLS[args.shell](args.top_parser, ctx.out)
    return 0
