"""The scan caches: earlier experiment reads and batch folder listings, so a second scan of a
store is cheap.

Each entry is keyed by its folder and carries stat stamps (``batchcheck.stamps``); an entry is
used only when they all still match. Entries touched within ``RACY_NS`` of the scan are never
written, as git does for its index: a later edit in the same clock tick would otherwise go
unseen. The files are records (``batchcheck.records``), one per store and settings.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterable, Sequence
from itertools import chain
from pathlib import Path
from typing import Any, Generic, TypeVar

from batchcheck import __version__
from batchcheck.records import DAMAGED, FORMAT, digest, read_records, write_records
from batchcheck.scan.experiments import ExperimentRead, ReadOptions
from batchcheck.scan.listing import Listing
from batchcheck.stamps import signature_times

Entry = TypeVar("Entry")
ROWS_PER_RECORD = 5000
RACY_NS = 2_000_000_000


def cache_key(root: Path, options: ReadOptions) -> str:
    """What names a store's caches under one set of read options (and this version)."""
    judge = options.judge
    schema = b""
    if judge.schema is not None:
        with contextlib.suppress(OSError):
            schema = judge.schema.read_bytes()
    parts = [
        __version__,
        str(FORMAT),
        str(root),
        repr((options.metadata, options.data, options.max_metadata_bytes, options.symlinks)),
        repr((judge.fields, sorted(judge.keep) if judge.keep is not None else None)),
        hashlib.md5(schema, usedforsecurity=False).hexdigest(),
    ]
    return digest("\0".join(parts))


class _FolderCache(Generic[Entry]):
    """Entries by folder path, in a file of records: the format, then rows by the thousand.

    Loaded whole at the start of a scan and written back at its end, leaving out entries
    touched within ``RACY_NS`` of the scan (a same-tick edit could hide behind their stamps),
    and not rewritten at all when the scan used every loaded entry and nothing else.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.started_ns = time.time_ns()
        self.loaded: dict[str, Entry] = {}

    def _entry(self, row: Any) -> Entry:
        """The entry a stored row stands for; raises (a DAMAGED error) on a wrong shape."""
        raise NotImplementedError

    def _row(self, entry: Entry) -> Any:
        """What is stored for an entry: plain data for marshal."""
        raise NotImplementedError

    def _times(self, entry: Entry) -> Iterable[tuple[int, int]]:
        """(mtime_ns, ctime_ns) of what the entry vouches for; empty: never stored."""
        raise NotImplementedError

    def load(self) -> dict[str, Entry]:
        """Earlier entries by folder; empty when there is no usable cache file."""
        try:
            records = read_records(self.path)
            if next(records, None) != {"format": FORMAT}:
                return {}
            for rows in records:  # one record at a time: the file is never all in memory
                for folder, row in rows.items():
                    self.loaded[folder] = self._entry(row)
        except DAMAGED:
            self.loaded = {}  # missing, unreadable or damaged: read everything afresh
        return self.loaded

    def _settled(self, entry: Entry) -> bool:
        limit = self.started_ns - RACY_NS
        times = list(self._times(entry))
        return bool(times) and all(m < limit and c < limit for m, c in times)

    def save(self, entries: Sequence[tuple[str, Entry]]) -> None:
        """Write the entries that can be trusted next time; failure to write is not an error."""
        loaded = self.loaded
        if len(entries) == len(loaded) and all(loaded.get(f) is entry for f, entry in entries):
            return  # every entry came from the file, and none has gone: it says all of it
        settled = [(folder, entry) for folder, entry in entries if self._settled(entry)]
        chunks = (
            {folder: self._row(entry) for folder, entry in settled[i : i + ROWS_PER_RECORD]}
            for i in range(0, len(settled), ROWS_PER_RECORD)
        )
        write_records(self.path, chain([{"format": FORMAT}], chunks))


class ScanCache(_FolderCache[ExperimentRead]):
    """Earlier reads of one store's experiments under one set of read options."""

    def __init__(self, directory: Path, root: Path, options: ReadOptions) -> None:
        super().__init__(directory / f"{cache_key(root, options)}.marshal")

    def _entry(self, row: Any) -> ExperimentRead:
        return ExperimentRead.unpack(row)

    def _row(self, entry: ExperimentRead) -> Any:
        return entry.pack(size=False)

    def _times(self, entry: ExperimentRead) -> Iterable[tuple[int, int]]:
        # No signature (unreadable, racy when read): nothing vouches for the read.
        return signature_times(entry.signature) if entry.signature is not None else ()


def _is_listing(value: Any) -> bool:
    """A (stamp, ((name, text), ...)) pair as ``LinkCache`` stores it (the file's checksum
    vouches for the rest)."""
    return type(value) is tuple and len(value) == 2 and type(value[0]) is type(value[1]) is tuple


class LinkCache(_FolderCache[Listing]):
    """Folder listings as last read, each with the folder's stamp: the symlinks of every batch
    dataset folder (``batch/dataset``: (name, target) pairs) and the entries of every dataset
    folder of ``_shared`` (``_shared/dataset``: (name, kind) pairs).

    Adding, removing or replacing an entry moves its folder's mtime and ctime, and a symlink's
    target cannot change in place, so an unchanged stamp vouches for the whole listing: one
    ``lstat`` instead of a listing (and a ``readlink`` per link). Only folders that the listing
    describes whole are kept: a batch dataset folder of nothing but symlinks, a dataset folder
    without symlinks (anything else is read afresh each time).
    """

    def __init__(self, directory: Path, root: Path) -> None:
        key = digest("\0".join((__version__, str(FORMAT), str(root))))
        super().__init__(directory / f"{key}.links.marshal")

    def _entry(self, row: Any) -> Listing:
        if not _is_listing(row):
            raise ValueError("not a listing")
        listing: Listing = row
        return listing

    def _row(self, entry: Listing) -> Any:
        return entry

    def _times(self, entry: Listing) -> Iterable[tuple[int, int]]:
        return [(entry[0][0], entry[0][1])]
