"""Reading batch folders beneath the root: their dataset folders, the symlinks in those (each
read, never followed) and everything else (strays, a small file read for the path it holds).

Each function does the I/O of one folder and returns plain data, so that it can run on a
thread of the scan's flow or in a forked worker; the scanner judges what they found.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from batchcheck.scan.beneath import (
    FILE,
    FILE_KIND,
    FOLDER,
    FOLDER_KIND,
    SYMLINK,
    VANISHED,
    Beneath,
    Stamp,
    listing,
    open_folder,
    readlink_at,
    stamp_at,
    stamp_of,
)
from batchcheck.scan.links import reason

POINTER_FILE_MAX = 1024

# A batch dataset folder's stamp and the (name, target) of every symlink it held (kept by
# scan.cache.LinkCache between runs).
Listing = tuple[Stamp, tuple[tuple[str, str], ...]]
# (name, kind, the path a small file holds, its stamp when asked for)
Stray = tuple[str, str, "str | None", "Stamp | None"]


@dataclass(frozen=True, slots=True)
class FolderRead:
    """One folder as read: its stamp (when asked for), its entries ``(name, kind)``, or why it
    could not be read. A batch dataset folder's are split into ``pairs`` (name, target) of its
    symlinks, sorted, and ``strays``."""

    stamp: Stamp | None = None
    entries: tuple[tuple[str, str], ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()
    strays: tuple[Stray, ...] = ()
    error: str | None = None
    cached: bool = False  # taken from the link cache: the folder was not listed
    # A batch folder's dataset folders that the link cache vouched for, by name.
    children: tuple[tuple[str, FolderRead], ...] = ()
    rest: tuple[str, ...] = ()  # symlinks whose targets are still to be read

    @property
    def complete(self) -> bool:
        """Only symlinks, every one read: a listing worth keeping (``LinkCache``)."""
        return self.error is None and not self.strays and self.stamp is not None


def read_folder(
    layer: Beneath, parts: tuple[str, ...], stamped: bool, targets: bool = True
) -> FolderRead:
    """The visible entries of a folder below the root, by name, and its stamp if asked; with
    ``targets`` its symlinks come back in ``pairs`` with their targets (``_shared`` reports
    them, never following one)."""
    try:
        with layer.folder(parts, FOLDER) as fd:
            seen = stamp_of(os.fstat(fd)) if stamped else None
            entries = sorted(listing(fd))
            pairs = []
            for name, kind in entries if targets else ():
                if kind == SYMLINK:
                    with contextlib.suppress(OSError):  # vanished since the folder was listed
                        pairs.append((name, readlink_at(fd, name)))
    except OSError as exc:
        return FolderRead(error=f"cannot read: {reason(exc)}")
    return FolderRead(seen, tuple(entries), tuple(pairs))


def read_kept(
    layer: Beneath, parts: tuple[str, ...], stamped: bool, earlier: Listing | None
) -> FolderRead:
    """:func:`read_folder` of a folder whose listing the link cache may hold (``earlier``):
    that listing while the folder's stamp is unchanged, else a fresh one, stamped."""
    if earlier is not None:
        with contextlib.suppress(OSError), layer.folder(parts[:-1]) as parent:
            if stamp_at(parent, parts[-1]) == earlier[0]:
                return FolderRead(earlier[0], earlier[1], cached=True)
    return read_folder(layer, parts, stamped or earlier is not None)


def _stray(fd: int, name: str, kind: str, stamped: bool) -> Stray:
    held = pointer(fd, name) if kind == FILE_KIND else None
    return (name, kind, held, stamp_at(fd, name) if stamped else None)


def read_batch(
    layer: Beneath, batch: str, stamped: bool, cache: Mapping[str, Listing]
) -> FolderRead:
    """A batch folder (:func:`read_folder` with strays), and in ``children`` each dataset
    folder the link cache (``cache``, by ``batch/dataset``) still vouches for: its stamp,
    taken beside the listing, is unchanged (adding, removing or replacing an entry moves it)."""
    try:
        with layer.folder((batch,), FOLDER) as fd:
            seen = stamp_of(os.fstat(fd)) if stamped else None
            entries = sorted(listing(fd))
            others = tuple(_stray(fd, n, k, stamped) for n, k in entries if k != FOLDER_KIND)
            children = []
            for name, kind in entries:
                earlier = cache.get(f"{batch}/{name}") if kind == FOLDER_KIND else None
                if earlier is not None and stamp_at(fd, name) == earlier[0]:
                    children.append((name, FolderRead(earlier[0], pairs=earlier[1], cached=True)))
    except OSError as exc:
        return FolderRead(error=f"cannot read: {reason(exc)}")
    return FolderRead(seen, tuple(entries), strays=others, children=tuple(children))


def read_links(
    layer: Beneath, batch: str, dataset: str, stamped: bool, at_most: int | None = None
) -> FolderRead:
    """A batch dataset folder: each symlink's target, each other entry as a stray.

    ``at_most``: read that many targets here and leave the other symlinks' names in ``rest``
    (for :func:`read_targets` on other threads: a network filesystem answers the readlinks of
    one folder in parallel too).
    """
    try:
        with layer.folder((batch,)) as parent, _opened(open_folder(parent, dataset)) as fd:
            seen = stamp_of(os.fstat(fd)) if stamped else None
            entries = listing(fd)
            symlinks = [name for name, kind in entries if kind == SYMLINK]
            now = symlinks if at_most is None else symlinks[:at_most]
            pairs = _targets(fd, now)
            strays = [
                _stray(fd, name, kind, stamped)
                for name, kind in entries
                if kind not in (SYMLINK, VANISHED)
            ]
    except OSError as exc:
        return FolderRead(error=f"cannot read: {reason(exc)}")
    pairs.sort()  # by name: names are unique, so targets are never compared
    strays.sort()
    rest = tuple(symlinks[len(now) :])
    return FolderRead(seen, pairs=tuple(pairs), strays=tuple(strays), rest=rest)


def read_targets(layer: Beneath, batch: str, dataset: str, names: Sequence[str]) -> FolderRead:
    """The targets of some symlinks of a batch dataset folder (see :func:`read_links`)."""
    try:
        with layer.folder((batch, dataset)) as fd:
            return FolderRead(pairs=tuple(_targets(fd, names)))
    except OSError as exc:
        return FolderRead(error=f"cannot read: {reason(exc)}")


def _targets(fd: int, names: Sequence[str]) -> list[tuple[str, str]]:
    """(name, target) of each symlink of a folder; one gone since the listing is left out."""
    pairs = []
    for name in names:
        try:
            pairs.append((name, readlink_at(fd, name)))
        except OSError:
            continue  # a try costs nothing here; a suppress() per link shows at 200k links
    return pairs


@contextlib.contextmanager
def _opened(fd: int) -> Iterator[int]:
    try:
        yield fd
    finally:
        os.close(fd)


def pointer(dir_fd: int, name: str) -> str | None:
    """The path a small text file holds, as git writes a symlink without symlink support."""
    try:
        fd = os.open(name, FILE, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if st.st_size > POINTER_FILE_MAX or not stat.S_ISREG(st.st_mode):
            return None
        raw = os.read(fd, POINTER_FILE_MAX + 1)
        text = raw.decode("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    finally:
        os.close(fd)
    if not text or "\n" in text or "\0" in text or "/" not in text:
        return None
    return text


def is_real_dir(path: str | os.PathLike[str]) -> bool:
    """A folder that is not a symlink (lstat of the last part: never followed)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False
