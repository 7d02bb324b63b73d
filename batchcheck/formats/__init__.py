"""Output formats. Formatters only format what an operation returned, to the stream given.

Every formatter is ``write(result, out, view)``. Each output family has one registry
(``checks.CHECK_FORMATS`` for ``check``) whose keys are its ``--format`` choices
(``add_format_argument`` reads them from it), so a format is named in exactly one place; the
data formats (JSON, YAML) serialise a result's ``to_json`` shape."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from batchcheck.formats.data import write_json, write_yaml
from batchcheck.formats.view import View

Formatter = Callable[[Any, TextIO, View], None]

DATA_FORMATS: dict[str, Formatter] = {"json": write_json, "yaml": write_yaml}


def with_data(text: Formatter, *data: str) -> dict[str, Formatter]:
    """A family's registry: its text layout, then the named data formats."""
    return {"text": text, **{name: DATA_FORMATS[name] for name in data}}


def add_format_argument(
    parser: argparse.ArgumentParser,
    formats: Mapping[str, Formatter],
    help: str | None = "output format (default: text, the seed's layout)",
) -> None:
    """``--format`` with the registry's keys as its choices (``text`` first, the default)."""
    parser.add_argument("--format", choices=tuple(formats), default="text", help=help)
