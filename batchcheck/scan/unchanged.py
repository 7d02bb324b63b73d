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
from pathlib import Path

from batchcheck.forking import PARALLEL_MIN, default_workers, fork_pool
from batchcheck.layout import SHARED
from batchcheck.scan.beneath import Beneath, Parts, Stamp, stamp_at, stamp_of
from batchcheck.scan.experiments import signature_at
from batchcheck.scan.flow import Flow, interleave
from batchcheck.scan.options import ScanOptions
from batchcheck.scan.scanner import open_layer
from batchcheck.stamps import STAMP_CHUNK, Signature, Stamps, TreeStamp, stamps_digest

Key = tuple[str, str]


def unchanged(root: Path, stamps: Stamps, options: ScanOptions) -> bool:
    """Whether every stamp in ``stamps`` still holds."""
    layer, flow = open_layer(root, options)
    with layer, flow:
        with contextlib.suppress(OSError, NotImplementedError):
            for dataset in dict.fromkeys(dataset for dataset, _ in stamps.experiments):
                layer.kept((SHARED, dataset))  # opened once, here; also settles the pace
        if not _tree_unchanged(layer, flow, stamps.tree):
            return False
        workers = options.workers or default_workers()
        return _experiments_unchanged(layer, flow, stamps, workers)


def _tree_unchanged(layer: Beneath, flow: Flow, tree: Sequence[TreeStamp]) -> bool:
    by_folder: dict[Parts, list[tuple[str, Stamp | None]]] = {}
    for parts, seen in tree:
        if not parts:
            if stamp_of(os.fstat(layer.fd)) != seen:
                return False
            continue
        by_folder.setdefault(parts[:-1], []).append((parts[-1], seen))

    def same(folder: Parts) -> bool:
        try:
            with layer.folder(folder) as fd:
                return all(stamp_at(fd, name) == seen for name, seen in by_folder[folder])
        except OSError:
            return all(seen is None for _, seen in by_folder[folder])

    return all(flow.map(same, list(by_folder)))


def _signatures(layer: Beneath, keys: Sequence[Key]) -> list[Signature | None]:
    out: list[Signature | None] = []
    for dataset, name in keys:
        try:
            with layer.folder((SHARED, dataset)) as parent:
                out.append(signature_at(parent, dataset, name))
        except OSError:
            out.append(None)
    return out


_LAYER: Beneath | None = None  # set before the fork: workers stamp through its descriptors


def _digest(keys: Sequence[Key]) -> str:
    assert _LAYER is not None
    return stamps_digest(_signatures(_LAYER, keys))


def _experiments_unchanged(layer: Beneath, flow: Flow, stamps: Stamps, workers: int) -> bool:
    keys = stamps.experiments
    chunks = [keys[i : i + STAMP_CHUNK] for i in range(0, len(keys), STAMP_CHUNK)]
    if len(chunks) != len(stamps.digests):
        return False
    if flow.threaded:
        # Small tasks, interleaved across datasets; the digests are taken in the end.
        by_dataset: dict[str, list[int]] = {}
        for i, (dataset, _) in enumerate(keys):
            by_dataset.setdefault(dataset, []).append(i)
        order = interleave(by_dataset.values())
        runs = [order[i : i + 8] for i in range(0, len(order), 8)]
        found: list[Signature | None] = [None] * len(keys)
        taken = flow.map(lambda run: _signatures(layer, [keys[i] for i in run]), runs)
        for run, sigs in zip(runs, taken, strict=True):
            for i, sig in zip(run, sigs, strict=True):
                found[i] = sig
        now = [stamps_digest(found[i : i + STAMP_CHUNK]) for i in range(0, len(found), STAMP_CHUNK)]
        return now == list(stamps.digests)
    pool = fork_pool(workers) if workers > 1 and len(keys) >= PARALLEL_MIN else None
    if pool is None:
        return all(
            stamps_digest(_signatures(layer, chunk)) == digest
            for chunk, digest in zip(chunks, stamps.digests, strict=True)
        )
    global _LAYER
    _LAYER = layer
    with pool:
        return list(pool.map(_digest, chunks)) == list(stamps.digests)
