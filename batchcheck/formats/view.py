"""How a formatter shows paths and markers: relative to the current folder, grouped."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from batchcheck.formats.symbols import Symbols
from batchcheck.names import decoded, display, shown_path

NOUNS = {"experiments": "experiment", "links": "link", "configs": "config", "paths": "path"}


@dataclass(frozen=True)
class View:
    """Where paths are shown from, the markers to draw, and how much to show."""

    cwd: Path
    root: Path
    symbols: Symbols
    verbose: bool = False
    absolute: bool = False  # every path in full (list-data-paths --absolute)

    def path(self, path: Path | str) -> str:
        """A path for a line of text (a terminal, a comment, a Markdown cell): as
        :meth:`raw_path`, with control characters escaped (``names.display``), so a name
        holding a newline or an escape sequence cannot forge a line or move the cursor."""
        return display(self.raw_path(path))

    def raw_path(self, path: Path | str) -> str:
        """A path relative to the current folder when under it (absolute: always in full),
        as it is on disk (only undecodable bytes escaped): for a format that escapes for where
        it goes itself and must name the very file (GitHub's workflow commands, JSON)."""
        return decoded(os.fspath(path)) if self.absolute else shown_path(path, self.cwd)

    def group(self, path: Path) -> tuple[str, str]:
        """(group, rest): ``batch/Dataset`` or ``_shared/Dataset`` and the entry below it."""
        try:
            parts = path.relative_to(self.root).parts
        except ValueError:
            return self.path(path), ""
        if len(parts) <= 2:
            return self.path(path), ""
        return self.path(self.root.joinpath(*parts[:2])), display("/".join(parts[2:]))


def plural(count: int, noun: str) -> str:
    """``1 error``, ``2 errors``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def summary_line(errors: int, warnings: int, counts: Mapping[str, int]) -> str:
    """``2 errors, 1 warning in 5 experiments, 6 links`` (what was looked at, in given order)."""
    scope = ", ".join(plural(n, NOUNS[key]) for key, n in counts.items() if key in NOUNS)
    found = f"{plural(errors, 'error')}, {plural(warnings, 'warning')}"
    return f"{found} in {scope}" if scope else found
