"""How names and paths from the disk are shown: never raw undecodable bytes."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def decoded(text: str) -> str:
    """A name as text that names the very file where UTF-8 allows: only bytes that are not
    UTF-8 (and a lone surrogate from JSON) come out backslash-escaped. For formats that escape
    for where they go themselves (JSON, XML, GitHub's workflow commands)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            raw = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a lone surrogate from JSON ("\\ud800"), not from a file name
            return text.encode("utf-8", "backslashreplace").decode("utf-8")
        return raw.decode("utf-8", "backslashreplace")
    return text


def display(text: str) -> str:
    """A name or text from the disk or a JSON file as a person reads it (terminal, report,
    one-line message): :func:`decoded`, and control characters (a newline in a link target,
    an escape sequence, a bidirectional override) backslash-escaped too; spaces of every kind
    stay as they are. Shown this way, a name can neither forge a line nor move the cursor."""
    if text.isprintable():
        return text
    shown = decoded(text)
    if shown.isprintable():
        return shown
    return "".join(
        ch if ch.isprintable() or unicodedata.category(ch) == "Zs" else repr(ch)[1:-1]
        for ch in shown
    )


def quoted(text: str) -> str:
    """:func:`display`, in single quotes."""
    return f"'{display(text)}'"


def shown_path(path: Path | str, cwd: Path | None = None) -> str:
    """A path relative to the current directory when it lies under it, else absolute."""
    path = os.fspath(path)
    base = os.fspath(cwd) if cwd is not None else os.getcwd()
    if path == base:
        return "."
    prefix = base if base.endswith(os.sep) else base + os.sep
    if path.startswith(prefix):
        return decoded(path[len(prefix) :])
    return decoded(path)


def is_hidden(name: str) -> bool:
    """Hidden entries (``.git``, ``.DS_Store``) are ignored everywhere in a store."""
    return name.startswith(".")


def dotted(path: Iterable[Any]) -> str:
    """``generation.stop[1]`` from ``("generation", "stop", 1)``: a key path in metadata."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
