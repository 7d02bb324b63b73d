"""``batchcheck fingerprint FILE``: the fingerprint of a metadata JSON or a parameters YAML."""

from __future__ import annotations

import argparse
from typing import TextIO

from batchcheck.context import Context
from batchcheck.formats import Formatter, add_format_argument
from batchcheck.formats.data import Result, dump_json
from batchcheck.formats.view import View
from batchcheck.parameters import FileFingerprint, file_fingerprint

NAME = "fingerprint"
HELP = "print the parameter fingerprint of a metadata JSON or parameters YAML file"
NEEDS_ROOT = False


def _text(result: FileFingerprint, out: TextIO, view: View) -> None:
    out.write(result.fingerprint + "\n")


def _json(result: Result, out: TextIO, view: View) -> None:
    dump_json(result.to_json(view.cwd), out, indent=None)  # one line, for pipelines


FORMATS: dict[str, Formatter] = {"text": _text, "json": _json}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE, and json output for pipelines that want the short form too."""
    parser.add_argument("file", metavar="FILE", help="experiment_metadata.json or a YAML file")
    add_format_argument(parser, FORMATS, help=None)


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Print all 32 digits (or a JSON object with the short form and the hashed fields)."""
    result = file_fingerprint(ctx.cwd / args.file, args.file, ctx.settings.fingerprint_fields)
    FORMATS[args.format](result, ctx.out, View(ctx.cwd, ctx.settings.root, ctx.symbols))
    return 0
