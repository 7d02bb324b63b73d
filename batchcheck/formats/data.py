"""The data formats: JSON (the one JSON writer of the program) and YAML.

A lookup or operation result has a ``to_json(cwd)`` shape; ``write_json`` / ``write_yaml``
serialise it as it is, so text, JSON and the Python API all read the same result.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol, TextIO

from batchcheck.formats.view import View


class Result(Protocol):
    """What a lookup or an operation returns: something with a stable JSON shape."""

    def to_json(self, cwd: Path) -> Any:
        """The JSON shape, paths relative to ``cwd`` when under it."""
        ...


def dump_json(data: Any, out: TextIO, indent: int | None = 2) -> None:
    """JSON, non-ASCII text as is, then a newline; written piece by piece, as a listing of a
    large store is hundreds of megabytes as one string. ``indent=None``: one line."""
    for chunk in json.JSONEncoder(ensure_ascii=False, indent=indent).iterencode(data):
        out.write(chunk)
    out.write("\n")


def dump_yaml(data: Any, out: TextIO, width: int | None = None) -> None:
    """Block-style YAML in the data's own key order, pasteable into a training config."""
    import yaml

    out.write(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=width))


def write_json(result: Result, out: TextIO, view: View) -> None:
    """``--format json``: the result's JSON shape."""
    dump_json(result.to_json(view.cwd), out)


def write_yaml(result: Result, out: TextIO, view: View) -> None:
    """``--format yaml``: the same shape as YAML."""
    dump_yaml(result.to_json(view.cwd), out)
