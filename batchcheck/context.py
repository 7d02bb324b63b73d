"""What every command receives: settings, the output stream and how to draw markers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from batchcheck.config import Settings
from batchcheck.formats.symbols import Symbols


@dataclass(frozen=True)
class Context:
    """The run's settings and its output; commands write only to ``out``."""

    settings: Settings
    out: TextIO
    symbols: Symbols
    cwd: Path
    progress: bool = False
