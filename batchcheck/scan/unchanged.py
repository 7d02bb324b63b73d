"""Is the store still as a scan stamped it? What the check-result cache asks before it answers.

The stamps are taken again beneath the root (``scan.beneath``), never following a symlink:
every folder the scan read outside experiments, one ``lstat`` each, grouped by the folder that
holds them; every experiment's signature (its folder opened as a handle, its metadata file and
data folder stat'ed in it). On a filesystem that makes calls wait they run on the flow's
threads; on a fast disk a large store's experiments are shared among worker processes, which
send back only a digest per ``STAMP_CHUNK`` of them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from batchcheck.forking import PARALLEL_MIN, default_workers, fork_pool
from batchcheck.layout import SHARED
from batchcheck.scan.beneath import Beneath, Parts, Stamp, stamp_at, stamp_of
from batchcheck.scan.experiments import THREAD_CHUNK, signature_at
from batchcheck.scan.flow import Flow, interleave
from batchcheck.scan.options import ScanOptions
from batchcheck.scan.scanner import open_layer
from batchcheck.stamps import Signature, Stamps, TreeStamp, stamps_digest


def unchanged(root: Path, stamps: Stamps, options: ScanOptions) -> bool:
    """Whether every stamp in ``stamps`` still holds."""
    layer, flow = open_layer(root, options)
    with layer, flow:
        with contextlib.suppress(OSError, NotImplementedError):
            for dataset, _ in stamps.runs:
                layer.kept((SHARED, dataset))  # opened once, here; also settles the pace
        tree = _by_folder(stamps.tree)
        top = tree.pop((), None)  # the root itself, stamped through its descriptor
        if top is not None and stamp_of(os.fstat(layer.fd)) != top[0][1]:
            return False
        if flow.threaded:  # every stamp in flight together
            return _all_unchanged(layer, flow, stamps, tree)
        if not all(flow.map(partial(_folder_unchanged, layer, tree), list(tree))):
            return False
        return _experiments_unchanged(layer, stamps, options.workers or default_workers())


Tree = dict[Parts, list[tuple[str, "Stamp | None"]]]  # by folder: (name, stamp) of what is in it


def _by_folder(tree: Sequence[TreeStamp]) -> Tree:
    by_folder: Tree = {}
    for parts, seen in tree:
        if parts:
            by_folder.setdefault(parts[:-1], []).append((parts[-1], seen))
        else:
            by_folder[()] = [("", seen)]
    return by_folder


def _folder_unchanged(layer: Beneath, tree: Tree, folder: Parts) -> bool:
    """Whether everything stamped in one folder still has its stamp (one lstat each)."""
    try:
        with layer.folder(folder) as fd:
            return all(stamp_at(fd, name) == seen for name, seen in tree[folder])
    except OSError:
        return all(seen is None for _, seen in tree[folder])


Chunk = tuple[int, int, int]  # (run, start, end): see Stamps.chunks


def _signatures(layer: Beneath, stamps: Stamps, chunk: Chunk) -> list[Signature | None]:
    """The signatures of a chunk of experiments as they are now."""
    run, start, end = chunk
    dataset, names = stamps.runs[run]
    try:
        with layer.folder((SHARED, dataset)) as parent:
            return [signature_at(parent, dataset, n) for n in names[start:end]]
    except OSError:  # the dataset folder is gone, or not a folder any more
        return [None] * (end - start)


def _all_unchanged(layer: Beneath, flow: Flow, stamps: Stamps, tree: Tree) -> bool:
    """The threaded check: the folders and small runs of experiments, interleaved across
    datasets (the kernel may serialise the first lookups of names within one folder), all on
    the flow at once; the digests are taken once every signature is in."""
    small = [
        [(run, at, min(at + THREAD_CHUNK, len(names))) for at in range(0, len(names), THREAD_CHUNK)]
        for run, (_, names) in enumerate(stamps.runs)
    ]
    folders, chunks = list(tree), interleave(small)
    jobs = [(True, i) for i in range(len(folders))] + [(False, i) for i in range(len(chunks))]
    found: list[list[Signature | None]] = [[None] * len(names) for _, names in stamps.runs]

    def work(job: tuple[bool, int]) -> bool | list[Signature | None]:
        folder, i = job
        if folder:
            return _folder_unchanged(layer, tree, folders[i])
        return _signatures(layer, stamps, chunks[i])

    for (folder, i), result in zip(jobs, flow.map(work, jobs), strict=True):
        if result is False:
            return False
        if not folder:
            run, start, end = chunks[i]
            found[run][start:end] = result  # type: ignore[assignment]
    now = [stamps_digest(found[run][start:end]) for run, start, end in stamps.chunks()]
    return now == list(stamps.digests)


# Set before the fork: workers stamp through its descriptors and read the names from it.
_SHARED_STATE: tuple[Beneath, Stamps] | None = None


def _worker_digest(chunk: Chunk) -> str:
    assert _SHARED_STATE is not None
    return stamps_digest(_signatures(*_SHARED_STATE, chunk))


def _experiments_unchanged(layer: Beneath, stamps: Stamps, workers: int) -> bool:
    """The check on a fast disk: a digest per chunk, in worker processes for a large store."""
    chunks = stamps.chunks()
    if len(chunks) != len(stamps.digests):
        return False
    experiments = sum(len(names) for _, names in stamps.runs)
    pool = fork_pool(workers) if workers > 1 and experiments >= PARALLEL_MIN else None
    if pool is None:
        return all(
            stamps_digest(_signatures(layer, stamps, chunk)) == digest
            for chunk, digest in zip(chunks, stamps.digests, strict=True)
        )
    global _SHARED_STATE
    _SHARED_STATE = (layer, stamps)
    with pool:
        return list(pool.map(_worker_digest, chunks)) == list(stamps.digests)
