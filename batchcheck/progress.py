"""Progress on stderr for long scans: only on a terminal, only after about a second."""

from __future__ import annotations

import sys
import time
from typing import TextIO

DELAY = 1.0  # seconds before the first line: quick commands stay silent
INTERVAL = 0.2


class Progress:
    """Counts scanned experiments and links; redraws one stderr line now and then."""

    def __init__(
        self, enabled: bool, stream: TextIO | None = None, delay: float | None = None
    ) -> None:
        """``delay``: seconds of silence before the first line (None: ``DELAY``, looked up now,
        so a test can shorten it for a whole process)."""
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self.next_draw = self.start + (DELAY if delay is None else delay)
        self.experiments = 0
        self.links = 0
        self.drawn = False

    def add(self, experiments: int = 0, links: int = 0) -> None:
        """Count work done; draw when it is time."""
        self.experiments += experiments
        self.links += links
        if not self.enabled:
            return
        now = time.monotonic()
        if now >= self.next_draw:
            self.next_draw = now + INTERVAL
            self.stream.write(f"\rscanning: {self.experiments} experiments, {self.links} links ...")
            self.stream.flush()
            self.drawn = True

    def add_experiments(self, count: int) -> None:
        """Count experiments read (a callback for the readers)."""
        self.add(experiments=count)

    def done(self) -> None:
        """Clear the progress line so that the command's own output starts clean."""
        if self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.drawn = False
