"""Listing folders of a store: entry kinds by ``lstat`` only, symlinks read, never followed."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Sequence
from operator import attrgetter

from batchcheck.names import is_hidden
from batchcheck.stamps import stamp

POINTER_FILE_MAX = 1024
_NAME = attrgetter("name")

# A batch dataset folder's stamp and the (name, target) of every symlink it held (kept by
# scan.cache.LinkCache between runs).
Listing = tuple[tuple[int, ...], tuple[tuple[str, str], ...]]


def entry_kind(entry: os.DirEntry[str]) -> str:
    """folder, file, symlink, special file, or vanished (gone since it was listed)."""
    try:
        if entry.is_symlink():
            return "symlink"
        if entry.is_dir(follow_symlinks=False):
            return "folder"
        if entry.is_file(follow_symlinks=False):
            return "file"
    except OSError:
        return "vanished"
    return "special file"


def is_real_dir(path: str) -> bool:
    """A folder that is not a symlink (lstat: never followed)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def entries(path: str) -> list[os.DirEntry[str]]:
    """Visible entries of a folder, sorted by name. Raises OSError like os.scandir."""
    with os.scandir(path) as it:
        found = [e for e in it if not is_hidden(e.name)]
    found.sort(key=_NAME)
    return found


def by_name(items: Sequence[os.DirEntry[str]]) -> list[os.DirEntry[str]]:
    """``items`` sorted by name."""
    return sorted(items, key=_NAME)


def read_symlinks(folder: str) -> tuple[list[tuple[str, str]], list[os.DirEntry[str]], bool]:
    """(name, target) of each symlink in ``folder``, sorted; its other visible entries; and
    whether it held only symlinks, all read (a listing worth keeping). Raises OSError like
    os.scandir."""
    pairs: list[tuple[str, str]] = []
    others: list[os.DirEntry[str]] = []
    complete = True
    with os.scandir(folder) as it:
        for item in it:
            if is_hidden(item.name):
                continue
            # d_type answers is_symlink without a system call: the common case first.
            if item.is_symlink():
                try:
                    pairs.append((item.name, os.readlink(item.path)))
                    continue
                except OSError:
                    pass  # vanished since the folder was listed
            else:
                others.append(item)
            complete = False
    pairs.sort()  # by name: names are unique, so targets are never compared
    return pairs, others, complete


def batch_listings(batch_folders: Sequence[str]) -> dict[str, Listing]:
    """The listing of every dataset folder of these batches that holds only symlinks (what
    the link cache keeps), read in a worker process: the scan then takes them as it takes
    cached ones, after checking each folder's stamp."""
    out: dict[str, Listing] = {}
    for batch in batch_folders:
        folders: list[str] = []  # none when the batch is not a readable folder: the scan says why
        if not is_real_dir(batch):
            continue  # a file, or a symlink: never followed
        with contextlib.suppress(OSError), os.scandir(batch) as it:
            folders = [e.path for e in it if not is_hidden(e.name) and entry_kind(e) == "folder"]
        for folder in folders:
            seen = stamp(folder)
            with contextlib.suppress(OSError):
                pairs, _, complete = read_symlinks(folder)
                if complete and seen is not None:
                    out[folder] = (seen, tuple(pairs))
    return out


def holds_a_folder(path: str) -> bool:
    """Whether a folder holds a visible real folder: found with the first one, not a listing."""
    try:
        with os.scandir(path) as it:
            return any(not is_hidden(e.name) and entry_kind(e) == "folder" for e in it)
    except OSError:
        return False


def pointer(entry: os.DirEntry[str]) -> str | None:
    """The path a small text file holds, as git writes a symlink without symlink support."""
    if entry_kind(entry) != "file":
        return None
    try:
        if entry.stat(follow_symlinks=False).st_size > POINTER_FILE_MAX:
            return None
        with open(entry.path, "rb") as handle:
            raw = handle.read(POINTER_FILE_MAX + 1)
        text = raw.decode("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not text or "\n" in text or "\0" in text or "/" not in text:
        return None
    return text
