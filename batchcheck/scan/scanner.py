"""The scanner: one read of a root into the model (``batchcheck.model``).

The scan reads only what it is asked for (one batch, the experiments some links name, or
everything) and records every problem it meets on the model instead of raising: rules and
listings decide what a problem means. A symlink is never followed out of the root, and a
symlink inside ``_shared`` is never followed at all. Links are judged by ``scan.links``,
experiments read by ``scan.experiments``, earlier reads kept by ``scan.cache``.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Iterable, Iterator, Sequence
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
from batchcheck.scan.cache import LinkCache, ScanCache
from batchcheck.scan.experiments import ExperimentRead, Reads, read_experiment
from batchcheck.scan.links import USUAL_PREFIX, reason, resolve
from batchcheck.scan.listing import (
    Listing,
    batch_listings,
    by_name,
    entries,
    entry_kind,
    holds_a_folder,
    is_real_dir,
    pointer,
    read_symlinks,
)
from batchcheck.scan.options import ScanOptions
from batchcheck.stamps import Stamps, stamp

if TYPE_CHECKING:
    from batchcheck.progress import Progress

PREFETCH_MIN = 200  # batches from which listing them in worker processes pays
PREFETCH_CHUNK = 50

_UNLISTED: dict[str, tuple[str, str]] = {}  # a marker: this dataset folder was not listed yet


class _Scanner:
    """Reads a store; one instance per scan, so lazily loaded experiments are read once."""

    def __init__(self, root: Path, options: ScanOptions, progress: Progress | None) -> None:
        self.root = root
        self.root_str = str(root)
        self.shared_str = os.path.join(self.root_str, SHARED)
        self.options = options
        self.progress = progress
        self.experiments: dict[tuple[str, str], Experiment] = {}
        # Real experiment folders by dataset, from listing _shared/<dataset> (None: unreadable):
        # name -> its (dataset, name) key, one tuple that every link to it shares.
        self.listed: dict[str, dict[str, tuple[str, str]] | None] = {}
        # The usual target text of each listed experiment: ../../_shared/<dataset>/<name>.
        self.usual: dict[str, tuple[str, str]] = {}
        # Whether links are judged against dataset listings (a full scan, or every batch).
        self.lists = options.shared == "all" or (
            options.shared == "none" and options.batches is None
        )
        self.absent: set[tuple[str, str]] = set()  # looked up and not a real folder
        self.present: set[tuple[str, str]] = set()  # looked up and a real folder
        self.shared_symlinks: list[SharedSymlink] = []
        self.shared_datasets: list[str] = []  # those holding an experiment folder
        self.problems: list[Problem] = []
        self.shared_ok: bool | None = None
        self.stats = {"folders": 0, "links": 0, "metadata": 0}
        # Batch dataset folders as last read (see cache.LinkCache), and as read now; None: the
        # scan keeps no such cache.
        self.listings_before: dict[str, Listing] = {}
        self.listings: dict[str, Listing] | None = None

    # -- _shared -------------------------------------------------------------------------

    def _shared_root_ok(self) -> bool:
        if self.shared_ok is None:
            path = self.root / SHARED
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                self.shared_ok = False
                return False
            except OSError as exc:
                self.problems.append(Problem(path, f"cannot read: {reason(exc)}"))
                self.shared_ok = False
                return False
            if stat.S_ISLNK(st.st_mode):
                self._shared_symlink(self.shared_str)
            self.shared_ok = stat.S_ISDIR(st.st_mode)
        return self.shared_ok

    def list_shared(self) -> list[tuple[str, str]]:
        """List the dataset folders of ``_shared``; return the experiment folders to read.

        With ``datasets``, the others are only looked into far enough to know whether they
        hold an experiment (``shared_datasets``).
        """
        if not self._shared_root_ok():
            return []
        try:
            datasets = entries(self.shared_str)
        except OSError as exc:
            self.problems.append(Problem(self.root / SHARED, f"cannot read: {reason(exc)}"))
            return []
        self.stats["folders"] += 1
        jobs: list[tuple[str, str]] = []
        for ds in datasets:
            kind = entry_kind(ds)
            if kind == "symlink":
                self._shared_symlink(ds.path)
            elif kind != "folder":
                continue
            elif self.options.datasets is None or ds.name in self.options.datasets:
                names = self._list_dataset(ds.name)
                jobs.extend((os.path.join(ds.path, name), ds.name) for name in sorted(names or ()))
                if names:
                    self.shared_datasets.append(ds.name)
            elif holds_a_folder(ds.path):
                self.shared_datasets.append(ds.name)
        return jobs

    def _list_dataset(self, dataset: str) -> dict[str, tuple[str, str]] | None:
        """The real experiment folders of ``_shared/dataset`` by name (listed once)."""
        if dataset not in self.listed:
            path = os.path.join(self.shared_str, dataset)
            names: dict[str, tuple[str, str]] | None = {}
            try:
                if not is_real_dir(path):
                    # Missing, or a symlink (never followed: the walk judges links through it).
                    raise FileNotFoundError(path)
                with os.scandir(path) as it:
                    for entry in it:
                        if is_hidden(entry.name):
                            continue
                        kind = entry_kind(entry)
                        if kind == "folder":
                            key = (dataset, entry.name)
                            names[entry.name] = key  # type: ignore[index]
                            self.usual[f"{USUAL_PREFIX}{dataset}/{entry.name}"] = key
                        elif kind == "symlink":
                            self._shared_symlink(entry.path)
                self.stats["folders"] += 1
            except FileNotFoundError:
                names = {}
            except OSError as exc:
                if is_real_dir(path):
                    self.problems.append(Problem(Path(path), f"cannot read: {reason(exc)}"))
                names = None
            self.listed[dataset] = names
        return self.listed[dataset]

    def add_reads(self, jobs: list[tuple[str, str]], reads: list[ExperimentRead]) -> None:
        """Turn what the readers found into experiments of the model."""
        parents: dict[str, str] = {}
        for (folder, dataset), read in zip(jobs, reads, strict=True):
            name = os.path.basename(folder)
            # The key the listing made, which links share; its strings serve the experiment.
            key = (self.listed.get(dataset) or {}).get(name) or (dataset, name)
            parent = parents.get(dataset)
            if parent is None:
                parent = parents[dataset] = os.path.dirname(folder)
            self.experiments[key] = Experiment(
                key[0], key[1], parent, read.metadata, read.data, read.size
            )
            self.shared_symlinks.extend(SharedSymlink(Path(p), t) for p, t in read.symlinks)
            self.stats["folders"] += read.folders
            self.stats["metadata"] += read.metadata.size >= 0

    def prefetched(self, names: Sequence[str], workers: int) -> Iterator[Sequence[str]]:
        """``names`` in runs whose batch folders ``workers`` processes have listed (added to
        ``listings_before``), each as soon as it is ready; meanwhile this process lists the
        dataset folders of ``_shared`` that links are judged against (when it does)."""
        pool = fork_pool(workers) if workers > 1 else None
        if pool is None:
            yield names
            return
        folders = [os.path.join(self.root_str, name) for name in names]
        with pool:
            runs = range(0, len(folders), PREFETCH_CHUNK)
            futures = [pool.submit(batch_listings, folders[i : i + PREFETCH_CHUNK]) for i in runs]
            if self.lists and self._shared_root_ok():
                with contextlib.suppress(OSError):
                    for entry in entries(self.shared_str):
                        if entry_kind(entry) == "folder":
                            self._list_dataset(entry.name)
            for i, future in zip(runs, futures, strict=True):
                self.listings_before.update(future.result())
                yield names[i : i + PREFETCH_CHUNK]

    def _shared_symlink(self, path: str) -> None:
        with contextlib.suppress(OSError):  # vanished since the folder was listed
            self.shared_symlinks.append(SharedSymlink(Path(path), os.readlink(path)))

    def experiment(self, dataset: str, name: str) -> Experiment | None:
        """The experiment at ``_shared/dataset/name``, read on first use; None if not a folder."""
        key = (dataset, name)
        if key in self.experiments:
            return self.experiments[key]
        if self.options.shared == "all" or not self._is_folder(dataset, name):
            return None
        folder = os.path.join(self.shared_str, dataset, name)
        self.add_reads([(folder, dataset)], [read_experiment(folder, dataset, self.options.read)])
        return self.experiments[key]

    def _is_folder(self, dataset: str, name: str) -> bool:
        """Whether ``_shared/dataset/name`` is a real folder, by lstat alone (remembered)."""
        key = (dataset, name)
        if key in self.present:
            return True
        if key in self.absent or not self._shared_root_ok():
            return False
        if is_real_dir(os.path.join(self.shared_str, dataset, name)):
            self.present.add(key)
            return True
        self.absent.add(key)
        return False

    def _exists(self, dataset: str, name: str) -> bool | None:
        """Whether the experiment folder exists, as cheaply as the mode allows (None: unsure)."""
        if self.options.shared == "linked":
            return self.experiment(dataset, name) is not None
        if self.options.shared == "none" and self.options.batches is not None:
            return self._is_folder(dataset, name)  # a few links: a look each is cheapest
        names = self._listing(dataset)
        if names is None or name not in names:
            return None  # unreadable, missing, or not a plain folder: the walk will tell
        return True

    def _listing(self, dataset: str) -> dict[str, tuple[str, str]] | None:
        names = self.listed.get(dataset, _UNLISTED)  # the hot path of a full scan: one lookup
        if names is _UNLISTED:
            names = self._list_dataset(dataset) if self._shared_root_ok() else {}
        return names

    # -- batches ------------------------------------------------------------------------

    def batch_names(self) -> list[str]:
        """Every ``batch_*`` entry at the top of the root (folders or not)."""
        try:
            return [e.name for e in entries(self.root_str) if e.name.startswith(BATCH_PREFIX)]
        except OSError as exc:
            self.problems.append(Problem(self.root, f"cannot read: {reason(exc)}"))
            return []

    def scan_batch(self, name: str) -> Batch | None:
        """Read one batch's links (resolved against ``_shared``); None if it is not a folder."""
        path = self.root / name
        path_str = os.path.join(self.root_str, name)
        try:
            st = os.lstat(path_str)
        except OSError:
            return None
        if not stat.S_ISDIR(st.st_mode):
            kind = "symlink" if stat.S_ISLNK(st.st_mode) else "file"
            return Batch(name, path, {}, strays=(Stray(name, None, name, path, kind),))
        strays: list[Stray] = []
        problems: list[Problem] = []
        datasets: dict[str, tuple[Link, ...]] = {}
        try:
            listed = entries(path_str)
        except OSError as exc:
            problems.append(Problem(path, f"cannot read: {reason(exc)}", name))
            return Batch(name, path, {}, problems=tuple(problems))
        self.stats["folders"] += 1
        for ds in listed:
            kind = entry_kind(ds)
            if kind == "vanished":
                continue
            if kind != "folder":
                strays.append(Stray(name, None, ds.name, Path(ds.path), kind, pointer(ds)))
                continue
            pairs = self._symlinks(name, ds.path, strays, problems)
            if pairs is None:
                continue
            dataset, folder = ds.name, ds.path
            links = []
            usual, ok = self.usual, LinkState.OK
            for link_name, target in pairs:
                # The hot path: the usual target text, to a listed experiment of this dataset.
                key = usual.get(target.rstrip("/"))
                if key is not None and key[0] == dataset:
                    # One string for many: a link is mostly named after its experiment, and
                    # the links that reuse an experiment share its target text.
                    link_name = key[1] if link_name == key[1] else link_name
                    target = sys.intern(target)
                    links.append(Link(name, dataset, link_name, folder, target, ok, key))
                    continue
                state, key, detail = resolve(self.root, dataset, folder, target, self._exists)
                links.append(Link(name, dataset, link_name, folder, target, state, key, detail))
            self.stats["links"] += len(links)
            datasets[ds.name] = tuple(links)
        if self.progress is not None:
            self.progress.add(links=sum(len(v) for v in datasets.values()))
        return Batch(name, path, datasets, tuple(strays), tuple(problems))

    def _symlinks(
        self, batch: str, folder: str, strays: list[Stray], problems: list[Problem]
    ) -> Sequence[tuple[str, str]] | None:
        """(name, target) of each symlink of a batch dataset folder, sorted; anything else
        becomes a stray. None when the folder cannot be read (a problem says why)."""
        keeping = self.listings is not None
        seen = stamp(folder) if keeping or self.listings_before else None
        earlier = self.listings_before.get(folder) if seen is not None else None
        if earlier is not None and earlier[0] == seen:
            if self.listings is not None:
                self.listings[folder] = earlier
            return earlier[1]
        try:
            pairs, others, complete = read_symlinks(folder)
        except OSError as exc:
            problems.append(Problem(Path(folder), f"cannot read: {reason(exc)}", batch))
            return None
        self.stats["folders"] += 1
        dataset = os.path.basename(folder)
        for item in by_name(others):
            kind = entry_kind(item)
            if kind != "vanished":
                held = pointer(item)
                strays.append(Stray(batch, dataset, item.name, Path(item.path), kind, held))
        if complete and seen is not None and self.listings is not None:
            self.listings[folder] = (seen, tuple(pairs))
        return pairs


def scan(root: Path, options: ScanOptions | None = None, progress: Progress | None = None) -> Store:
    """Read ``root`` once, as far as ``options`` asks, into a :class:`Store`."""
    return scan_stamped(root, options, progress)[0]


def scan_stamped(
    root: Path, options: ScanOptions | None = None, progress: Progress | None = None
) -> tuple[Store, Stamps | None]:
    """:func:`scan`, and the experiments' stamps summed up when a cache is in use and all were
    taken (what a cached check result is held against).

    A full scan reads the experiments in worker processes while this one reads the batches,
    and takes unchanged experiments from the cache when ``options.cache_dir`` is set.
    """
    options = options or ScanOptions()
    scanner = _Scanner(root, options, progress)
    reads: Reads | None = None
    jobs: list[tuple[str, str]] = []
    cache = None
    if options.shared == "all":
        jobs = scanner.list_shared()
        cached: dict[str, ExperimentRead] | None = None
        # Without metadata a read is two folder listings: no dearer than checking a cache entry.
        if options.cache_dir is not None and options.read.metadata:
            cache = ScanCache(options.cache_dir, root, options.read)
            cached = cache.load()
        workers = options.workers or default_workers()
        done = progress.add_experiments if progress is not None else (lambda _n: None)
        reads = Reads(jobs, options.read, cached, workers, done)
    link_cache = None
    if options.cache_dir is not None and options.batches is None:  # worth it for all batches
        link_cache = LinkCache(options.cache_dir, root)
        scanner.listings_before = link_cache.load()
        scanner.listings = {}
    names = scanner.batch_names() if options.batches is None else list(options.batches)
    runs: Iterable[Sequence[str]] = [names]
    if reads is None and not scanner.listings_before and len(names) >= PREFETCH_MIN:
        # Both cores are free: workers list the batch folders while this process lists
        # _shared (to judge links by), then resolves what they read as it comes.
        runs = scanner.prefetched(names, options.workers or default_workers())
    batches: dict[str, Batch] = {}
    for run in runs:
        for name in run:
            batch = scanner.scan_batch(name)
            if batch is not None:
                batches[name] = batch
    if link_cache is not None and scanner.listings is not None:
        link_cache.save(list(scanner.listings.items()))
    stamps = None
    if reads is not None:
        results = reads.results()
        scanner.add_reads(jobs, results)
        if cache is not None:
            folders = [folder for folder, _ in jobs]
            cache.save(list(zip(folders, results, strict=True)))
            stamps = Stamps.of(folders, [read.signature for read in results])
    if progress is not None:
        progress.done()
    store = Store(
        root=root,
        batches=batches,
        experiments=dict(sorted(scanner.experiments.items())),
        shared_symlinks=tuple(sorted(scanner.shared_symlinks, key=lambda s: s.path)),
        problems=tuple(scanner.problems),
        shared_datasets=tuple(scanner.shared_datasets),
        shared_complete=options.shared == "all" and options.datasets is None,
        batches_complete=options.batches is None,
        data_checked=options.read.data,
        stats=dict(scanner.stats),
    )
    return store, stamps


def load_experiments(
    root: Path, keys: Iterable[tuple[str, str]], options: ScanOptions | None = None
) -> Store:
    """A store holding only the named shared experiments (for lookups that show a few)."""
    options = options or ScanOptions(batches=(), shared="linked")
    scanner = _Scanner(root, options, None)
    for key in keys:
        scanner.experiment(*key)
    return Store(
        root=root,
        batches={},
        experiments=dict(sorted(scanner.experiments.items())),
        shared_symlinks=tuple(scanner.shared_symlinks),
        problems=tuple(scanner.problems),
        data_checked=options.read.data,
        stats=dict(scanner.stats),
    )
