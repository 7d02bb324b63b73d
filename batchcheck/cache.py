"""Caches of earlier experiment reads and check results, so a second scan of a store is cheap.

Each entry is keyed by the experiment folder and carries the stat stamps (mtime, ctime, inode,
size) of the folder, its metadata file and its data folder; an entry is used only when all of
them still match, so an edit is seen even when the editor restores the old mtime (the ctime
changes). Entries touched within ``RACY_NS`` of the scan are never written, as git does for
its index: a later edit in the same clock tick would otherwise go unseen.

The file lives under ``$BATCHCHECK_CACHE_DIR``, ``$XDG_CACHE_HOME/batchcheck`` or
``~/.cache/batchcheck``, one per store and settings, written with marshal (plain data only,
nothing executable) via a temporary file and a rename. It is safe to delete at any time.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain
from pathlib import Path
from typing import Any, Generic, TypeVar

from batchcheck import __version__
from batchcheck.experiments import (
    ExperimentRead,
    ReadOptions,
    all_unchanged,
    is_real_dir,
    signature_times,
    stamp,
)
from batchcheck.findings import CheckResult, Finding, Severity
from batchcheck.store import SHARED, Listing, Store

Entry = TypeVar("Entry")
# 2: signatures stamp the file mode too; 3: records marshalled one by one; 4: packed signatures
FORMAT = 4
ROWS_PER_RECORD = 5000
_LENGTH = 8  # bytes of the length before each record
RACY_NS = 2_000_000_000
# What reading a missing, truncated or otherwise damaged cache file can raise.
DAMAGED = (OSError, EOFError, ValueError, TypeError, KeyError, AttributeError)


def default_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where caches go when ``--cache-dir`` is not given."""
    env = os.environ if env is None else env
    if env.get("BATCHCHECK_CACHE_DIR"):
        return Path(env["BATCHCHECK_CACHE_DIR"])
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "batchcheck"


def _digest(text: str) -> str:
    return hashlib.md5(text.encode("utf-8", "surrogateescape"), usedforsecurity=False).hexdigest()


def _write(path: Path, records: Iterable[Any]) -> None:
    """Write atomically (temp file + rename); failing to write only costs speed next time.

    Each record is marshalled on its own behind its length, so only one is held as bytes at a
    time; the MD5 of everything after it goes first.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            digest = hashlib.md5(usedforsecurity=False)
            with os.fdopen(fd, "wb") as handle:
                handle.write(bytes(digest.digest_size))
                for record in records:
                    blob = marshal.dumps(record)
                    for part in (len(blob).to_bytes(_LENGTH, "little"), blob):
                        digest.update(part)
                        handle.write(part)
                handle.seek(0)
                handle.write(digest.digest())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except (OSError, ValueError):
        return


def _records(path: Path) -> Iterator[Any]:
    """The records ``_write`` wrote, one at a time.

    The checksum can only be judged at the end: past the last record a mismatch raises
    ValueError, so a caller trusts what it built from them only once the iteration is complete.
    """
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        left = os.fstat(handle.fileno()).st_size
        expected = handle.read(digest.digest_size)
        while head := handle.read(_LENGTH):
            size = int.from_bytes(head, "little")
            left -= len(head)
            if len(head) != _LENGTH or size > left:
                raise ValueError("truncated")  # or a damaged length: never read past the end
            blob = handle.read(size)
            left -= size
            digest.update(head)
            digest.update(blob)
            yield marshal.loads(blob)
    if digest.digest() != expected:
        raise ValueError("checksum mismatch")


def _key(root: Path, options: ReadOptions) -> str:
    judge = options.judge
    schema = b""
    if judge.schema is not None:
        with contextlib.suppress(OSError):
            schema = judge.schema.read_bytes()
    parts = [
        __version__,
        str(FORMAT),
        str(root),
        repr((options.metadata, options.data, options.max_metadata_bytes)),
        repr((judge.fields, sorted(judge.keep) if judge.keep is not None else None)),
        hashlib.md5(schema, usedforsecurity=False).hexdigest(),
    ]
    return _digest("\0".join(parts))


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
            records = _records(self.path)
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
        _write(self.path, chain([{"format": FORMAT}], chunks))


class ScanCache(_FolderCache[ExperimentRead]):
    """Earlier reads of one store's experiments under one set of read options."""

    def __init__(self, directory: Path, root: Path, options: ReadOptions) -> None:
        super().__init__(directory / f"{_key(root, options)}.marshal")

    def _entry(self, row: Any) -> ExperimentRead:
        return ExperimentRead.unpack(row)

    def _row(self, entry: ExperimentRead) -> Any:
        return entry.pack(size=False)

    def _times(self, entry: ExperimentRead) -> Iterable[tuple[int, int]]:
        # No signature (unreadable, racy when read): nothing vouches for the read.
        return signature_times(entry.signature) if entry.signature is not None else ()


def _is_listing(value: Any) -> bool:
    """A (stamp, ((name, target), ...)) pair as ``LinkCache`` stores it."""
    if type(value) is not tuple or len(value) != 2:
        return False
    seen, pairs = value
    return (
        type(seen) is tuple
        and type(pairs) is tuple
        and all(type(p) is tuple and len(p) == 2 and type(p[0]) is type(p[1]) is str for p in pairs)
    )


class LinkCache(_FolderCache[Listing]):
    """The symlinks of every batch dataset folder as last read, with the folder's stamp.

    Adding, removing or replacing an entry moves its folder's mtime and ctime, and a symlink's
    target cannot change in place, so an unchanged stamp vouches for the whole listing: one
    ``lstat`` instead of a listing and a ``readlink`` per link. Only folders that hold nothing
    but symlinks are kept (anything else is read afresh each time).
    """

    def __init__(self, directory: Path, root: Path) -> None:
        key = _digest("\0".join((__version__, str(FORMAT), str(root))))
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


def _tree(store: Store) -> list[str]:
    """The folders and files whose stamps change when anything a check looks at changes.

    A folder's mtime moves when an entry is added, removed or renamed in it; a changed link is
    a removed and re-added entry. Experiments carry their own signatures.
    """
    root = str(store.root)
    shared = os.path.join(root, SHARED)
    paths = [root, shared]
    # Every dataset folder, also one with no experiment yet (its first one moves only its mtime).
    if is_real_dir(shared):
        with contextlib.suppress(OSError), os.scandir(shared) as entries:
            paths.extend(entry.path for entry in entries)
    for batch in store.batches.values():
        paths.append(str(batch.path))
        paths.extend(os.path.join(batch.path, ds) for ds in batch.datasets)
        paths.extend(str(stray.path) for stray in batch.strays)
    paths.extend(str(problem.path) for problem in store.problems)
    return sorted(set(paths))


class ResultCache:
    """The result of the last full check of this store with these settings.

    Used only when every folder stamp of the tree and every experiment signature is unchanged
    (then nothing a rule reads can have changed); otherwise the check runs in full.
    """

    def __init__(self, directory: Path, root: Path, options: ReadOptions, settings: str) -> None:
        self.root = root
        self.path = directory / f"{_key(root, options)}-{_digest(settings)}.check.marshal"
        self.started_ns = time.time_ns()

    def lookup(self, workers: int) -> CheckResult | None:
        """The cached result if the store is exactly as it was, else None (also when the file
        is missing or damaged: every use of its content is inside the ``try``)."""
        try:
            [data] = _records(self.path)  # exactly one record, its checksum verified
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                return None
            if any(stamp(path) != seen for path, seen in data["tree"]):
                return None
            folders = data["folders"].split("\0") if data["folders"] else []
            if not all_unchanged(folders, data["digests"], workers):
                return None
            findings = tuple(
                Finding(Path(p), code, msg, Severity(sev), tuple(Path(r) for r in rel), line)
                for p, code, msg, sev, rel, line in data["findings"]
            )
            return CheckResult(findings, data["counts"])
        except DAMAGED:
            return None

    def save(self, store: Store, result: CheckResult) -> None:
        """Remember the result, unless part of the store changed too recently to trust."""
        limit = self.started_ns - RACY_NS
        tree = [(path, stamp(path)) for path in _tree(store)]
        stamps = store.stamps
        if stamps is None:
            return  # some experiment was not stamped (unreadable): always check in full
        newest = max((max(s[0], s[1]) for _, s in tree if s is not None), default=0)
        if max(newest, stamps.newest_ns) >= limit:
            return
        data = {
            "format": FORMAT,
            "tree": tree,
            "folders": "\0".join(stamps.folders),
            "digests": list(stamps.digests),
            "findings": [
                (
                    str(f.path),
                    f.code,
                    f.message,
                    f.severity.value,
                    tuple(str(r) for r in f.related),
                    f.line,
                )
                for f in result.findings
            ],
            "counts": dict(result.counts),
        }
        _write(self.path, [data])
