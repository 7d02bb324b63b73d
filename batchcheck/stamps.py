"""Did this folder change? Stat stamps and experiment signatures, for the caches.

A stamp is what a stat says of a file or folder (mtime, ctime, inode, size, mode); an
experiment's signature packs the stamps of its folder, its metadata file and its data folder.
When all of them match an earlier read, that read still holds: an edit moves the ctime even
when an editor restores the mtime. The stamps themselves are taken by the scan's read layer
(``scan.beneath``), from the very calls that read: this module only packs and compares them.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass

# (mtime_ns, ctime_ns, inode, size, mode): what a change moves.
Stamp = tuple[int, int, int, int, int]

# The stamps of the experiment folder, its metadata file and its data folder, packed: 100k of
# them take 15 MB instead of 80 MB of tuples of large ints.
Signature = bytes
_PART = struct.Struct("<?qqQqq")  # present, then mtime_ns, ctime_ns, inode, size, mode
_ABSENT = _PART.pack(False, 0, 0, 0, 0, 0)
STAMP_CHUNK = 5000

# A folder or file below the root (its path parts) and its stamp when the scan read it (None:
# nothing there): what a cached check result is held against besides the experiments.
TreeStamp = tuple[tuple[str, ...], "Stamp | None"]


def signature(parts: Sequence[Stamp | None]) -> Signature:
    """The signature of an experiment from the stamps of its folder, metadata file and data
    folder (None for one that is not there)."""
    return b"".join(_PART.pack(True, *part) if part else _ABSENT for part in parts)


def packed(st: os.stat_result | None) -> bytes:
    """One part of a signature straight from a stat result (None: nothing there): what
    :func:`signature` makes of its stamp, without the tuple (100k experiments, three each)."""
    if st is None:
        return _ABSENT
    return _PART.pack(True, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_size, st.st_mode)


def signature_times(sig: Signature) -> list[tuple[int, int]]:
    """(mtime_ns, ctime_ns) of each part of ``sig`` that exists: how recently it changed."""
    return [(mtime, ctime) for present, mtime, ctime, *_ in _PART.iter_unpack(sig) if present]


def stamps_digest(signatures: Sequence[Signature | None]) -> str:
    """One digest for the signatures of a run of experiments, in order (a signature is
    ``_PART`` sized parts that start with a true byte, a missing one a single false byte)."""
    digest = hashlib.md5(usedforsecurity=False)
    for sig in signatures:
        digest.update(sig if sig is not None else b"\0")
    return digest.hexdigest()


# The experiments of one dataset folder, in scan order: (dataset, names).
Run = tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class Stamps:
    """What a cached check result is held against: the stamps of every folder the scan read
    outside experiments (``tree``), the experiments in scan order as runs of one dataset each,
    a digest of their signatures per ``STAMP_CHUNK`` of a run (``chunks`` says which), and the
    newest time any of them changed (kept instead of 100k signatures, which nothing else
    needs)."""

    tree: tuple[TreeStamp, ...]
    runs: tuple[Run, ...]
    digests: tuple[str, ...]
    newest_ns: int

    def chunks(self) -> list[tuple[int, int, int]]:
        """(run, start, end) of each digested chunk, in the order of ``digests``."""
        return [
            (i, start, min(start + STAMP_CHUNK, len(names)))
            for i, (_, names) in enumerate(self.runs)
            for start in range(0, len(names), STAMP_CHUNK)
        ]

    @classmethod
    def of(
        cls,
        tree: Sequence[TreeStamp],
        experiments: Sequence[tuple[str, str]],
        signatures: Sequence[Signature | None],
    ) -> Stamps | None:
        """The summary of a scan's stamps (``experiments`` as ``(dataset, name)``, grouped by
        dataset); None when an experiment could not be stamped."""
        if any(sig is None for sig in signatures) or len(signatures) != len(experiments):
            return None
        runs: list[tuple[str, list[str]]] = []
        for dataset, name in experiments:
            if not runs or runs[-1][0] != dataset:
                runs.append((dataset, []))
            runs[-1][1].append(name)
        made = cls(tuple(tree), tuple((d, tuple(n)) for d, n in runs), (), 0)
        by_run, at = [], 0
        for _, names in made.runs:
            by_run.append(signatures[at : at + len(names)])
            at += len(names)
        digests = [stamps_digest(by_run[i][start:end]) for i, start, end in made.chunks()]
        times = [t for sig in signatures if sig is not None for t in signature_times(sig)]
        times += [(seen[0], seen[1]) for _, seen in tree if seen is not None]
        newest = max((max(t) for t in times), default=0)
        return cls(made.tree, made.runs, tuple(digests), newest)
