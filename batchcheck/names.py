"""How names and paths from the disk are shown: never raw undecodable bytes."""

from __future__ import annotations

import os
from pathlib import Path


def display(text: str) -> str:
    """A name as printable text: bytes that are not UTF-8 come out backslash-escaped."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


def shown_path(path: Path | str, cwd: Path | None = None) -> str:
    """A path relative to the current directory when it lies under it, else absolute."""
    path = str(path)
    base = str(cwd or Path.cwd())
    if path == base:
        return "."
    if path.startswith(base.rstrip(os.sep) + os.sep):
        return display(path[len(base.rstrip(os.sep)) + 1 :])
    return display(path)


def is_hidden(name: str) -> bool:
    """Hidden entries (``.git``, ``.DS_Store``) are ignored everywhere in a store."""
    return name.startswith(".")
