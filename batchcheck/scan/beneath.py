"""The read layer: every look at the store is made beneath the root's file descriptor.

SPEC section 1, "Reading is beneath the root": no read may follow a symlink on the way, so
that swapping a folder for a link during a run can never lead outside the root. A path is
therefore never handed to the kernel whole. The root is opened once (its own symlinks
followed, as the user gave it); each folder below it is opened relative to its parent's
descriptor with ``O_NOFOLLOW | O_DIRECTORY`` (a symlink or a file there fails with ENOTDIR or
ELOOP); entries are listed, stat'ed, read and readlink'ed relative to a folder's descriptor
(``dir_fd=``), each by one name that can be nothing but a name. The standard library has every
call, but nothing that walks a path this way (Linux's ``openat2(RESOLVE_NO_SYMLINKS)`` is
neither portable nor wrapped), hence this module.

The descriptors of the folders every scan comes back to (the root, ``_shared`` and its dataset
folders) are opened once and kept until the scan ends; worker processes forked meanwhile
inherit them. A kept descriptor is only ever used with ``*at`` calls: ``os.scandir(fd)`` reads
through a duplicate that shares its file offset, so a listing always gets a descriptor of its
own.

``Pace`` times the first folder opens of a run: on a filesystem that makes each call wait (NFS,
Lustre, a FUSE mount) the scan keeps many requests in flight on threads; on one that answers at
once (a local disk) threads would only contend for the GIL.
"""

from __future__ import annotations

import errno
import os
import stat
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from batchcheck.names import is_hidden

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
# A folder to list (and to use as dir_fd).
FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC
# A folder only used as dir_fd: on Linux O_PATH skips the open itself (no request at all on a
# FUSE or network filesystem); elsewhere an ordinary open.
HANDLE = getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC
# A file to read: never through a symlink, and a FIFO never blocks the open.
FILE = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | _CLOEXEC

# What an entry is, by lstat (never followed).
FOLDER_KIND, FILE_KIND, SYMLINK, SPECIAL, VANISHED, MISSING = (
    "folder",
    "file",
    "symlink",
    "special file",
    "vanished",  # listed, gone by the time its type was asked for
    "missing",
)

Stamp = tuple[int, int, int, int, int]  # mtime_ns, ctime_ns, inode, size, mode
Parts = tuple[str, ...]  # a path relative to the root, one name per part


def is_name(text: str) -> bool:
    """One path component: what a listing can return (never ``.``, ``..`` or a slash)."""
    return text not in ("", ".", "..") and "/" not in text and "\0" not in text


def stamp_of(st: os.stat_result) -> Stamp:
    """The parts of a stat result that change when a file or folder does."""
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_size, st.st_mode)


def kind_of(mode: int) -> str:
    """The kind of entry an ``st_mode`` stands for."""
    if stat.S_ISDIR(mode):
        return FOLDER_KIND
    if stat.S_ISLNK(mode):
        return SYMLINK
    if stat.S_ISREG(mode):
        return FILE_KIND
    return SPECIAL


def entry_kind(entry: os.DirEntry[str]) -> str:
    """An entry's kind from its listing (a stat beneath its folder only when the filesystem
    gives no type)."""
    try:
        if entry.is_symlink():
            return SYMLINK
        if entry.is_dir(follow_symlinks=False):
            return FOLDER_KIND
        if entry.is_file(follow_symlinks=False):
            return FILE_KIND
    except OSError:
        return VANISHED
    return SPECIAL


Entry = tuple[str, str]  # (name, kind)


def listing(fd: int, hidden: bool = False) -> list[Entry]:
    """(name, kind) of each entry of an open folder, in the order the filesystem gives them;
    hidden ones only when asked. The descriptor must be one no other thread lists."""
    with os.scandir(fd) as it:
        return [(e.name, entry_kind(e)) for e in it if hidden or not is_hidden(e.name)]


def kind_at(dir_fd: int, name: str) -> str:
    """What ``name`` is in a folder (lstat: a symlink is a symlink); ``missing`` when nothing
    is there, or a part of the way is not a folder."""
    if not is_name(name):
        return MISSING
    try:
        return kind_of(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return MISSING


def stamp_at(dir_fd: int, name: str) -> Stamp | None:
    """The stamp of ``name`` in a folder (lstat); None when it cannot be had."""
    if not is_name(name):
        return None
    try:
        return stamp_of(os.stat(name, dir_fd=dir_fd, follow_symlinks=False))
    except OSError:
        return None


def readlink_at(dir_fd: int, name: str) -> str:
    """The target text of symlink ``name`` in a folder. Raises OSError."""
    if not is_name(name):
        raise FileNotFoundError(2, "not a name", name)
    return os.readlink(name, dir_fd=dir_fd)


def open_folder(dir_fd: int, name: str, flags: int = FOLDER) -> int:
    """A descriptor of folder ``name`` in a folder, never through a symlink. Raises OSError:
    ENOTDIR or ELOOP when ``name`` is a symlink or not a folder."""
    if not is_name(name):
        raise FileNotFoundError(2, "not a name", name)
    return os.open(name, flags, dir_fd=dir_fd)


def make_folder(dir_fd: int, name: str) -> tuple[int, bool]:
    """A handle of folder ``name`` in a folder, made unless a real one is there (True when
    made), never through a symlink: a file or symlink holding the name is FileExistsError.

    Writing relative to the handle (``os.symlink(target, name, dir_fd=)``) lands in this very
    folder even when its name is swapped for a symlink a moment later.
    """
    if not is_name(name):
        raise FileNotFoundError(2, "not a name", name)
    try:
        os.mkdir(name, dir_fd=dir_fd)
        made = True
    except FileExistsError as exists:
        made = False
        try:
            return os.open(name, HANDLE, dir_fd=dir_fd), made
        except OSError as exc:
            if exc.errno in (errno.ENOTDIR, errno.ELOOP):
                raise exists from exc  # a file or a symlink holds the name
            raise
    return os.open(name, HANDLE, dir_fd=dir_fd), made


class Pace:
    """Whether the filesystem makes each call wait: the median of the first folder opens.

    A local disk answers an open in microseconds; a network round trip takes a fraction of a
    millisecond or more. The median of a few keeps one preempted call from deciding.
    """

    SAMPLES = 5
    SLOW_NS = 150_000

    def __init__(self, forced: bool | None = None) -> None:
        self.forced = forced
        self.samples: list[int] = []

    @property
    def measuring(self) -> bool:
        """Whether opens are still timed."""
        return self.forced is None and len(self.samples) < self.SAMPLES

    def note(self, nanoseconds: int) -> None:
        """One timed open."""
        self.samples.append(nanoseconds)

    @property
    def slow(self) -> bool:
        """Whether calls wait (so that threads pay); False until anything was timed."""
        if self.forced is not None:
            return self.forced
        return bool(self.samples) and statistics.median(self.samples) > self.SLOW_NS


class Beneath:
    """The root's descriptor and the folders below it that a scan keeps open.

    ``spellings`` are the root as given and as ``realpath`` resolves it, as path parts: an
    absolute link target under either lies inside the store (SPEC section 1).
    """

    KEEP_MAX = 512  # folders kept open at most (the process has a descriptor limit)

    def __init__(self, root: Path, pace: Pace | None = None) -> None:
        self.root = root
        self.pace = pace or Pace()
        start = time.perf_counter_ns()
        self.fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)
        if self.pace.measuring:
            self.pace.note(time.perf_counter_ns() - start)
        given = tuple(p for p in str(root).split(os.sep) if p)
        real = tuple(p for p in os.path.realpath(root).split(os.sep) if p)
        self.spellings: tuple[Parts, ...] = tuple(dict.fromkeys((given, real)))
        self._kept: dict[Parts, int] = {(): self.fd}

    def __enter__(self) -> Beneath:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every descriptor the layer kept (the root's too)."""
        kept, self._kept = self._kept, {}
        for fd in kept.values():
            os.close(fd)

    def open(self, dir_fd: int, name: str, flags: int = FOLDER) -> int:
        """:func:`open_folder` (``.``: the folder itself), timed while the pace is measured."""
        if name != "." and not is_name(name):
            raise FileNotFoundError(2, "not a name", name)
        if not self.pace.measuring:
            return os.open(name, flags, dir_fd=dir_fd)
        start = time.perf_counter_ns()
        try:
            return os.open(name, flags, dir_fd=dir_fd)
        finally:
            self.pace.note(time.perf_counter_ns() - start)

    def kept(self, parts: Parts) -> int:
        """A descriptor of the folder ``parts`` below the root, opened once along the way and
        kept (for ``*at`` calls only). Raises OSError when a part is missing, a file or a
        symlink; NotImplementedError past ``KEEP_MAX`` (use :meth:`folder`)."""
        fd = self._kept.get(parts)
        if fd is not None:
            return fd
        if len(self._kept) >= self.KEEP_MAX:
            raise NotImplementedError("too many folders kept open")
        parent = self.kept(parts[:-1])
        fd = self.open(parent, parts[-1], HANDLE)
        self._kept[parts] = fd
        return fd

    @contextmanager
    def folder(self, parts: Parts, flags: int = HANDLE) -> Iterator[int]:
        """A descriptor of the folder ``parts`` for the length of a ``with``: a kept one for
        HANDLE when there is one, else opened now from the nearest kept folder above it (never
        through a symlink) and closed afterwards. Raises OSError like :meth:`kept`."""
        depth = len(parts) if flags == HANDLE else len(parts) - 1
        while depth > 0 and parts[:depth] not in self._kept:
            depth -= 1
        opened: list[int] = []
        try:
            if depth < 0:  # a listing of the root itself: a descriptor of its own
                opened.append(self.open(self.fd, ".", flags))
            else:
                fd = self._kept[parts[:depth]]
                for i in range(depth, len(parts)):
                    fd = self.open(fd, parts[i], flags if i == len(parts) - 1 else HANDLE)
                    opened.append(fd)
            yield opened[-1] if opened else self._kept[parts]
        finally:
            for fd in reversed(opened):
                os.close(fd)

    def lookup(self, parts: Parts, name: str) -> str:
        """What ``name`` is in the folder ``parts`` (a kind, or MISSING); raises OSError when
        the folder cannot be opened or looked into."""
        with self.folder(parts) as fd:
            return kind_at(fd, name)

    def inside(self, target: str) -> Parts | None:
        """The parts of an absolute ``target`` after either spelling of the root (``.`` and
        empty parts dropped, ``..`` kept for the walk to judge); None when it lies under
        neither."""
        parts = [p for p in target.split("/") if p not in ("", ".")]
        for spelling in self.spellings:
            if tuple(parts[: len(spelling)]) == spelling:
                return tuple(parts[len(spelling) :])
        return None


def names_of(entries: Sequence[Entry], kind: str) -> list[str]:
    """The names of the entries of one kind."""
    return [name for name, k in entries if k == kind]
