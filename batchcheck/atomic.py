"""The one way batchcheck writes a file: a hidden temporary file beside the target, then a rename.

A reader, or a run killed half-way, sees either the old file or the new one, never a part.
Caches and report pages both go through :func:`write_atomic`.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO


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


def temporary_name(path: Path, purpose: str = "tmp") -> Path:
    """A hidden name beside ``path`` (``.<name>.<purpose>-<random>``): the scan ignores hidden
    entries, so a half-made file, folder or link there is never taken for store content."""
    return path.with_name(f".{path.name}.{purpose}-{os.urandom(4).hex()}")


def stands_for(name: str, purpose: str) -> str | None:
    """The name a :func:`temporary_name` for ``purpose`` stands for, or None when ``name`` is
    not one."""
    match = re.fullmatch(rf"\.(.+)\.{re.escape(purpose)}-[0-9a-f]{{8}}", name, re.S)
    return match[1] if match else None


def temporaries(folder: Path, purpose: str) -> list[tuple[str, Path]]:
    """What :func:`temporary_name` made in ``folder`` for ``purpose`` and is still there (a run
    killed half-way): (the name each stands for, its path), sorted. None in a missing folder."""
    try:
        with os.scandir(folder) as it:
            names = sorted(entry.name for entry in it)
    except FileNotFoundError:
        return []
    found = ((stands_for(name, purpose), name) for name in names)
    return [(meant, folder / name) for meant, name in found if meant is not None]


def symlink_atomic(target: str, path: Path | str, dir_fd: int | None = None) -> None:
    """Make ``path`` (relative to folder ``dir_fd`` when given) a symlink to ``target``,
    replacing whatever link is there in one step: the link is made under a temporary name and
    ``os.replace``d over ``path``."""
    tmp = temporary_name(Path(path))
    os.symlink(target, tmp, dir_fd=dir_fd)
    try:
        os.replace(tmp, path, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise


_RENAME_NOREPLACE = 1
_AT_FDCWD = -100


@functools.cache
def _renameat2() -> Any:
    """libc's ``renameat2``, or None; looked up once (``find_library`` runs a program each
    time: 2 ms a rename of ``mv`` and ``gc`` on a large store)."""
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True).renameat2
    except (OSError, AttributeError):
        return None


def rename_noreplace(src: Path | str, dst: Path | str, dir_fd: int | None = None) -> None:
    """Rename ``src`` to ``dst`` (both relative to folder ``dir_fd`` when given); FileExistsError
    if anything holds ``dst``, even an empty folder (which a plain ``rename`` would replace).

    Uses ``renameat2(RENAME_NOREPLACE)`` (Linux 3.15+, glibc 2.28+), which the standard library
    does not wrap; elsewhere, or on a filesystem without it, a look and then ``os.rename``,
    which only another writer racing for the same name could defeat.
    """
    import ctypes

    renameat2 = _renameat2()
    at = _AT_FDCWD if dir_fd is None else dir_fd
    if renameat2 is not None:
        result = renameat2(at, os.fsencode(src), at, os.fsencode(dst), _RENAME_NOREPLACE)
        if result == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.EINVAL, errno.ENOSYS):  # not supported here: fall back below
            raise OSError(err, os.strerror(err), os.fspath(dst))
    try:
        os.stat(dst, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        os.rename(src, dst, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        return
    raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), os.fspath(dst))
