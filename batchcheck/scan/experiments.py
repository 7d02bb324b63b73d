"""Reading shared experiment folders: one at a time, or many in worker processes.

Most of a full scan is spent here (list the folder, read and parse the metadata, judge it,
look at the training data folder), and every experiment is independent of the others, so a
large store is read in chunks by a pool of forked workers while the main process reads the
batches. A cache of earlier reads (``scan.cache``) lets unchanged experiments be taken from
three ``lstat`` calls instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from batchcheck.forking import PARALLEL_MIN, fork_pool
from batchcheck.layout import METADATA_FILE
from batchcheck.metadata import DEFAULT_JUDGE, Judge, Metadata, read_metadata
from batchcheck.model import DataState
from batchcheck.names import is_hidden
from batchcheck.scan.listing import entry_kind
from batchcheck.stamps import Signature, signature

if TYPE_CHECKING:
    from concurrent.futures import Future

CHUNK = 1000


@dataclass(frozen=True)
class ReadOptions:
    """What to read of each experiment (picklable: it travels to the workers)."""

    metadata: bool = True
    data: bool = True
    max_metadata_bytes: int = 1024 * 1024
    judge: Judge = DEFAULT_JUDGE
    sizes: bool = False  # measure each folder (tree_size) while its entries are at hand


@dataclass(frozen=True, slots=True)
class ExperimentRead:
    """What one experiment folder held: metadata, data folder state, symlinks inside it."""

    metadata: Metadata
    data: DataState
    symlinks: tuple[tuple[str, str], ...] = ()  # (path, target), never followed
    folders: int = 0  # folders listed to find this out
    signature: Signature | None = None  # None: not to be cached (unreadable, racy)
    # tree_size of the folder, when asked for. Never cached: a data file rewritten in place
    # changes no stamp of the signature.
    size: tuple[int, bool] | None = None

    def pack(self, size: bool = True) -> tuple[Any, ...]:
        """Plain data (for another process or, without the size, the cache file); ``unpack``
        reverses it."""
        m = self.metadata
        meta = (m.state, m.data, m.error, m.size, m.mtime_ns, m.violations, m.fingerprint)
        row = (meta, self.data.value, self.symlinks, self.folders, self.signature)
        return (*row, self.size) if size else row

    @classmethod
    def unpack(cls, row: tuple[Any, ...]) -> ExperimentRead:
        """The read that ``pack`` gave ``row`` for."""
        meta, data, symlinks, folders, sig, *size = row
        return cls(Metadata(*meta), DataState(data), symlinks, folders, sig, *size)


def _data_state(entry: os.DirEntry[str] | None) -> tuple[DataState, int]:
    if entry is None:
        return DataState.MISSING, 0
    kind = entry_kind(entry)
    if kind == "symlink":
        return DataState.SYMLINK, 0
    if kind != "folder":
        return (DataState.MISSING if kind == "vanished" else DataState.NOT_DIR), 0
    try:
        with os.scandir(entry.path) as it:
            has_any = any(not is_hidden(e.name) for e in it)
    except FileNotFoundError:
        return DataState.MISSING, 0
    except OSError:
        return DataState.UNREADABLE, 0
    return (DataState.OK if has_any else DataState.EMPTY), 1


def tree_size(path: str | os.PathLike[str]) -> tuple[int, bool]:
    """Bytes of the regular files under ``path`` (lstat, never following a link), and
    whether every folder could be read."""
    total, complete = 0, True
    pending = [os.fspath(path)]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError:
            complete = False
            continue
        for entry in entries:
            try:
                # The entry's type comes with the listing: only a file needs an lstat (its size).
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                complete = False
    return total, complete


def _folder_size(listed: Sequence[os.DirEntry[str]], meta: Metadata) -> tuple[int, bool]:
    """:func:`tree_size` of an experiment folder from its listing, the metadata file's size
    taken from its read."""
    total, complete = 0, True
    for entry in listed:
        try:
            if entry.is_dir(follow_symlinks=False):
                size, whole = tree_size(entry.path)
                total, complete = total + size, complete and whole
            elif entry.is_file(follow_symlinks=False):
                known = entry.name == METADATA_FILE and meta.size >= 0
                total += meta.size if known else entry.stat(follow_symlinks=False).st_size
        except OSError:
            complete = False
    return total, complete


def read_experiment(
    folder: str, dataset: str, options: ReadOptions, sig: Signature | None = None
) -> ExperimentRead:
    """Read one experiment folder; problems come back as states, never as exceptions.

    ``sig``, taken before the read, is kept with it for a cache (a change after it only makes
    the next run read again).
    """
    try:
        with os.scandir(folder) as it:
            everything = list(it)  # hidden entries too: they count in the folder's size
        entries = {e.name: e for e in everything if not is_hidden(e.name)}
    except OSError as exc:
        reason = f"cannot read the experiment folder: {exc.strerror or type(exc).__name__}"
        return ExperimentRead(Metadata.failed("unreadable", reason), DataState.UNCHECKED)
    symlinks = []
    for entry in entries.values():
        if entry.is_symlink():
            try:
                symlinks.append((entry.path, os.readlink(entry.path)))
            except OSError:
                continue  # vanished since the folder was listed
    meta_entry = entries.get(METADATA_FILE)
    meta_kind = entry_kind(meta_entry) if meta_entry is not None else "missing"
    if not options.metadata:
        meta = Metadata.failed("unread", "")
    elif meta_entry is not None and meta_kind == "file":
        meta = read_metadata(meta_entry.path, options.max_metadata_bytes, options.judge)
    elif meta_kind == "symlink":
        meta = Metadata.failed("unreadable", f"{METADATA_FILE} is a symlink (not followed)")
    elif meta_kind in ("missing", "vanished"):
        meta = Metadata.failed("missing", f"{METADATA_FILE} is missing")
    else:
        meta = Metadata.failed("unreadable", f"{METADATA_FILE} is not a regular file")
    folders = 1
    data = DataState.UNCHECKED
    if options.data:
        data, listed = _data_state(entries.get(dataset))
        folders += listed
    size = _folder_size(everything, meta) if options.sizes else None
    return ExperimentRead(meta, data, tuple(symlinks), folders, sig, size)


Job = tuple[str, str]  # (experiment folder, dataset)
Cached = dict[str, ExperimentRead]
# What a chunk sends back: (index in the chunk, fresh read) for each experiment that changed.
Fresh = list[tuple[int, ExperimentRead]]


def _read_chunk(jobs: Sequence[Job], options: ReadOptions, cached: Cached | None) -> Fresh:
    """Read the experiments of ``jobs`` that ``cached`` (None: no cache) cannot vouch for."""
    out = []
    for i, (folder, dataset) in enumerate(jobs):
        if cached is None:
            out.append((i, read_experiment(folder, dataset, options)))
            continue
        sig = signature(folder, dataset)
        earlier = cached.get(folder)
        if earlier is None or earlier.signature != sig:
            out.append((i, read_experiment(folder, dataset, options, sig)))
    return out


_CACHED: Cached | None = None  # set before the fork, so workers inherit it without pickling


Packed = list[tuple[int, tuple[Any, ...]]]


def _worker_chunk(jobs: Sequence[Job], options: ReadOptions) -> Packed:
    # Plain tuples pickle in half the time of the dataclasses they stand for.
    return [(i, read.pack()) for i, read in _read_chunk(jobs, options, _CACHED)]


def _report(done: Callable[[int], None], count: int, future: Future[Packed]) -> None:
    if not future.cancelled():  # a cancelled chunk is read, and reported, by the main process
        done(count)


class Reads:
    """Experiments being read, in order; ``results()`` waits for them.

    Workers send back only what changed since the cache, so an unchanged store costs three
    ``lstat`` calls an experiment and almost nothing to send between processes. When the
    caller is done with its own work (the batches) and waits, it reads the chunks no worker
    has started yet itself, from the end, so no core idles while work is left.
    """

    def __init__(
        self,
        jobs: Sequence[Job],
        options: ReadOptions,
        cached: Cached | None,
        workers: int,
        done: Callable[[int], None],
    ) -> None:
        self.jobs = jobs
        self.options = options
        self.cached = cached
        self.done = done
        self.futures: list[Future[Packed]] = []
        self.pool = fork_pool(workers) if workers > 1 and len(jobs) >= PARALLEL_MIN else None
        if self.pool is not None:
            global _CACHED
            _CACHED = cached
            for start in range(0, len(jobs), CHUNK):
                chunk = jobs[start : start + CHUNK]
                future = self.pool.submit(_worker_chunk, chunk, options)
                future.add_done_callback(partial(_report, done, len(chunk)))
                self.futures.append(future)

    def _chunks(self) -> Iterator[tuple[int, Fresh]]:
        if self.pool is None:
            for start in range(0, len(self.jobs), CHUNK):
                chunk = self.jobs[start : start + CHUNK]
                yield start, _read_chunk(chunk, self.options, self.cached)
                self.done(len(chunk))
            return
        try:
            taken = self._take_unstarted()
            for n, future in enumerate(self.futures):
                if n in taken:
                    yield n * CHUNK, taken[n]
                else:
                    rows = future.result()
                    yield n * CHUNK, [(i, ExperimentRead.unpack(row)) for i, row in rows]
        finally:
            self.pool.shutdown()

    def _take_unstarted(self) -> dict[int, Fresh]:
        """Read here, last first, every chunk whose future can still be cancelled."""
        taken: dict[int, Fresh] = {}
        for n in reversed(range(len(self.futures))):
            if not self.futures[n].cancel():
                break  # a worker has it, and every chunk before it
            chunk = self.jobs[n * CHUNK : (n + 1) * CHUNK]
            taken[n] = _read_chunk(chunk, self.options, self.cached)
            self.done(len(chunk))
        return taken

    def results(self) -> list[ExperimentRead]:
        """Every read, in the order of the jobs: fresh ones, else the cached one."""
        cached = self.cached or {}
        out: list[ExperimentRead | None] = [cached.get(folder) for folder, _ in self.jobs]
        for start, fresh in self._chunks():
            for i, read in fresh:
                out[start + i] = read
        return [read for read in out if read is not None]
