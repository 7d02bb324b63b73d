"""Did this folder change? Stat stamps and experiment signatures, for the caches.

A stamp is what ``lstat`` says of a path (mtime, ctime, inode, size, mode); an experiment's
signature packs the stamps of its folder, its metadata file and its data folder. When all of
them match an earlier read, that read still holds: an edit moves the ctime even when an editor
restores the mtime. The scan caches and the check-result cache build on these.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from batchcheck.forking import PARALLEL_MIN, fork_pool
from batchcheck.layout import METADATA_FILE

# The stamps of the experiment folder, its metadata file and its data folder, packed: 100k of
# them take 15 MB instead of 80 MB of tuples of large ints.
Signature = bytes
_PART = struct.Struct("<?qqQqq")  # present, then mtime_ns, ctime_ns, inode, size, mode
_ABSENT = _PART.pack(False, 0, 0, 0, 0, 0)
STAMP_CHUNK = 5000


def stamp(path: str) -> tuple[int, ...] | None:
    """(mtime_ns, ctime_ns, inode, size, mode) by lstat; None when there is nothing there."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_size, st.st_mode)


def signature(folder: str, dataset: str) -> Signature | None:
    """The stat stamps that say whether an experiment changed; None if the folder is gone."""
    own = stamp(folder)
    if own is None:
        return None
    parts = (own, stamp(os.path.join(folder, METADATA_FILE)), stamp(os.path.join(folder, dataset)))
    return b"".join(_PART.pack(True, *part) if part else _ABSENT for part in parts)


def signature_times(sig: Signature) -> list[tuple[int, int]]:
    """(mtime_ns, ctime_ns) of each part of ``sig`` that exists: how recently it changed."""
    return [(mtime, ctime) for present, mtime, ctime, *_ in _PART.iter_unpack(sig) if present]


@dataclass(frozen=True)
class Stamps:
    """What a cached check result is held against: the experiment folders in scan order, a
    digest of their signatures per ``STAMP_CHUNK`` of them, and the newest time any of them
    changed (kept instead of 100k signatures, which nothing else needs)."""

    folders: tuple[str, ...]
    digests: tuple[str, ...]
    newest_ns: int

    @classmethod
    def of(cls, folders: Sequence[str], signatures: Sequence[Signature | None]) -> Stamps | None:
        """The summary of a scan's signatures; None when an experiment was not stamped."""
        stamped = [sig for sig in signatures if sig is not None]
        if len(stamped) != len(folders):
            return None
        digests = [
            stamps_digest(stamped[i : i + STAMP_CHUNK]) for i in range(0, len(stamped), STAMP_CHUNK)
        ]
        newest = max((max(t) for sig in stamped for t in signature_times(sig)), default=0)
        return cls(tuple(folders), tuple(digests), newest)


def stamps_digest(signatures: Sequence[Signature | None]) -> str:
    """One digest for the signatures of a run of experiments, in order (a signature is
    ``_PART`` sized parts that start with a true byte, a missing one a single false byte)."""
    digest = hashlib.md5(usedforsecurity=False)
    for sig in signatures:
        digest.update(sig if sig is not None else b"\0")
    return digest.hexdigest()


def _digest_now(folders: Sequence[str]) -> str:
    return stamps_digest(
        [signature(folder, os.path.basename(os.path.dirname(folder))) for folder in folders]
    )


def all_unchanged(folders: Sequence[str], digests: Sequence[str], workers: int) -> bool:
    """Whether the experiments, taken ``STAMP_CHUNK`` at a time, still have the signatures
    whose digests are given (three lstat calls each; only digests travel between processes)."""
    chunks = [folders[i : i + STAMP_CHUNK] for i in range(0, len(folders), STAMP_CHUNK)]
    if len(chunks) != len(digests):
        return False
    pool = fork_pool(workers) if workers > 1 and len(folders) >= PARALLEL_MIN else None
    if pool is None:
        return all(_digest_now(c) == d for c, d in zip(chunks, digests, strict=True))
    with pool:
        return list(pool.map(_digest_now, chunks)) == list(digests)
