"""The scanner: one read of a root into the model (``batchcheck.model``).

The scan reads only what it is asked for (one batch, the experiments some links name, or
everything) and records every problem it meets on the model instead of raising: rules and
listings decide what a problem means. Everything is read beneath the root (``scan.beneath``):
no symlink is ever followed, inside ``_shared`` or on the way to it. Links are judged by
``scan.links`` against what the listings say, experiments read by ``scan.experiments``,
earlier reads kept by ``scan.cache``. The I/O runs on the threads of a ``Flow`` when the
filesystem makes calls wait, else here and, for large stores, in worker processes.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from batchcheck.forking import default_workers, fork_pool
from batchcheck.layout import BATCH_PREFIX, SHARED
from batchcheck.model import (
    Batch,
    Experiment,
    Link,
    LinkState,
    Problem,
    SharedSymlink,
    Store,
    Stray,
)
from batchcheck.names import is_hidden
from batchcheck.scan.beneath import (
    FOLDER,
    FOLDER_KIND,
    HANDLE,
    MISSING,
    SYMLINK,
    Beneath,
    Pace,
    Parts,
    Stamp,
    is_name,
    kind_at,
    open_folder,
    readlink_at,
    stamp_at,
    stamp_of,
)
from batchcheck.scan.cache import LinkCache, ScanCache
from batchcheck.scan.experiments import (
    ExperimentRead,
    Job,
    Reads,
    cache_key,
    read_at,
    read_open,
)
from batchcheck.scan.flow import Flow, interleave
from batchcheck.scan.links import USUAL_PREFIX, judge, named, reason
from batchcheck.scan.listing import (
    FolderRead,
    Listing,
    read_batch,
    read_folder,
    read_kept,
    read_links,
    read_targets,
)
from batchcheck.scan.options import ScanOptions
from batchcheck.stamps import Stamps

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

    from batchcheck.progress import Progress

PREFETCH_MIN = 200  # batches from which listing them in worker processes pays (fast disks)
PREFETCH_CHUNK = 50

# (batch, None, ()): the batch folder; (batch, D, ()): its dataset folder D; (batch, D, names):
# the targets of those symlinks of D.
BatchTask = tuple[str, "str | None", tuple[str, ...]]
TARGETS = 4  # symlinks whose targets one task reads, on threads


def open_layer(root: Path, options: ScanOptions) -> tuple[Beneath, Flow]:
    """The read layer of ``root`` and the flow its I/O runs on: threaded once the first
    folder opens show that the filesystem makes calls wait (or when ``options.io`` says so)."""
    forced = {"threads": True, "inline": False}.get(options.io)
    layer = Beneath(root, Pace(forced))
    return layer, Flow(options.io_threads, lambda: layer.pace.slow)


@dataclass
class _Shared:
    """What the scan learned of ``_shared``: whether it is a real folder, its dataset
    folders' experiment folders, and the symlinks met in it."""

    ok: bool | None = None  # a real folder (None: not looked at yet)
    # Real experiment folders by dataset, from listing _shared/<dataset> (None: unreadable):
    # name -> its (dataset, name) key, one tuple that every link to it shares.
    listed: dict[str, dict[str, tuple[str, str]] | None] = field(default_factory=dict)
    datasets: list[str] = field(default_factory=list)  # those holding an experiment folder
    symlinks: list[SharedSymlink] = field(default_factory=list)
    noted: set[Path] = field(default_factory=set)  # symlinks noted by a lookup


class _Scanner:
    """Reads a store; one instance per scan, so that every folder is read once."""

    def __init__(
        self, layer: Beneath, flow: Flow, options: ScanOptions, progress: Progress | None
    ) -> None:
        self.layer = layer
        self.flow = flow
        self.root = layer.root
        self.root_str = str(layer.root)
        self.options = options
        self.progress = progress
        self.stamped = options.cache_dir is not None  # stamps taken for the caches
        self.experiments: dict[tuple[str, str], Experiment] = {}
        self.shared = _Shared()
        # The entries of the folders listed so far, by path below the root: what link walks
        # look up first. Hidden names are not in them.
        self.kinds: dict[Parts, dict[str, str]] = {}
        # The usual target text of each known experiment: ../../_shared/<dataset>/<name>.
        self.usual: dict[str, tuple[str, str]] = {}
        self.looked: dict[tuple[Parts, str], str] = {}  # other lookups, answered once
        self.problems: list[Problem] = []
        self.tree: dict[Parts, Stamp | None] = {}  # stamps of the folders read
        self.stats = {"folders": 0, "links": 0, "metadata": 0}
        # Batch dataset folders as last read (see cache.LinkCache), and as read now; None: the
        # scan keeps no such cache.
        self.listings_before: dict[str, Listing] = {}
        self.listings: dict[str, Listing] | None = None
        self.forks = False  # whether worker processes may list the batches (a fast disk)

    def path(self, parts: Parts) -> Path:
        """The absolute path of ``parts`` below the root (for the model and messages)."""
        return self.root.joinpath(*parts)

    def _listed(self, parts: Parts, read: FolderRead) -> None:
        """Note a folder's listing: its entries answer lookups, its stamp joins the tree."""
        if read.error is None:
            self.kinds[parts] = dict(read.entries)
            self.stats["folders"] += not read.cached
        if self.stamped:
            self.tree[parts] = read.stamp

    # -- the root and _shared --------------------------------------------------------------

    def list_root(self) -> list[str]:
        """List the root; return its ``batch_*`` entries (folders or not)."""
        read = read_folder(self.layer, (), self.stamped, targets=False)
        if read.error is not None:
            self.problems.append(Problem(self.root, read.error))
            return []
        self._listed((), read)
        return [name for name, _ in read.entries if name.startswith(BATCH_PREFIX)]

    def shared_ok(self) -> bool:
        """Whether ``_shared`` is a real folder (a symlink there is noted, never followed)."""
        if self.shared.ok is None:
            try:
                kind = self.lookup((), SHARED)
            except OSError as exc:
                self.problems.append(Problem(self.path((SHARED,)), f"cannot read: {reason(exc)}"))
                kind = MISSING
            if kind == SYMLINK:
                self._shared_symlink((), SHARED)
            self.shared.ok = kind == FOLDER_KIND
            if self.shared.ok:
                with contextlib.suppress(OSError, NotImplementedError):
                    self.layer.kept((SHARED,))
        return self.shared.ok

    def _shared_symlink(self, parts: Parts, name: str) -> None:
        """Note the symlink ``name`` of a folder of ``_shared`` (once), with its target."""
        path = self.path((*parts, name))
        if path in self.shared.noted:
            return
        self.shared.noted.add(path)
        with contextlib.suppress(OSError), self.layer.folder(parts) as fd:
            self.shared.symlinks.append(SharedSymlink(path, readlink_at(fd, name)))

    def list_shared(self) -> list[Job]:
        """List ``_shared`` and its dataset folders (on the flow); return the experiments to
        read (of ``options.datasets`` only, when given)."""
        if not self.shared_ok():
            return []
        read = read_folder(self.layer, (SHARED,), self.stamped)
        if read.error is not None:
            self.problems.append(Problem(self.path((SHARED,)), read.error))
            return []
        self._listed((SHARED,), read)
        self.shared.symlinks.extend(SharedSymlink(self.path((SHARED, n)), t) for n, t in read.pairs)
        datasets = [name for name, kind in read.entries if kind == FOLDER_KIND]
        wanted = self.options.datasets
        jobs: list[Job] = []
        before, stamped = self.listings_before, self.stamped or self.listings is not None
        reads = self.flow.map(
            lambda ds: read_kept(self.layer, (SHARED, ds), stamped, before.get(f"{SHARED}/{ds}")),
            datasets,
        )
        for dataset, found in zip(datasets, reads, strict=True):
            names = self._dataset(dataset, found)
            if names:
                self.shared.datasets.append(dataset)
                if wanted is None or dataset in wanted:
                    jobs.extend((dataset, name) for name in sorted(names))
        return jobs

    def _dataset(self, dataset: str, read: FolderRead) -> dict[str, tuple[str, str]] | None:
        """Take in the listing of ``_shared/dataset``: its real experiment folders by name."""
        parts = (SHARED, dataset)
        if read.error is not None:
            self.problems.append(Problem(self.path(parts), read.error))
            self.shared.listed[dataset] = None
            return None
        self._listed(parts, read)
        with contextlib.suppress(OSError, NotImplementedError):
            self.layer.kept(parts)  # experiments are read relative to it
        names = {}
        for name, kind in read.entries:
            if kind == FOLDER_KIND:
                key = (dataset, name)
                names[name] = key
                self.usual[f"{USUAL_PREFIX}{dataset}/{name}"] = key
        self.shared.symlinks.extend(SharedSymlink(self.path((*parts, n)), t) for n, t in read.pairs)
        self.shared.listed[dataset] = names
        self._keep(f"{SHARED}/{dataset}", read, read.entries, not read.pairs)
        return names

    def _keep(
        self, key: str, read: FolderRead, pairs: tuple[tuple[str, str], ...], whole: bool
    ) -> None:
        """Keep a folder's listing for the link cache (``whole``: it says all there is to
        know); the very entry loaded when it came from there, so an unchanged file is not
        rewritten."""
        if self.listings is not None and whole and read.error is None and read.stamp:
            earlier = self.listings_before.get(key) if read.cached else None
            self.listings[key] = earlier or (read.stamp, pairs)

    def lookup(self, parts: Parts, name: str) -> str:
        """What ``name`` is in the folder ``parts``: from a listing, else one lstat beneath the
        root (remembered, and the folder stamped for the caches)."""
        listed = self.kinds.get(parts)
        if listed is not None and not is_hidden(name):
            return listed.get(name, MISSING)
        key = (parts, name)
        kind = self.looked.get(key)
        if kind is None:
            if self.stamped and parts not in self.tree:
                self.tree[parts] = self._stamp(parts)
            kind = self.looked[key] = self.layer.lookup(parts, name)
        return kind

    def tree_stamps(self) -> list[tuple[Parts, Stamp | None]]:
        """The stamps of every folder read outside experiments, and of every path a problem
        names (the two changes a cached check result must see)."""
        for problem in self.problems:
            with contextlib.suppress(ValueError):
                parts = problem.path.relative_to(self.root).parts
                if parts not in self.tree:
                    self.tree[parts] = self._stamp(parts)
        return sorted(self.tree.items())

    def _stamp(self, parts: Parts) -> Stamp | None:
        if not parts:
            return stamp_of(os.fstat(self.layer.fd))
        try:
            with self.layer.folder(parts[:-1]) as fd:
                return stamp_at(fd, parts[-1])
        except OSError:
            return None

    # -- experiments named by links --------------------------------------------------------

    def prefetch(self, keys: Iterable[tuple[str, str]], read: bool) -> None:
        """Find out on the flow which ``_shared/<D>/<E>`` are real folders (reading them when
        ``read``), so that links to them are judged from that."""
        keys = list(dict.fromkeys(keys))
        if self.shared_ok() and (SHARED,) not in self.kinds:
            # Whether each dataset folder is a real one, all at once (they are few).
            unknown = [
                d for d in dict.fromkeys(k[0] for k in keys) if ((SHARED,), d) not in self.looked
            ]
            for dataset, kind in zip(unknown, self.flow.map(self._in_shared, unknown), strict=True):
                if kind is not None:
                    self.looked[((SHARED,), dataset)] = kind
        todo: dict[str, list[tuple[str, str]]] = {}
        for key in keys:
            known = ((SHARED, key[0]), key[1]) in self.looked or key in self.experiments
            if not known and (SHARED, key[0]) not in self.kinds and self._dataset_ok(key[0]):
                todo.setdefault(key[0], []).append(key)
        order = interleave(todo.values())
        work = self._read_linked if read else self._look_up
        for key, (kind, found) in zip(order, self.flow.map(work, order), strict=True):
            if kind is None:
                continue  # could not be looked at: the link's walk will say why
            self.looked[((SHARED, key[0]), key[1])] = kind
            if kind == FOLDER_KIND:
                self.usual[f"{USUAL_PREFIX}{key[0]}/{key[1]}"] = key
            if found is not None:
                self.add_reads([key], [found])

    def _dataset_ok(self, dataset: str) -> bool:
        """Whether ``_shared/dataset`` is a real folder (a symlink there is noted once)."""
        if not self.shared_ok():
            return False
        try:
            kind = self.lookup((SHARED,), dataset)
        except OSError:
            return False
        if kind == SYMLINK and (SHARED,) not in self.kinds:  # a listing noted it already
            self._shared_symlink((SHARED,), dataset)
        if kind == FOLDER_KIND:
            with contextlib.suppress(OSError, NotImplementedError):
                self.layer.kept((SHARED, dataset))  # experiments are read relative to it
        return kind == FOLDER_KIND

    def _in_shared(self, dataset: str) -> str | None:
        """What ``_shared/dataset`` is (None: it cannot be looked at)."""
        try:
            with self.layer.folder((SHARED,)) as fd:
                return kind_at(fd, dataset)
        except OSError:
            return None

    def _look_up(self, key: tuple[str, str]) -> tuple[str | None, ExperimentRead | None]:
        """What ``_shared/<D>/<E>`` is (None: it cannot be looked at)."""
        try:
            with self.layer.folder((SHARED, key[0])) as fd:
                return kind_at(fd, key[1]), None
        except OSError:
            return None, None

    def _read_linked(self, key: tuple[str, str]) -> tuple[str | None, ExperimentRead | None]:
        """What ``_shared/<D>/<E>`` is, and its read when it is a real folder."""
        dataset, name = key
        try:
            with self.layer.folder((SHARED, dataset)) as parent:
                try:
                    fd = open_folder(parent, name, FOLDER if self.options.read.lists else HANDLE)
                except OSError:
                    kind = kind_at(parent, name)
                    if kind != FOLDER_KIND:
                        return kind, None
                    return kind, read_at(parent, dataset, name, self.options.read)
                return FOLDER_KIND, read_open(fd, dataset, self.options.read)
        except OSError:
            return None, None

    def add_reads(self, jobs: Sequence[Job], reads: Sequence[ExperimentRead]) -> None:
        """Turn what the readers found into experiments of the model."""
        parents: dict[str, str] = {}
        for (dataset, name), read in zip(jobs, reads, strict=True):
            # The key the listing made, which links share; its strings serve the experiment.
            key = (self.shared.listed.get(dataset) or {}).get(name) or (dataset, name)
            parent = parents.get(dataset)
            if parent is None:
                parent = parents[dataset] = os.path.join(self.root_str, SHARED, dataset)
            self.experiments[key] = Experiment(
                key[0], key[1], parent, read.metadata, read.data, read.size
            )
            location = f"{parent}{os.sep}{name}"
            self.shared.symlinks.extend(
                SharedSymlink(Path(f"{location}{os.sep}{n}"), t) for n, t in read.symlinks
            )
            self.stats["folders"] += read.folders
            self.stats["metadata"] += read.metadata.size >= 0

    # -- batches ---------------------------------------------------------------------------

    def _batch_work(self, task: BatchTask) -> tuple[FolderRead, Sequence[BatchTask]]:
        """The I/O of one task: a batch folder (whose dataset folders the link cache does not
        vouch for come next), one of its dataset folders, or (on threads) some of the links of
        one, ``TARGETS`` at a time."""
        batch, dataset, names = task
        if names:
            return read_targets(self.layer, batch, dataset or "", names), ()
        if dataset is not None:
            at_most = 0 if self.flow.threaded else None  # threaded: every target apart
            read = read_links(self.layer, batch, dataset, self.stamped, at_most)
            rest = read.rest
            runs = [rest[i : i + TARGETS] for i in range(0, len(rest), TARGETS)]
            return read, [(batch, dataset, run) for run in runs]
        read = read_batch(self.layer, batch, self.stamped, self.listings_before)
        known = {name for name, _ in read.children}
        more = [
            (batch, n, ()) for n, kind in read.entries if kind == FOLDER_KIND and n not in known
        ]
        return read, more

    def read_batches(self, names: Sequence[str]) -> Iterator[tuple[BatchTask, FolderRead]]:
        """Every batch folder and dataset folder of ``names``, as read: on the flow as the
        iterator is consumed, or, when there are many on a fast disk and ``forks`` allows,
        by worker processes that start now (this process meanwhile lists ``_shared``)."""
        listed = self.kinds.get(())
        tasks: list[BatchTask] = []
        for name in names:
            kind = listed.get(name, MISSING) if listed is not None else None
            if kind in (None, FOLDER_KIND):
                tasks.append((name, None, ()))
        many = self.forks and len(tasks) >= PREFETCH_MIN and self.options.workers != 1
        pool = None
        if many and not self.flow.threaded:
            pool = fork_pool(self.options.workers or default_workers())
        if pool is None:
            return self.flow.run(tasks, self._batch_work)
        global _WORKER_SCANNER
        _WORKER_SCANNER = self
        runs = [tasks[i : i + PREFETCH_CHUNK] for i in range(0, len(tasks), PREFETCH_CHUNK)]
        futures = [pool.submit(_worker_batches, run) for run in runs]
        return _results(pool, futures)

    def batches(
        self, names: Sequence[str], reads: Iterable[tuple[BatchTask, FolderRead]]
    ) -> dict[str, Batch]:
        """Judge the batches ``names`` (in that order; a name that is not there is left out)
        from what :meth:`read_batches` read of them."""
        folders: dict[str, FolderRead] = {}
        contents: dict[str, dict[str, FolderRead]] = {}
        more: dict[tuple[str, str], list[tuple[str, str]]] = {}  # targets read apart
        for (name, dataset, names_), read in reads:
            if dataset is None:
                folders[name] = read
                contents.setdefault(name, {}).update(read.children)
            elif names_:
                more.setdefault((name, dataset), []).extend(read.pairs)
            else:
                contents.setdefault(name, {})[dataset] = read
        for (name, dataset), pairs in more.items():
            read = contents[name][dataset]
            whole = tuple(sorted((*read.pairs, *pairs)))
            # Some targets unread (the folder went away meanwhile): never kept, never vouched.
            lost = len(whole) < len(read.pairs) + len(read.rest)
            contents[name][dataset] = replace(
                read, pairs=whole, rest=(), stamp=None if lost else read.stamp
            )
        if not self.lists_shared:
            self._prefetch_for(contents)
        out: dict[str, Batch] = {}
        for name in names:
            batch = self._batch(name, folders.get(name), contents.get(name, {}))
            if batch is not None:
                out[name] = batch
        return out

    @property
    def lists_shared(self) -> bool:
        """Whether links are judged against listings of every dataset folder."""
        return self.options.shared == "all" or (
            self.options.shared == "none" and self.options.batches is None
        )

    def _prefetch_for(self, contents: dict[str, dict[str, FolderRead]]) -> None:
        keys = []
        for batch, datasets in contents.items():
            for dataset, read in datasets.items():
                for _, target in read.pairs:
                    key = named((batch, dataset), target, self.layer.inside)
                    if key is not None:
                        keys.append(key)
        self.prefetch(keys, read=self.options.shared == "linked")

    def _batch(
        self, name: str, folder: FolderRead | None, contents: dict[str, FolderRead]
    ) -> Batch | None:
        path = self.root / name
        if folder is None or folder.error is not None:
            kind = self._kind_of_batch(name)
            if kind == MISSING:
                return None
            if kind != FOLDER_KIND:  # a file, or a symlink (never followed)
                return Batch(name, path, {}, strays=(Stray(name, None, name, path, kind),))
            error = folder.error if folder is not None and folder.error else "cannot read"
            return Batch(name, path, {}, problems=(Problem(path, error, name),))
        self._listed((name,), folder)
        self._stray_stamps((name,), folder)
        others = {n: (kind, held) for n, kind, held, _ in folder.strays}
        strays: list[Stray] = []
        problems: list[Problem] = []
        datasets: dict[str, tuple[Link, ...]] = {}
        for dataset, kind in folder.entries:  # by name, strays among them as they come
            if kind != FOLDER_KIND:
                kind, held = others.get(dataset, (kind, None))
                strays.append(Stray(name, None, dataset, path / dataset, kind, held))
                continue
            read = contents.get(dataset)
            links = self._links(name, dataset, read, strays, problems) if read else None
            if links is not None:
                datasets[dataset] = links
        if self.progress is not None:
            self.progress.add(links=sum(len(v) for v in datasets.values()))
        return Batch(name, path, datasets, tuple(strays), tuple(problems))

    def _kind_of_batch(self, name: str) -> str:
        try:
            return self.lookup((), name)
        except OSError:
            return MISSING

    def _stray_stamps(self, parts: Parts, read: FolderRead) -> None:
        if self.stamped:
            for n, _, _, seen in read.strays:
                stray = (*parts, n)
                self.tree[stray] = seen  # a pointer file's content matters (BC106)

    def _links(
        self,
        batch: str,
        dataset: str,
        read: FolderRead,
        strays: list[Stray],
        problems: list[Problem],
    ) -> tuple[Link, ...] | None:
        """Judge the links of one batch dataset folder; its other entries become strays."""
        parts = (batch, dataset)
        folder = os.path.join(self.root_str, batch, dataset)
        if read.error is not None:
            problems.append(Problem(Path(folder), read.error, batch))
            return None
        if self.stamped:
            self.tree[parts] = read.stamp
        if not read.cached:
            self.stats["folders"] += 1
            self._stray_stamps(parts, read)
        for n, kind, held, _ in read.strays:
            strays.append(Stray(batch, dataset, n, Path(folder, n), kind, held))
        self._keep(f"{batch}/{dataset}", read, read.pairs, read.complete)
        links = []
        usual, ok, inside = self.usual, LinkState.OK, self.layer.inside
        for link_name, target in read.pairs:
            # The hot path: the usual target text, to a known experiment of this dataset.
            key = usual.get(target.rstrip("/"))
            if key is not None and key[0] == dataset:
                # One string for many: a link is mostly named after its experiment, and
                # the links that reuse an experiment share its target text.
                link_name = key[1] if link_name == key[1] else link_name
                target = sys.intern(target)
                links.append(Link(batch, dataset, link_name, folder, target, ok, key))
                continue
            state, key, detail = judge(parts, link_name, dataset, target, self.lookup, inside)
            links.append(Link(batch, dataset, link_name, folder, target, state, key, detail))
        self.stats["links"] += len(links)
        return tuple(links)


_WORKER_SCANNER: _Scanner | None = None  # set before the fork: workers use its layer and cache


def _results(
    pool: ProcessPoolExecutor, futures: Sequence[Future[list[tuple[BatchTask, FolderRead]]]]
) -> Iterator[tuple[BatchTask, FolderRead]]:
    """What the worker processes read, in order, as each run comes in; then the pool ends."""
    with pool:
        for future in futures:
            yield from future.result()


def _worker_batches(tasks: list[BatchTask]) -> list[tuple[BatchTask, FolderRead]]:
    assert _WORKER_SCANNER is not None
    return list(Flow(1).run(tasks, _WORKER_SCANNER._batch_work))


def scan(root: Path, options: ScanOptions | None = None, progress: Progress | None = None) -> Store:
    """Read ``root`` once, as far as ``options`` asks, into a :class:`Store`."""
    return scan_stamped(root, options, progress)[0]


def scan_stamped(
    root: Path, options: ScanOptions | None = None, progress: Progress | None = None
) -> tuple[Store, Stamps | None]:
    """:func:`scan`, and the stamps of everything it read when a cache is in use and every
    experiment was stamped (what a cached check result is held against).

    A full scan reads the experiments (on the I/O threads, or in worker processes on a fast
    disk) while this thread reads the batches, and takes unchanged experiments from the cache
    when ``options.cache_dir`` is set.
    """
    options = options or ScanOptions()
    layer, flow = open_layer(root, options)
    with layer, flow:
        return _scan(_Scanner(layer, flow, options, progress), options, progress)


def _scan(
    scanner: _Scanner, options: ScanOptions, progress: Progress | None
) -> tuple[Store, Stamps | None]:
    names = scanner.list_root() if options.batches is None or options.shared == "all" else []
    if options.batches is not None:
        names = list(options.batches)
    if options.shared != "none":
        scanner.shared_ok()  # one more timed open before the pace is settled
    link_cache = None
    if options.cache_dir is not None and options.batches is None:  # worth it for all batches
        link_cache = LinkCache(options.cache_dir, scanner.root)
        scanner.listings_before = link_cache.load()
        scanner.listings = {}
    # Without experiments to read, worker processes may list the batches (started now, while
    # this process lists _shared); not when the link cache spares most of the listing.
    scanner.forks = options.shared != "all" and not scanner.listings_before
    batch_reads = scanner.read_batches(names)
    reads: Reads | None = None
    jobs: list[Job] = []
    cache = None
    if scanner.lists_shared:
        jobs = scanner.list_shared()
    if options.shared == "all":
        cached: dict[str, ExperimentRead] | None = None
        # Without metadata a read is two folder listings: no dearer than checking a cache entry.
        if options.cache_dir is not None and options.read.metadata:
            cache = ScanCache(options.cache_dir, scanner.root, options.read)
            cached = cache.load()
        workers = options.workers or default_workers()
        done = progress.add_experiments if progress is not None else (lambda _n: None)
        reads = Reads(scanner.layer, jobs, options.read, cached, scanner.flow, workers, done)
    batches = scanner.batches(names, batch_reads)
    if link_cache is not None and scanner.listings is not None:
        link_cache.save(list(scanner.listings.items()))
    stamps = None
    if reads is not None:
        results = reads.results()
        scanner.add_reads(jobs, results)
        if cache is not None:
            cache.save([(cache_key(job), read) for job, read in zip(jobs, results, strict=True)])
            stamps = Stamps.of(scanner.tree_stamps(), jobs, [read.signature for read in results])
    if progress is not None:
        progress.done()
    store = Store(
        root=scanner.root,
        batches=batches,
        experiments=dict(sorted(scanner.experiments.items())),
        shared_symlinks=tuple(sorted(scanner.shared.symlinks, key=lambda s: s.path)),
        problems=tuple(scanner.problems),
        shared_datasets=tuple(scanner.shared.datasets),
        shared_complete=options.shared == "all" and options.datasets is None,
        batches_complete=options.batches is None,
        data_checked=options.read.data,
        stats=dict(scanner.stats),
    )
    return store, stamps


def load_experiments(
    root: Path, keys: Iterable[tuple[str, str]], options: ScanOptions | None = None
) -> Store:
    """A store holding only the named shared experiments (for lookups that show a few); a key
    that names no real experiment folder beneath the root is left out."""
    options = options or ScanOptions(batches=(), shared="linked")
    layer, flow = open_layer(root, options)
    with layer, flow:
        scanner = _Scanner(layer, flow, options, None)
        scanner.prefetch([key for key in keys if is_name(key[0]) and is_name(key[1])], read=True)
    return Store(
        root=root,
        batches={},
        experiments=dict(sorted(scanner.experiments.items())),
        shared_symlinks=tuple(scanner.shared.symlinks),
        problems=tuple(scanner.problems),
        data_checked=options.read.data,
        stats=dict(scanner.stats),
    )
