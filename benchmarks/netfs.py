"""Timing commands on a slow filesystem: the store behind ``latfs`` (``../shared/tools/latfs``),
a FUSE passthrough that delays every operation, each command against its yardstick on the same
mount, in the same run.

The latfs server is built once (``build.sh``) into ``benchmarks/stores/latfs``; it needs
``/dev/fuse``. Its counters, split per command with SIGUSR1, give the round trips a command
made and the most that were in flight at once. latfs's own ``latrun.sh`` times one command per
mount; here one mount serves every command, so that all see the same kernel state, and one
untimed pass comes first (names known, entries expired), as the latfs README recommends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
# CI checks the project out beside ../shared (read-only); LATFS_DIR points elsewhere.
LATFS_DIR = Path(os.environ.get("LATFS_DIR", HERE.parent.parent / "shared" / "tools" / "latfs"))
BINARY = HERE / "stores" / "latfs"
ENTRY_TIMEOUT = 1.0  # latfs's default entry_timeout (seconds)


@dataclass(frozen=True)
class Run:
    """One command on the mount: wall seconds, round trips, most requests in flight."""

    seconds: float
    round_trips: int
    in_flight: int


def unavailable() -> str | None:
    """Why no network table can be made here, or None."""
    if not Path("/dev/fuse").exists():
        return "no /dev/fuse"
    if shutil.which("fusermount3") is None and BINARY.exists():
        return "no fusermount3"
    if not (LATFS_DIR / "build.sh").exists():
        return f"no latfs sources at {LATFS_DIR} (set LATFS_DIR)"
    return None


def binary() -> Path:
    """The latfs server, built on first use."""
    if not BINARY.exists():
        BINARY.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["bash", str(LATFS_DIR / "build.sh"), str(BINARY)], check=True)
    return BINARY


class Mount:
    """A latfs mount of a store: run commands on it, each with its counters."""

    def __init__(self, path: Path, server: subprocess.Popen[bytes], stats: Path) -> None:
        self.path = path
        self.server = server
        self.stats = stats

    def _dump(self) -> str:
        """Have the server append its counters since the last dump (and reset them)."""
        lines = self._lines()
        os.kill(self.server.pid, signal.SIGUSR1)
        for _ in range(200):
            now = self._lines()
            if len(now) > len(lines):
                return now[-1]
            time.sleep(0.01)
        raise RuntimeError("latfs wrote no counters")

    def _lines(self) -> list[str]:
        return self.stats.read_text().splitlines() if self.stats.exists() else []

    def run(self, argv: list[str]) -> Run:
        """Run ``argv`` (``{}`` stands for the mountpoint) to completion; it must succeed.

        It starts once the kernel's name entries of earlier runs have expired (latfs mounts
        with ``entry_timeout=1``), so that no run rides on the lookups of the one before.
        """
        time.sleep(ENTRY_TIMEOUT + 0.2)
        self._dump()
        start = time.perf_counter()
        subprocess.run(
            [a.replace("{}", str(self.path)) for a in argv],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        seconds = time.perf_counter() - start
        counters = dict(field.split("=") for field in self._dump().split() if "=" in field)
        return Run(seconds, int(counters.get("delayed", 0)), int(counters.get("max_inflight", 0)))


@contextlib.contextmanager
def mounted(store: Path, delay_us: int) -> Iterator[Mount]:
    """``store`` read-only behind latfs with ``delay_us`` per operation, unmounted after."""
    with tempfile.TemporaryDirectory(prefix="batchcheck-netfs-") as tmp:
        mnt, stats = Path(tmp) / "mnt", Path(tmp) / "stats"
        mnt.mkdir()
        env = {**os.environ, "LATFS_DELAY_US": str(delay_us), "LATFS_STATS": str(stats)}
        server = subprocess.Popen(
            [str(binary()), str(store), str(mnt), "-f"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                if os.path.ismount(mnt) or server.poll() is not None:
                    break
                time.sleep(0.1)
            if not os.path.ismount(mnt):
                raise RuntimeError(f"latfs did not mount {store}")
            yield Mount(mnt, server, stats)
        finally:
            subprocess.run(["fusermount3", "-u", str(mnt)], check=False)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
