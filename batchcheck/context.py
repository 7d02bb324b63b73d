"""What every command receives: settings, the output stream and how to draw markers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from batchcheck.config import Settings
from batchcheck.formats.symbols import Symbols
from batchcheck.progress import Progress
from batchcheck.scan import ScanOptions


@dataclass(frozen=True)
class Context:
    """The run's settings and its output; commands write only to ``out``."""

    settings: Settings
    out: TextIO
    symbols: Symbols
    cwd: Path
    show_progress: bool = False
    cache_dir: Path | None = None  # None: --no-cache

    def scan_options(self, **kwargs: Any) -> ScanOptions:
        """Scan options with the project's schema, fingerprint fields, size limit and cache."""
        return ScanOptions.from_settings(self.settings, cache_dir=self.cache_dir, **kwargs)

    def progress(self) -> Progress:
        """A progress line on stderr for long scans (silent unless stderr is a terminal)."""
        return Progress(self.show_progress)
