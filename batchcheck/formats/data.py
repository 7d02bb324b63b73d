"""The data formats: JSON (the one JSON writer of the program) and YAML.

A lookup or operation result has a ``to_json(cwd)`` shape; ``write_json`` / ``write_yaml``
serialise it as it is, so text, JSON and the Python API all read the same result.
"""

from __future__ import annotations

import json
import re
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
    out.write(yaml_text(data, width))


# What libyaml's emitter writes differently from PyYAML's own: characters beyond U+FFFF, NEL and
# the Unicode line separators escaped (``\U0001F600``, ``\N``, ``\L``, ``\P``), and long
# double-quoted scalars folded at other places. Output holding neither is byte for byte the same.
_LIBYAML_DIFFERS = re.compile(r'"|\\[UNLP]')


def yaml_text(data: Any, width: int | None = None) -> str:
    """``yaml.safe_dump`` of ``data`` (a mapping), written by libyaml's C emitter where it is
    installed (4x faster on a large listing) and its bytes are PyYAML's; by PyYAML otherwise."""
    import yaml

    options: dict[str, Any] = {"allow_unicode": True, "sort_keys": False, "width": width}
    fast = getattr(yaml, "CSafeDumper", None)
    if fast is not None:
        try:
            text: str = yaml.dump(data, Dumper=fast, **options)
        except UnicodeEncodeError:  # a lone surrogate: libyaml takes UTF-8 only
            text = ""
        if text and not _LIBYAML_DIFFERS.search(text):
            return text
    slow: str = yaml.dump(data, Dumper=yaml.SafeDumper, **options)
    return slow


def write_json(result: Result, out: TextIO, view: View) -> None:
    """``--format json``: the result's JSON shape."""
    dump_json(result.to_json(view.cwd), out)


def write_yaml(result: Result, out: TextIO, view: View) -> None:
    """``--format yaml``: the same shape as YAML."""
    dump_yaml(result.to_json(view.cwd), out)
