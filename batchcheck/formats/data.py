"""``--format json`` / ``yaml`` for lookups: the result's ``to_json`` shape, serialised as is.

``DUMPERS`` maps each data format to its writer; with ``text`` its keys are the argparse
choices, so a format is named in one place.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TextIO

from batchcheck.context import Context


class Result(Protocol):
    """What a lookup returns: something with a stable JSON shape."""

    def to_json(self, cwd: Path) -> dict[str, Any]:
        """The JSON shape, paths relative to ``cwd`` when under it."""
        ...


def dump_json(data: Any, out: TextIO) -> None:
    """Indented JSON, non-ASCII text as is; written piece by piece, as a listing of a large
    store is hundreds of megabytes as one string."""
    for chunk in json.JSONEncoder(ensure_ascii=False, indent=2).iterencode(data):
        out.write(chunk)
    out.write("\n")


def dump_yaml(data: Any, out: TextIO) -> None:
    """Block-style YAML in the result's own key order, pasteable into a training config."""
    import yaml

    out.write(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False))


DUMPERS: dict[str, Callable[[Any, TextIO], None]] = {"json": dump_json, "yaml": dump_yaml}


def add_format_argument(parser: argparse.ArgumentParser, *formats: str) -> None:
    """``--format text|...`` with the given data formats (json for every lookup)."""
    parser.add_argument(
        "--format",
        choices=("text", *formats),
        default="text",
        help="output format (default: text, the seed's layout)",
    )


def write(ctx: Context, fmt: str, result: Result, text: Callable[[], None]) -> None:
    """Hand ``result`` to the text layout or serialise its JSON shape."""
    if fmt == "text":
        text()
    else:
        DUMPERS[fmt](result.to_json(ctx.cwd), ctx.out)
