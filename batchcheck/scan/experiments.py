"""Reading shared experiment folders beneath the root: one at a time, on the I/O threads, or in
worker processes.

Most of a full scan is spent here (list the folder, read and parse the metadata, judge it,
look into the training data folder), and every experiment is independent of the others. On a
filesystem that makes each call wait, the reads run on the flow's threads, many in flight
(``scan.flow``); on a local disk, where parsing and judging is the cost, a large store is read
in chunks by forked worker processes while the main process reads the batches. A cache of
earlier reads (``scan.cache``) lets an unchanged experiment be taken from the stamps of its
folder, metadata file and data folder instead; a changed one is read afresh, and the read's own
calls give its new stamps.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from batchcheck.forking import PARALLEL_MIN, fork_pool
from batchcheck.layout import METADATA_FILE, SHARED
from batchcheck.metadata import DEFAULT_JUDGE, Judge, Metadata, read_open_metadata
from batchcheck.model import DataState
from batchcheck.names import is_hidden
from batchcheck.scan.beneath import (
    FILE,
    FILE_KIND,
    FOLDER,
    FOLDER_KIND,
    HANDLE,
    MISSING,
    SYMLINK,
    VANISHED,
    Beneath,
    Stamp,
    entry_kind,
    is_name,
    kind_at,
    listing,
    open_folder,
    readlink_at,
    stamp_at,
    stamp_of,
)
from batchcheck.scan.flow import Flow, interleave
from batchcheck.stamps import Signature, packed, signature

if TYPE_CHECKING:
    from concurrent.futures import Future

CHUNK = 1000  # experiments per task of a worker process
UNLISTED = "unlisted"  # the kind of an entry of a folder that was not listed
THREAD_CHUNK = 4  # experiments per task of an I/O thread


@dataclass(frozen=True)
class ReadOptions:
    """What to read of each experiment (picklable: it travels to the workers)."""

    metadata: bool = True
    data: bool = True
    max_metadata_bytes: int = 1024 * 1024
    judge: Judge = DEFAULT_JUDGE
    sizes: bool = False  # measure each folder (tree_size) while its entries are at hand
    # List each experiment folder for the symlinks in it (check reports them, BC102). Without
    # it (nor sizes) the metadata file and data folder are opened by name: no listing at all.
    symlinks: bool = True

    @property
    def lists(self) -> bool:
        """Whether an experiment folder is listed (else only what is needed is opened)."""
        return self.symlinks or self.sizes


@dataclass(frozen=True, slots=True)
class ExperimentRead:
    """What one experiment folder held: metadata, data folder state, symlinks inside it."""

    metadata: Metadata
    data: DataState
    symlinks: tuple[tuple[str, str], ...] = ()  # (name in the folder, target), never followed
    folders: int = 0  # folders listed to find this out
    signature: Signature | None = None  # None: not to be cached (unreadable, not stamped)
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
        return cls(Metadata(*meta), _DATA_STATES[data], symlinks, folders, sig, *size)


# DataState by value: a dict lookup, where calling the enum costs 10 us (100k reads unpacked).
_DATA_STATES = {state.value: state for state in DataState}


def _data_state(
    fd: int, dataset: str, kind: str, stamped: bool
) -> tuple[DataState, int, Stamp | None]:
    """The training data folder, from the kind the experiment folder's listing gave (UNLISTED:
    found out by opening it): its state, folders listed, and its stamp."""
    if kind == MISSING:
        return DataState.MISSING, 0, None
    if kind not in (FOLDER_KIND, UNLISTED):
        seen = stamp_at(fd, dataset) if stamped else None
        state = {SYMLINK: DataState.SYMLINK, VANISHED: DataState.MISSING}.get(
            kind, DataState.NOT_DIR
        )
        return state, 0, seen
    try:
        data = open_folder(fd, dataset)
    except FileNotFoundError:
        return DataState.MISSING, 0, None
    except OSError:
        actual = kind_at(fd, dataset)
        if actual not in (FOLDER_KIND, MISSING):
            return _data_state(fd, dataset, actual, stamped)
        return DataState.UNREADABLE, 0, stamp_at(fd, dataset) if stamped else None
    try:
        seen = stamp_of(os.fstat(data)) if stamped else None
        with os.scandir(data) as it:
            has_any = any(not is_hidden(e.name) for e in it)
    except OSError:
        return DataState.UNREADABLE, 0, None
    finally:
        os.close(data)
    return (DataState.OK if has_any else DataState.EMPTY), 1, seen


def _metadata(
    fd: int, kind: str, options: ReadOptions, stamped: bool
) -> tuple[Metadata, Stamp | None]:
    """The metadata file, from the kind its folder's listing gave (only a regular file is
    opened, never through a symlink, and a FIFO never blocks), with its stamp."""
    if options.metadata and kind in (FILE_KIND, UNLISTED):
        try:
            handle = os.open(METADATA_FILE, FILE, dir_fd=fd)
        except FileNotFoundError:
            return Metadata.failed("missing", f"{METADATA_FILE} is missing"), None
        except OSError as exc:
            actual = kind_at(fd, METADATA_FILE)
            if actual != FILE_KIND:  # a symlink (ELOOP), a socket (ENXIO)...: say what it is
                return _metadata(fd, actual, options, stamped)
            reason = f"cannot read {METADATA_FILE}: {exc.strerror}"
            return Metadata.failed("unreadable", reason), stamp_at(fd, METADATA_FILE)
        limit = options.max_metadata_bytes
        meta, st = read_open_metadata(handle, METADATA_FILE, limit, options.judge)
        return meta, stamp_of(st) if st is not None else None
    seen = stamp_at(fd, METADATA_FILE) if stamped and kind != MISSING else None
    if kind == UNLISTED:  # metadata not read: only its stamp was wanted
        return Metadata.failed("unread", ""), seen
    if not options.metadata:
        return Metadata.failed("unread", ""), seen
    if kind == SYMLINK:
        return Metadata.failed("unreadable", f"{METADATA_FILE} is a symlink (not followed)"), seen
    if kind in (MISSING, VANISHED):
        return Metadata.failed("missing", f"{METADATA_FILE} is missing"), seen
    return Metadata.failed("unreadable", f"{METADATA_FILE} is not a regular file"), seen


def _unreadable(exc: OSError) -> ExperimentRead:
    reason = f"cannot read the experiment folder: {exc.strerror or type(exc).__name__}"
    return ExperimentRead(Metadata.failed("unreadable", reason), DataState.UNCHECKED)


def read_at(
    parent: int, dataset: str, name: str, options: ReadOptions, stamped: bool = False
) -> ExperimentRead:
    """Read the experiment folder ``name`` of the folder ``parent`` (a descriptor of
    ``_shared/<dataset>``); problems come back as states, never as exceptions.

    ``stamped``: take the stamps of the folder, its metadata file and its data folder from the
    calls that read them (for the cache), each before what it stamps is read.
    """
    try:
        fd = open_folder(parent, name, FOLDER if options.lists else HANDLE)
    except OSError as exc:
        return _unreadable(exc)
    return read_open(fd, dataset, options, stamped)


def read_open(fd: int, dataset: str, options: ReadOptions, stamped: bool = False) -> ExperimentRead:
    """:func:`read_at` of an experiment folder already opened as ``fd`` (closed here): a
    handle will do when ``options.lists`` is false."""
    try:
        own = stamp_of(os.fstat(fd)) if stamped else None
        unknown = MISSING if options.lists else UNLISTED
        kinds = {METADATA_FILE: unknown, dataset: unknown}
        names: list[str] = []  # the symlinks in it, by name
        everything: list[tuple[str, str]] = []  # every entry, hidden too (for its size)
        if options.lists:
            try:
                _list_experiment(fd, kinds, names, everything if options.sizes else None)
            except OSError as exc:
                return _unreadable(exc)
        symlinks = []
        for entry in names:
            try:
                symlinks.append((entry, readlink_at(fd, entry)))
            except OSError:
                continue  # vanished since the folder was listed
        meta, meta_stamp = _metadata(fd, kinds[METADATA_FILE], options, stamped)
        data, folders, data_stamp = DataState.UNCHECKED, int(options.lists), None
        if options.data:
            data, listed, data_stamp = _data_state(fd, dataset, kinds[dataset], stamped)
            folders += listed
        elif stamped:
            data_stamp = stamp_at(fd, dataset)
        size = _folder_size(fd, everything, meta) if options.sizes else None
    finally:
        os.close(fd)
    sig = signature((own, meta_stamp, data_stamp)) if stamped else None
    return ExperimentRead(meta, data, tuple(symlinks), folders, sig, size)


def _list_experiment(
    fd: int,
    kinds: dict[str, str],
    symlinks: list[str],
    everything: list[tuple[str, str]] | None,
) -> None:
    """One pass over an experiment folder: the kinds of the names in ``kinds`` (its metadata
    file and data folder), the names of its visible symlinks, and, when asked, every entry."""
    with os.scandir(fd) as it:
        for entry in it:
            name, kind = entry.name, entry_kind(entry)
            if name in kinds:
                kinds[name] = kind
            elif kind == SYMLINK and not is_hidden(name):
                symlinks.append(name)
            if everything is not None:
                everything.append((name, kind))
            if kind == SYMLINK and name in kinds:
                symlinks.append(name)  # reported as a symlink in _shared too (BC102)


def signature_at(parent: int, dataset: str, name: str) -> Signature | None:
    """The stamps of an experiment as :func:`read_at` takes them, without reading it: the
    folder opened only as a handle (no listing), its metadata file and data folder stat'ed in
    it; None when it is not a folder any more. A warm check makes this call 100k times: it
    packs the stat results straight away."""
    if not (is_name(name) and is_name(dataset)):
        return None
    try:
        fd = os.open(name, HANDLE, dir_fd=parent)
    except OSError:
        return None
    try:
        return packed(os.fstat(fd)) + _packed_at(fd, METADATA_FILE) + _packed_at(fd, dataset)
    except OSError:
        return None
    finally:
        os.close(fd)


def _packed_at(fd: int, name: str) -> bytes:
    try:
        return packed(os.stat(name, dir_fd=fd, follow_symlinks=False))
    except OSError:
        return packed(None)


def read_experiment(
    folder: str | os.PathLike[str], dataset: str, options: ReadOptions, stamped: bool = False
) -> ExperimentRead:
    """:func:`read_at` of the experiment folder at a path (its last part never followed)."""
    parent, name = os.path.split(os.fspath(folder))
    fd = os.open(parent or ".", FOLDER & ~os.O_NOFOLLOW)
    try:
        return read_at(fd, dataset, name, options, stamped)
    finally:
        os.close(fd)


def tree_size_at(parent: int, name: str) -> tuple[int, bool]:
    """Bytes of the regular files under folder ``name`` of ``parent`` (lstat beneath it, never
    following a link), and whether every folder could be read."""
    try:
        top = open_folder(parent, name)
    except OSError:
        return 0, False
    total, complete = 0, True
    # Depth first, a descriptor per level: (folder, its subfolders still to measure).
    stack: list[tuple[int, list[str]]] = []
    fd: int | None = top
    while fd is not None:
        subfolders: list[str] = []
        try:
            for entry, kind in listing(fd, hidden=True):
                if kind == FOLDER_KIND:
                    subfolders.append(entry)
                elif kind == FILE_KIND:
                    total += os.stat(entry, dir_fd=fd, follow_symlinks=False).st_size
                elif kind == VANISHED:
                    complete = False
        except OSError:
            complete = False
        stack.append((fd, subfolders))
        fd = None
        while stack and fd is None:
            folder, left = stack[-1]
            if not left:
                os.close(folder)
                stack.pop()
                continue
            try:
                fd = open_folder(folder, left.pop())
            except OSError:
                complete = False
    return total, complete


def tree_size(path: str | os.PathLike[str]) -> tuple[int, bool]:
    """:func:`tree_size_at` of the folder at a path (its last part never followed)."""
    parent, name = os.path.split(os.fspath(path).rstrip(os.sep))
    try:
        fd = os.open(parent or ".", FOLDER & ~os.O_NOFOLLOW)
    except OSError:
        return 0, False
    try:
        return tree_size_at(fd, name)
    finally:
        os.close(fd)


def _folder_size(fd: int, listed: Sequence[tuple[str, str]], meta: Metadata) -> tuple[int, bool]:
    """:func:`tree_size` of an experiment folder from its listing, the metadata file's size
    taken from its read."""
    total, complete = 0, True
    for entry, kind in listed:
        try:
            if kind == FOLDER_KIND:
                size, whole = tree_size_at(fd, entry)
                total, complete = total + size, complete and whole
            elif kind == FILE_KIND:
                known = entry == METADATA_FILE and meta.size >= 0
                total += (
                    meta.size if known else os.stat(entry, dir_fd=fd, follow_symlinks=False).st_size
                )
            elif kind == VANISHED:
                complete = False
        except OSError:
            complete = False
    return total, complete


Job = tuple[str, str]  # (dataset, experiment name)
Cached = dict[str, ExperimentRead]  # by "dataset/name"
# What a chunk sends back: (index in the chunk, fresh read) for each experiment that changed.
Fresh = list[tuple[int, ExperimentRead]]


def cache_key(job: Job) -> str:
    """How the scan cache names an experiment: ``dataset/name`` (names hold no slash)."""
    return f"{job[0]}/{job[1]}"


def read_job(
    layer: Beneath, options: ReadOptions, cached: Cached | None, job: Job
) -> ExperimentRead | None:
    """One experiment: None when its cached read still holds, else read afresh (stamped when
    a cache is kept)."""
    dataset, name = job
    try:
        with layer.folder((SHARED, dataset)) as parent:
            if cached is None:
                return read_at(parent, dataset, name, options)
            earlier = cached.get(cache_key(job))
            if earlier is not None and earlier.signature == signature_at(parent, dataset, name):
                return None
            return read_at(parent, dataset, name, options, stamped=True)
    except OSError as exc:  # _shared/<dataset> is gone, or was swapped for a symlink
        return _unreadable(exc)


def _read_chunk(
    layer: Beneath, jobs: Sequence[Job], options: ReadOptions, cached: Cached | None
) -> Fresh:
    """Read the experiments of ``jobs`` that ``cached`` (None: no cache) cannot vouch for."""
    out = []
    for i, job in enumerate(jobs):
        read = read_job(layer, options, cached, job)
        if read is not None:
            out.append((i, read))
    return out


# Set before the fork, so workers inherit them without pickling (and share the descriptors).
_CACHED: Cached | None = None
_LAYER: Beneath | None = None

Packed = list[tuple[int, tuple[Any, ...]]]


def _worker_chunk(jobs: Sequence[Job], options: ReadOptions) -> Packed:
    # Plain tuples pickle in half the time of the dataclasses they stand for.
    assert _LAYER is not None
    return [(i, read.pack()) for i, read in _read_chunk(_LAYER, jobs, options, _CACHED)]


def _report(done: Callable[[int], None], count: int, future: Future[Packed]) -> None:
    if not future.cancelled():  # a cancelled chunk is read, and reported, by the main process
        done(count)


class Reads:
    """Experiments being read, in order; ``results()`` waits for them.

    Threaded (a filesystem that makes calls wait): ``results()`` reads them on the flow's
    threads, interleaved across datasets. Otherwise, from ``PARALLEL_MIN`` experiments, worker
    processes start on chunks at once and send back only what changed since the cache; when the
    caller is done with its own work (the batches) and waits, it reads the chunks no worker has
    started yet itself, from the end, so no core idles while work is left.
    """

    def __init__(
        self,
        layer: Beneath,
        jobs: Sequence[Job],
        options: ReadOptions,
        cached: Cached | None,
        flow: Flow,
        workers: int,
        done: Callable[[int], None],
    ) -> None:
        self.layer = layer
        self.jobs = jobs
        self.options = options
        self.cached = cached
        self.flow = flow
        self.done = done
        self.futures: list[Future[Packed]] = []
        self.pool = None
        if not flow.threaded and workers > 1 and len(jobs) >= PARALLEL_MIN:
            self.pool = fork_pool(workers)
        if self.pool is not None:
            global _CACHED, _LAYER
            _CACHED, _LAYER = cached, layer
            for start in range(0, len(jobs), CHUNK):
                chunk = jobs[start : start + CHUNK]
                future = self.pool.submit(_worker_chunk, chunk, options)
                future.add_done_callback(partial(_report, done, len(chunk)))
                self.futures.append(future)

    def _threaded(self) -> Iterator[tuple[int, Fresh]]:
        """Chunks of a few experiments each, interleaved across datasets, on the threads."""
        by_dataset: dict[str, list[int]] = {}
        for i, (dataset, _) in enumerate(self.jobs):
            by_dataset.setdefault(dataset, []).append(i)
        order = interleave(by_dataset.values())
        chunks = [order[i : i + THREAD_CHUNK] for i in range(0, len(order), THREAD_CHUNK)]

        def work(chunk: list[int]) -> tuple[Fresh, Sequence[list[int]]]:
            reads = [read_job(self.layer, self.options, self.cached, self.jobs[i]) for i in chunk]
            return [(i, r) for i, r in zip(chunk, reads, strict=True) if r is not None], ()

        for chunk, fresh in self.flow.run(chunks, work):
            self.done(len(chunk))
            yield 0, fresh

    def _chunks(self) -> Iterator[tuple[int, Fresh]]:
        if self.flow.threaded:
            yield from self._threaded()
            return
        if self.pool is None:
            for start in range(0, len(self.jobs), CHUNK):
                chunk = self.jobs[start : start + CHUNK]
                yield start, _read_chunk(self.layer, chunk, self.options, self.cached)
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
            taken[n] = _read_chunk(self.layer, chunk, self.options, self.cached)
            self.done(len(chunk))
        return taken

    def results(self) -> list[ExperimentRead]:
        """Every read, in the order of the jobs: fresh ones, else the cached one."""
        cached = self.cached or {}
        out: list[ExperimentRead | None] = [cached.get(cache_key(job)) for job in self.jobs]
        for start, fresh in self._chunks():
            for i, read in fresh:
                out[start + i] = read
        return [read for read in out if read is not None]
