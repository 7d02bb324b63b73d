"""What git will commit: the files its index holds below a folder, from one ``git ls-files``.

One call, NUL-separated, names decoded as the scan decodes them (``os.fsdecode``), so a store
of 100k experiments costs one process and one set.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def _git(folder: Path, *args: str, timeout: int) -> bytes | None:
    """git's standard output, run in ``folder``; None when it fails or cannot be run (not a
    work tree, no git)."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=folder, capture_output=True, check=False, timeout=timeout
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def tracked(folder: Path) -> frozenset[str] | None:
    """Paths (relative to ``folder``, ``/``-separated) of every file git tracks below it;
    None when ``folder`` is not in a git work tree or git cannot be run."""
    out = _git(folder, "ls-files", "-z", "--cached", "--", ".", timeout=300)
    if out is None:
        return None
    return frozenset(os.fsdecode(name) for name in out.split(b"\0") if name)


def index_stamp(folder: Path) -> tuple[int, int] | None:
    """``(mtime_ns, size)`` of the git index of the work tree holding ``folder``: git rewrites
    the index whenever what it tracks changes, so a cached check result stays valid while
    this stays the same. None outside a git work tree."""
    out = _git(folder, "rev-parse", "--path-format=absolute", "--git-path", "index", timeout=60)
    if out is None:
        return None
    try:
        st = os.stat(os.fsdecode(out.strip()))
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size
