"""One scan of a store into a frozen, plain model: batches, their links, shared experiments.

The scan reads only what it is asked for (one batch, the experiments some links name, or
everything) and records every problem it meets on the model instead of raising: rules and
listings decide what a problem means. A symlink is never followed out of the root, and a
symlink inside ``_shared`` is never followed at all.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from batchcheck.metadata import Metadata, read_metadata
from batchcheck.names import is_hidden

SHARED = "_shared"
BATCH_PREFIX = "batch_"
METADATA_FILE = "experiment_metadata.json"
MAX_HOPS = 40
POINTER_FILE_MAX = 1024


class LinkState(str, Enum):
    """Where a batch link leads, judged without following it out of the root."""

    OK = "ok"  # _shared/<its dataset>/<experiment>, a real experiment folder
    DANGLING = "dangling"  # the target does not exist
    OUTSIDE = "outside"  # the target leaves the root: not followed
    MISPLACED = "misplaced"  # exists inside the root but is not _shared/<its dataset>/<exp>
    LOOP = "loop"  # too many levels of symlinks
    UNREADABLE = "unreadable"  # a folder on the way cannot be read


class DataState(str, Enum):
    """The training data folder ``<experiment>/<Dataset>``."""

    OK = "ok"
    MISSING = "missing"
    EMPTY = "empty"
    NOT_DIR = "not a folder"
    SYMLINK = "a symlink (not followed)"
    UNREADABLE = "unreadable"
    UNCHECKED = "unchecked"


@dataclass(frozen=True)
class Link:
    """A symlink in ``<batch>/<Dataset>/``, with its raw target text and where it leads."""

    batch: str
    dataset: str
    name: str
    path: Path
    target: str
    state: LinkState
    # The (dataset, experiment) the target names when it lies right under _shared/.
    key: tuple[str, str] | None
    detail: str = ""

    @property
    def absolute(self) -> bool:
        """An absolute target breaks as soon as the store moves."""
        return os.path.isabs(self.target)


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
        for links in self.datasets.values():
            yield from links


@dataclass(frozen=True)
class Experiment:
    """A physical experiment ``_shared/<dataset>/<name>/`` with its metadata as read."""

    dataset: str
    name: str
    path: Path
    metadata: Metadata
    data: DataState = DataState.UNCHECKED

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
    shared_complete: bool = False
    batches_complete: bool = False
    data_checked: bool = False
    stats: Mapping[str, int] = field(default_factory=dict)

    def links(self) -> Iterator[Link]:
        """Every link of every scanned batch."""
        for batch in self.batches.values():
            yield from batch.links

    def datasets(self) -> list[str]:
        """Dataset names seen in ``_shared`` or in any batch, sorted."""
        names = {key[0] for key in self.experiments}
        for batch in self.batches.values():
            names.update(batch.datasets)
        return sorted(names)


@dataclass(frozen=True)
class ScanOptions:
    """What to read. ``batches=None`` reads every batch; ``shared`` is all, linked or none.

    ``none`` reads no experiment: a link is judged only by whether its target folder exists.
    """

    batches: tuple[str, ...] | None = None
    shared: str = "all"
    metadata: bool = True
    data: bool = True
    max_metadata_bytes: int = 1024 * 1024
    metadata_reader: Callable[[Path, os.stat_result | None, int], Metadata] = read_metadata


def _entries(path: Path) -> list[os.DirEntry[str]]:
    """Visible entries of a folder, sorted by name. Raises OSError like os.scandir."""
    with os.scandir(path) as it:
        return sorted((e for e in it if not is_hidden(e.name)), key=lambda e: e.name)


def _kind(entry: os.DirEntry[str]) -> str:
    try:
        if entry.is_symlink():
            return "symlink"
        if entry.is_dir(follow_symlinks=False):
            return "folder"
        if entry.is_file(follow_symlinks=False):
            return "file"
    except OSError:
        return "vanished"
    return "special file"


def _real_dir(path: Path) -> bool:
    """A folder that is not a symlink (lstat: never followed)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


class _Scanner:
    """Reads a store; one instance per scan, so lazily loaded experiments are read once."""

    def __init__(self, root: Path, options: ScanOptions) -> None:
        self.root = root
        self.root_str = str(root)
        self.options = options
        self.experiments: dict[tuple[str, str], Experiment] = {}
        self.absent: set[tuple[str, str]] = set()  # looked up and not a real folder
        self.present: set[tuple[str, str]] = set()  # looked up and a real folder
        self.shared_symlinks: list[SharedSymlink] = []
        self.problems: list[Problem] = []
        self.shared_dirs: dict[str, bool] = {}  # dataset -> is a real, readable folder
        self.stats = {"folders": 0, "links": 0, "metadata": 0}

    # -- _shared -------------------------------------------------------------------------

    def _shared_root_ok(self) -> bool:
        if SHARED not in self.shared_dirs:
            path = self.root / SHARED
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                self.shared_dirs[SHARED] = False
                return False
            except OSError as exc:
                self.problems.append(Problem(path, f"cannot read: {_reason(exc)}"))
                self.shared_dirs[SHARED] = False
                return False
            if stat.S_ISLNK(st.st_mode):
                self.shared_symlinks.append(SharedSymlink(path, os.readlink(path)))
            self.shared_dirs[SHARED] = stat.S_ISDIR(st.st_mode)
        return self.shared_dirs[SHARED]

    def scan_shared(self) -> None:
        """Read every experiment under ``_shared``."""
        if not self._shared_root_ok():
            return
        shared = self.root / SHARED
        try:
            datasets = _entries(shared)
        except OSError as exc:
            self.problems.append(Problem(shared, f"cannot read: {_reason(exc)}"))
            return
        self.stats["folders"] += 1
        for ds in datasets:
            kind = _kind(ds)
            path = shared / ds.name
            if kind == "symlink":
                self._shared_symlink(path)
                continue
            if kind != "folder":
                continue
            try:
                experiments = _entries(path)
            except OSError as exc:
                self.problems.append(Problem(path, f"cannot read: {_reason(exc)}"))
                self.shared_dirs[ds.name] = False
                continue
            self.stats["folders"] += 1
            self.shared_dirs[ds.name] = True
            for exp in experiments:
                exp_kind = _kind(exp)
                if exp_kind == "symlink":
                    self._shared_symlink(path / exp.name)
                elif exp_kind == "folder":
                    self._scan_experiment(ds.name, exp.name)

    def _shared_symlink(self, path: Path) -> None:
        with contextlib.suppress(OSError):  # vanished since the folder was listed
            self.shared_symlinks.append(SharedSymlink(path, os.readlink(path)))

    def experiment(self, dataset: str, name: str) -> Experiment | None:
        """The experiment at ``_shared/dataset/name``, read on first use; None if not a folder."""
        key = (dataset, name)
        if key in self.experiments:
            return self.experiments[key]
        if self.options.shared == "all" or not self._is_folder(dataset, name):
            return None
        return self._scan_experiment(dataset, name)

    def _is_folder(self, dataset: str, name: str) -> bool:
        """Whether ``_shared/dataset/name`` is a real folder, by lstat alone (remembered)."""
        key = (dataset, name)
        if key in self.present:
            return True
        if key in self.absent or not self._shared_root_ok():
            return False
        if dataset not in self.shared_dirs:
            self.shared_dirs[dataset] = _real_dir(self.root / SHARED / dataset)
        if not (self.shared_dirs[dataset] and _real_dir(self.root / SHARED / dataset / name)):
            self.absent.add(key)
            return False
        self.present.add(key)
        return True

    def _scan_experiment(self, dataset: str, name: str) -> Experiment:
        path = self.root / SHARED / dataset / name
        opts = self.options
        try:
            entries = {e.name: e for e in _entries(path)}
        except OSError as exc:
            reason = f"cannot read the experiment folder: {_reason(exc)}"
            meta = Metadata.failed("unreadable", reason)
            exp = Experiment(dataset, name, path, meta)
            self.experiments[exp.key] = exp
            return exp
        self.stats["folders"] += 1
        for entry in entries.values():
            if _kind(entry) == "symlink":
                self._shared_symlink(path / entry.name)
        meta_entry = entries.get(METADATA_FILE)
        if not opts.metadata:
            meta = Metadata.failed("unread", "")
        elif meta_entry is None:
            meta = Metadata.failed("missing", f"{METADATA_FILE} is missing")
        elif _kind(meta_entry) == "symlink":
            meta = Metadata.failed("unreadable", f"{METADATA_FILE} is a symlink (not followed)")
        elif _kind(meta_entry) != "file":
            meta = Metadata.failed("unreadable", f"{METADATA_FILE} is not a regular file")
        else:
            try:
                st: os.stat_result | None = meta_entry.stat(follow_symlinks=False)
            except OSError:
                st = None
            meta = opts.metadata_reader(path / METADATA_FILE, st, opts.max_metadata_bytes)
            self.stats["metadata"] += 1
        data = self._data_state(path, entries.get(dataset)) if opts.data else DataState.UNCHECKED
        exp = Experiment(dataset, name, path, meta, data)
        self.experiments[exp.key] = exp
        return exp

    def _data_state(self, path: Path, entry: os.DirEntry[str] | None) -> DataState:
        if entry is None:
            return DataState.MISSING
        kind = _kind(entry)
        if kind == "symlink":
            return DataState.SYMLINK
        if kind != "folder":
            return DataState.MISSING if kind == "vanished" else DataState.NOT_DIR
        try:
            with os.scandir(entry.path) as it:
                has_any = any(not is_hidden(e.name) for e in it)
        except FileNotFoundError:
            return DataState.MISSING
        except OSError:
            return DataState.UNREADABLE
        self.stats["folders"] += 1
        return DataState.OK if has_any else DataState.EMPTY

    # -- batches ------------------------------------------------------------------------

    def batch_names(self) -> list[str]:
        """Every ``batch_*`` entry at the top of the root (folders or not)."""
        try:
            return [e.name for e in _entries(self.root) if e.name.startswith(BATCH_PREFIX)]
        except OSError as exc:
            self.problems.append(Problem(self.root, f"cannot read: {_reason(exc)}"))
            return []

    def scan_batch(self, name: str) -> Batch | None:
        """Read one batch's links (resolved against ``_shared``); None if it is not a folder."""
        path = self.root / name
        try:
            st = os.lstat(path)
        except OSError:
            return None
        if not stat.S_ISDIR(st.st_mode):
            kind = "symlink" if stat.S_ISLNK(st.st_mode) else "file"
            return Batch(name, path, {}, strays=(Stray(name, None, name, path, kind),))
        strays: list[Stray] = []
        problems: list[Problem] = []
        datasets: dict[str, tuple[Link, ...]] = {}
        try:
            entries = _entries(path)
        except OSError as exc:
            problems.append(Problem(path, f"cannot read: {_reason(exc)}", name))
            return Batch(name, path, {}, problems=tuple(problems))
        self.stats["folders"] += 1
        for ds in entries:
            ds_path = path / ds.name
            kind = _kind(ds)
            if kind == "vanished":
                continue
            if kind != "folder":
                strays.append(Stray(name, None, ds.name, ds_path, kind, self._pointer(ds)))
                continue
            try:
                items = _entries(ds_path)
            except OSError as exc:
                problems.append(Problem(ds_path, f"cannot read: {_reason(exc)}", name))
                continue
            self.stats["folders"] += 1
            links: list[Link] = []
            for item in items:
                item_kind = _kind(item)
                if item_kind == "symlink":
                    try:
                        target = os.readlink(item.path)
                    except OSError:
                        continue  # vanished since the folder was listed
                    self.stats["links"] += 1
                    links.append(self._link(name, ds.name, item.name, ds_path / item.name, target))
                elif item_kind != "vanished":
                    strays.append(
                        Stray(
                            name,
                            ds.name,
                            item.name,
                            ds_path / item.name,
                            item_kind,
                            self._pointer(item),
                        )
                    )
            datasets[ds.name] = tuple(links)
        return Batch(name, path, datasets, tuple(strays), tuple(problems))

    @staticmethod
    def _pointer(entry: os.DirEntry[str]) -> str | None:
        """The path a small text file holds, as git writes a symlink without symlink support."""
        if _kind(entry) != "file":
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

    def _link(self, batch: str, dataset: str, name: str, path: Path, target: str) -> Link:
        rel_parts = self._lexical(path.parent, target)
        if rel_parts is None:
            return Link(
                batch,
                dataset,
                name,
                path,
                target,
                LinkState.OUTSIDE,
                None,
                "the target leaves the store",
            )
        key = (
            (rel_parts[1], rel_parts[2]) if len(rel_parts) >= 3 and rel_parts[0] == SHARED else None
        )
        if len(rel_parts) == 3 and key and self._plain(target, path):
            if self.options.shared == "none":
                exists = self._is_folder(*key)
            else:
                exists = self.experiment(*key) is not None
            if exists:
                if key[0] != dataset:
                    return Link(
                        batch,
                        dataset,
                        name,
                        path,
                        target,
                        LinkState.MISPLACED,
                        key,
                        f"the target is in dataset {key[0]!r}, not {dataset!r}",
                    )
                return Link(batch, dataset, name, path, target, LinkState.OK, key)
        state, detail = self._walk(path.parent, target, dataset)
        return Link(batch, dataset, name, path, target, state, key, detail)

    def _lexical(self, base: Path, target: str) -> tuple[str, ...] | None:
        """The target's parts relative to the root, or None if its text leaves the root."""
        joined = os.path.normpath(os.path.join(base, target))
        if joined == self.root_str:
            return ()
        prefix = self.root_str.rstrip(os.sep) + os.sep
        if not joined.startswith(prefix):
            return None
        return tuple(joined[len(prefix) :].split(os.sep))

    def _plain(self, target: str, link: Path) -> bool:
        """Leading ``..`` that stay inside the root, then plain names: lexical == physical."""
        parts = [p for p in target.split("/") if p not in ("", ".")]
        if os.path.isabs(target):
            return ".." not in parts
        ups = 0
        while ups < len(parts) and parts[ups] == "..":
            ups += 1
        depth = len(link.parent.relative_to(self.root).parts)
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


def scan(root: Path, options: ScanOptions | None = None) -> Store:
    """Read ``root`` once, as far as ``options`` asks, into a :class:`Store`."""
    options = options or ScanOptions()
    scanner = _Scanner(root, options)
    if options.shared == "all":
        scanner.scan_shared()
    names = scanner.batch_names() if options.batches is None else list(options.batches)
    batches: dict[str, Batch] = {}
    for name in names:
        batch = scanner.scan_batch(name)
        if batch is not None:
            batches[name] = batch
    return Store(
        root=root,
        batches=batches,
        experiments=dict(sorted(scanner.experiments.items())),
        shared_symlinks=tuple(sorted(scanner.shared_symlinks, key=lambda s: s.path)),
        problems=tuple(scanner.problems),
        shared_complete=options.shared == "all",
        batches_complete=options.batches is None,
        data_checked=options.data,
        stats=dict(scanner.stats),
    )


def load_experiments(
    root: Path, keys: Iterable[tuple[str, str]], options: ScanOptions | None = None
) -> Store:
    """A store holding only the named shared experiments (for lookups that show a few)."""
    options = options or ScanOptions(batches=(), shared="linked")
    scanner = _Scanner(root, options)
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
