"""The one way batchcheck writes a file: a hidden temporary file beside the target, then a rename.

A reader, or a run killed half-way, sees either the old file or the new one, never a part.
Caches and report pages both go through :func:`write_atomic`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomic(path: Path, fill: Callable[[BinaryIO], None], mode: int | None = None) -> Path:
    """Write ``path`` through ``fill(handle)`` on a temporary file in its folder, then
    ``os.replace`` it into place (``mode``: the permissions to give it first, else 0600).

    On any failure the temporary file is removed and the error raised; ``path`` is untouched.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            fill(handle)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path
