"""One scan of a store into a frozen, plain model: batches, their links, shared experiments.

The scan reads only what it is asked for (one batch, the experiments some links name, or
everything) and records every problem it meets on the model instead of raising: rules and
listings decide what a problem means. A symlink is never followed out of the root, and a
symlink inside ``_shared`` is never followed at all.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from itertools import chain
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from batchcheck.experiments import METADATA_FILE as METADATA_FILE
from batchcheck.experiments import (
    DataState,
    ExperimentRead,
    ReadOptions,
    Reads,
    Stamps,
    entry_kind,
    is_real_dir,
    read_experiment,
    stamp,
)
from batchcheck.forking import default_workers, fork_pool
from batchcheck.metadata import DEFAULT_JUDGE, Judge, Metadata
from batchcheck.names import is_hidden

if TYPE_CHECKING:
    from batchcheck.config import Settings
    from batchcheck.progress import Progress

SHARED = "_shared"
BATCH_PREFIX = "batch_"
MAX_HOPS = 40
PREFETCH_MIN = 200  # batches from which listing them in worker processes pays
PREFETCH_CHUNK = 50
POINTER_FILE_MAX = 1024


class LinkState(str, Enum):
    """Where a batch link leads, judged without following it out of the root."""

    OK = "ok"  # _shared/<its dataset>/<experiment>, a real experiment folder
    DANGLING = "dangling"  # the target does not exist
    OUTSIDE = "outside"  # the target leaves the root: not followed
    MISPLACED = "misplaced"  # exists inside the root but is not _shared/<its dataset>/<exp>
    LOOP = "loop"  # too many levels of symlinks
    UNREADABLE = "unreadable"  # a folder on the way cannot be read


class Link(NamedTuple):
    """A symlink in ``<batch>/<Dataset>/``, with its raw target text and where it leads.

    A named tuple: as immutable as a frozen dataclass, and made four times faster (a store
    has hundreds of thousands of links).
    """

    batch: str
    dataset: str
    name: str
    folder: str  # the batch dataset folder's path, one string its links share
    target: str
    state: LinkState
    # The (dataset, experiment) the target names when it lies right under _shared/.
    key: tuple[str, str] | None
    detail: str = ""

    @property
    def location(self) -> str:
        """The link's own path as text (a Path is made only when asked for)."""
        return f"{self.folder}{os.sep}{self.name}"

    @property
    def path(self) -> Path:
        """The link's own path (absolute)."""
        return Path(self.location)

    @property
    def absolute(self) -> bool:
        """An absolute target breaks as soon as the store moves."""
        return self.target.startswith("/")  # os.path.isabs on POSIX, where symlinks live


@dataclass(frozen=True)
class Stray:
    """Anything in a batch that is not a dataset folder of symlinks."""

    batch: str
    dataset: str | None  # None: the entry sits at the dataset level itself
    name: str
    path: Path
    kind: str  # "folder", "file", "symlink", "special file"
    # A small file holding a path: a symlink checked out with core.symlinks=false.
    pointer: str | None = None


@dataclass(frozen=True)
class Problem:
    """A folder or file the scan could not read; rules turn these into findings."""

    path: Path
    message: str
    batch: str | None = None


@dataclass(frozen=True)
class Batch:
    """A ``batch_*`` folder: dataset name -> its links (sorted), plus what does not belong."""

    name: str
    path: Path
    datasets: Mapping[str, tuple[Link, ...]]
    strays: tuple[Stray, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def links(self) -> Iterator[Link]:
        """Every link of the batch, dataset by dataset."""
        return chain.from_iterable(self.datasets.values())


class Experiment(NamedTuple):
    """A physical experiment ``_shared/<dataset>/<name>/`` with its metadata as read (a named
    tuple, like :class:`Link`)."""

    dataset: str
    name: str
    folder: str  # the path of _shared/<dataset>, one string its experiments share
    metadata: Metadata
    data: DataState = DataState.UNCHECKED
    size: tuple[int, bool] | None = None  # experiments.tree_size, when the scan measured it

    @property
    def location(self) -> str:
        """The experiment folder's path as text (see Link.location)."""
        return f"{self.folder}{os.sep}{self.name}"

    @property
    def path(self) -> Path:
        """The experiment folder (absolute)."""
        return Path(self.location)

    @property
    def key(self) -> tuple[str, str]:
        """The (dataset, experiment) pair that identifies it in the store."""
        return (self.dataset, self.name)


@dataclass(frozen=True)
class SharedSymlink:
    """A symlink met inside ``_shared``: reported, never followed."""

    path: Path
    target: str


@dataclass(frozen=True)
class Store:
    """What one scan saw. ``shared_complete`` says whether all of ``_shared`` was read."""

    root: Path
    batches: Mapping[str, Batch]
    experiments: Mapping[tuple[str, str], Experiment]
    shared_symlinks: tuple[SharedSymlink, ...] = ()
    problems: tuple[Problem, ...] = ()
    # Dataset folders of _shared holding an experiment folder, also those not read.
    shared_datasets: tuple[str, ...] = ()
    shared_complete: bool = False
    batches_complete: bool = False
    data_checked: bool = False
    stats: Mapping[str, int] = field(default_factory=dict)
    # The experiments' stat stamps, summed up (only when a cache is in use and all were taken).
    stamps: Stamps | None = None

    def links(self) -> Iterator[Link]:
        """Every link of every scanned batch (iterated in C: rules walk them several times)."""
        return chain.from_iterable(
            links for batch in self.batches.values() for links in batch.datasets.values()
        )

    def datasets(self) -> list[str]:
        """Dataset names seen in ``_shared`` or in any batch, sorted."""
        names = {key[0] for key in self.experiments}
        for batch in self.batches.values():
            names.update(batch.datasets)
        return sorted(names)


@dataclass(frozen=True)
class ScanOptions:
    """What to read. ``batches=None`` reads every batch; ``shared`` is all, linked or none.

    ``linked`` reads only the experiments that scanned links name; ``none`` reads no
    experiment: a link is judged only by whether its target folder exists. ``datasets`` limits
    ``all`` to the experiments of those dataset folders. ``judge`` says how
    metadata is judged as it is read and which of its fields are kept. ``sizes`` measures each
    experiment folder read afresh (``Experiment.size``). ``cache_dir`` (None: no cache) keeps
    earlier reads of a full scan; ``workers`` 0 means one per core.
    """

    batches: tuple[str, ...] | None = None
    shared: str = "all"
    datasets: tuple[str, ...] | None = None
    metadata: bool = True
    data: bool = True
    max_metadata_bytes: int = 1024 * 1024
    judge: Judge = DEFAULT_JUDGE
    sizes: bool = False
    workers: int = 0
    cache_dir: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> ScanOptions:
        """Options that honour the project's schema, fingerprint fields and size limit."""
        keep = kwargs.pop("keep", None)
        judge = Judge(settings.metadata_schema, settings.fingerprint_fields, keep)
        return cls(max_metadata_bytes=settings.max_metadata_bytes, judge=judge, **kwargs)

    @property
    def read(self) -> ReadOptions:
        """The part the experiment readers (possibly other processes) need."""
        return ReadOptions(
            self.metadata, self.data, self.max_metadata_bytes, self.judge, self.sizes
        )


_NAME = attrgetter("name")


def _entries(path: str) -> list[os.DirEntry[str]]:
    """Visible entries of a folder, sorted by name. Raises OSError like os.scandir."""
    with os.scandir(path) as it:
        entries = [e for e in it if not is_hidden(e.name)]
    entries.sort(key=_NAME)
    return entries


def _read_symlinks(
    folder: str,
) -> tuple[list[tuple[str, str]], list[os.DirEntry[str]], bool]:
    """(name, target) of each symlink in ``folder``, sorted; its other visible entries; and
    whether it held only symlinks, all read (a listing worth keeping). Raises OSError like
    os.scandir."""
    pairs: list[tuple[str, str]] = []
    others: list[os.DirEntry[str]] = []
    complete = True
    with os.scandir(folder) as it:
        for item in it:
            if is_hidden(item.name):
                continue
            # d_type answers is_symlink without a system call: the common case first.
            if item.is_symlink():
                try:
                    pairs.append((item.name, os.readlink(item.path)))
                    continue
                except OSError:
                    pass  # vanished since the folder was listed
            else:
                others.append(item)
            complete = False
    pairs.sort()  # by name: names are unique, so targets are never compared
    return pairs, others, complete


def _listings(batch_folders: Sequence[str]) -> dict[str, Listing]:
    """The listing of every dataset folder of these batches that holds only symlinks (what
    :class:`cache.LinkCache` keeps), read in a worker process: the scan then takes them as it
    takes cached ones, after checking each folder's stamp."""
    out: dict[str, Listing] = {}
    for batch in batch_folders:
        folders: list[str] = []  # none when the batch is not a readable folder: the scan says why
        if not is_real_dir(batch):
            continue  # a file, or a symlink: never followed
        with contextlib.suppress(OSError), os.scandir(batch) as it:
            folders = [e.path for e in it if not is_hidden(e.name) and entry_kind(e) == "folder"]
        for folder in folders:
            seen = stamp(folder)
            with contextlib.suppress(OSError):
                pairs, _, complete = _read_symlinks(folder)
                if complete and seen is not None:
                    out[folder] = (seen, tuple(pairs))
    return out


def _holds_a_folder(path: str) -> bool:
    """Whether a folder holds a visible real folder: found with the first one, not a listing."""
    try:
        with os.scandir(path) as it:
            return any(not is_hidden(e.name) and entry_kind(e) == "folder" for e in it)
    except OSError:
        return False


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


# A batch dataset folder's stamp and the (name, target) of every symlink it held (kept by
# cache.LinkCache between runs).
Listing = tuple[tuple[int, ...], tuple[tuple[str, str], ...]]

_UNLISTED: dict[str, tuple[str, str]] = {}  # a marker: this dataset folder was not listed yet

# The usual link: ../../_shared/<Dataset>/<experiment>(/): resolved from the names alone.
USUAL_PREFIX = f"../../{SHARED}/"
_USUAL = re.compile(r"\.\./\.\./_shared/([^/]+)/([^/]+)/?")


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
                self.problems.append(Problem(path, f"cannot read: {_reason(exc)}"))
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
            datasets = _entries(self.shared_str)
        except OSError as exc:
            self.problems.append(Problem(self.root / SHARED, f"cannot read: {_reason(exc)}"))
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
            elif _holds_a_folder(ds.path):
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
                    self.problems.append(Problem(Path(path), f"cannot read: {_reason(exc)}"))
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
            futures = [pool.submit(_listings, folders[i : i + PREFETCH_CHUNK]) for i in runs]
            if self.lists and self._shared_root_ok():
                with contextlib.suppress(OSError):
                    for entry in _entries(self.shared_str):
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
            return [e.name for e in _entries(self.root_str) if e.name.startswith(BATCH_PREFIX)]
        except OSError as exc:
            self.problems.append(Problem(self.root, f"cannot read: {_reason(exc)}"))
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
            entries = _entries(path_str)
        except OSError as exc:
            problems.append(Problem(path, f"cannot read: {_reason(exc)}", name))
            return Batch(name, path, {}, problems=tuple(problems))
        self.stats["folders"] += 1
        for ds in entries:
            kind = entry_kind(ds)
            if kind == "vanished":
                continue
            if kind != "folder":
                strays.append(Stray(name, None, ds.name, Path(ds.path), kind, self._pointer(ds)))
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
                state, key, detail = self._resolve(dataset, folder, target)
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
            pairs, others, complete = _read_symlinks(folder)
        except OSError as exc:
            problems.append(Problem(Path(folder), f"cannot read: {_reason(exc)}", batch))
            return None
        self.stats["folders"] += 1
        dataset = os.path.basename(folder)
        for item in sorted(others, key=_NAME):
            kind = entry_kind(item)
            if kind != "vanished":
                pointer = self._pointer(item)
                strays.append(Stray(batch, dataset, item.name, Path(item.path), kind, pointer))
        if complete and seen is not None and self.listings is not None:
            self.listings[folder] = (seen, tuple(pairs))
        return pairs

    @staticmethod
    def _pointer(entry: os.DirEntry[str]) -> str | None:
        """The path a small text file holds, as git writes a symlink without symlink support."""
        if entry_kind(entry) != "file":
            return None
        try:
            if entry.stat(follow_symlinks=False).st_size > POINTER_FILE_MAX:
                return None
            with open(entry.path, "rb") as handle:
                raw = handle.read(POINTER_FILE_MAX + 1)
            text = raw.decode("utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None
        if not text or "\n" in text or "\0" in text or "/" not in text:
            return None
        return text

    # -- link resolution ------------------------------------------------------------------

    def _resolve(
        self, dataset: str, folder: str, target: str
    ) -> tuple[LinkState, tuple[str, str] | None, str]:
        """Where a link in ``folder`` (of ``dataset``) leads: its state, the experiment its text
        names, why."""
        usual = _USUAL.fullmatch(target)
        key: tuple[str, str] | None
        rel_parts: tuple[str, ...] | None
        if usual and usual[1] not in (".", "..") and usual[2] not in (".", ".."):
            key = (usual[1], usual[2])
            rel_parts = (SHARED, *key)
            plain = True
        else:
            rel_parts = self._lexical(folder, target)
            if rel_parts is None:
                return LinkState.OUTSIDE, None, "the target leaves the store"
            key = (
                (rel_parts[1], rel_parts[2])
                if len(rel_parts) >= 3 and rel_parts[0] == SHARED
                else None
            )
            plain = self._plain(target, folder)
        if len(rel_parts) == 3 and key and plain and self._exists(*key):
            if key[0] != dataset:
                return (
                    LinkState.MISPLACED,
                    key,
                    f"the target is in dataset {key[0]!r}, not {dataset!r}",
                )
            return LinkState.OK, key, ""
        state, detail = self._walk(Path(folder), target, dataset)
        return state, key, detail

    def _lexical(self, base: str | Path, target: str) -> tuple[str, ...] | None:
        """The target's parts relative to the root, or None if its text leaves the root."""
        joined = os.path.normpath(os.path.join(base, target))
        if joined == self.root_str:
            return ()
        prefix = self.root_str.rstrip(os.sep) + os.sep
        if not joined.startswith(prefix):
            return None
        return tuple(joined[len(prefix) :].split(os.sep))

    def _plain(self, target: str, folder: str) -> bool:
        """Leading ``..`` that stay inside the root, then plain names: lexical == physical."""
        parts = [p for p in target.split("/") if p not in ("", ".")]
        if os.path.isabs(target):
            return ".." not in parts
        ups = 0
        while ups < len(parts) and parts[ups] == "..":
            ups += 1
        depth = len(Path(folder).relative_to(self.root).parts)
        return ups <= depth and ".." not in parts[ups:]

    def _walk(self, base: Path, target: str, dataset: str) -> tuple[LinkState, str]:
        """Follow a target component by component with lstat, never leaving the root."""
        outside = LinkState.OUTSIDE, "the target leaves the store"
        depth = len(self.root.parts)
        cur = list(base.parts)
        pending = self._stack(target, cur)
        if pending is None:
            return outside
        hops = 0
        while pending:
            part = pending.pop()
            if part in ("", "."):
                continue
            if part == "..":
                if len(cur) <= depth:
                    return outside
                cur.pop()
                continue
            nxt = Path(*cur, part)
            try:
                st = os.lstat(nxt)
            except (FileNotFoundError, NotADirectoryError):
                return LinkState.DANGLING, "the target does not exist"
            except OSError as exc:
                return LinkState.UNREADABLE, f"cannot read {nxt}: {_reason(exc)}"
            if stat.S_ISLNK(st.st_mode):
                hops += 1
                if hops > MAX_HOPS:
                    return LinkState.LOOP, "the link loops (too many levels of symlinks)"
                if [*cur, part][depth : depth + 1] == [SHARED]:
                    return LinkState.MISPLACED, "the target goes through a symlink in _shared"
                more = self._stack(os.readlink(nxt), cur)
                if more is None:
                    return outside
                pending.extend(more)
                continue
            if any(p not in ("", ".") for p in pending) and not stat.S_ISDIR(st.st_mode):
                return LinkState.DANGLING, "the target does not exist"
            cur.append(part)
        return LinkState.MISPLACED, self._why_misplaced(Path(*cur), dataset)

    def _stack(self, target: str, cur: list[str]) -> list[str] | None:
        """Components of ``target`` to walk, as a stack; an absolute one restarts at the root.

        None when an absolute target lies outside the root (it is never walked).
        """
        if os.path.isabs(target):
            rel = self._lexical(self.root, target)
            if rel is None:
                return None
            cur[:] = list(self.root.parts)
            return list(reversed(rel))
        return list(reversed(target.split("/")))

    def _why_misplaced(self, final: Path, dataset: str) -> str:
        rel = final.relative_to(self.root).parts
        where = "/".join(rel) or "the store root"
        if not final.is_dir():
            return f"the target {where} is not a folder"
        if rel[:1] != (SHARED,):
            return f"the target {where} is not under {SHARED}/"
        if len(rel) > 3:
            return f"the target {where} is inside an experiment, not the experiment"
        if len(rel) < 3:
            return f"the target {where} is above the experiment level"
        if rel[1] != dataset:
            return f"the target is in dataset {rel[1]!r}, not {dataset!r}"
        return f"the target reaches {where} only through other links or '..' detours"


def scan(root: Path, options: ScanOptions | None = None, progress: Progress | None = None) -> Store:
    """Read ``root`` once, as far as ``options`` asks, into a :class:`Store`.

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
        if options.cache_dir is not None and options.metadata:
            from batchcheck.cache import ScanCache

            cache = ScanCache(options.cache_dir, root, options.read)
            cached = cache.load()
        workers = options.workers or default_workers()
        done = progress.add_experiments if progress is not None else (lambda _n: None)
        reads = Reads(jobs, options.read, cached, workers, done)
    link_cache = None
    if options.cache_dir is not None and options.batches is None:  # worth it for all batches
        from batchcheck.cache import LinkCache

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
    return Store(
        root=root,
        batches=batches,
        experiments=dict(sorted(scanner.experiments.items())),
        shared_symlinks=tuple(sorted(scanner.shared_symlinks, key=lambda s: s.path)),
        problems=tuple(scanner.problems),
        shared_datasets=tuple(scanner.shared_datasets),
        shared_complete=options.shared == "all" and options.datasets is None,
        batches_complete=options.batches is None,
        data_checked=options.data,
        stats=dict(scanner.stats),
        stamps=stamps,
    )


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
        data_checked=options.data,
        stats=dict(scanner.stats),
    )
