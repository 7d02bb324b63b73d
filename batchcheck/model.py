"""The frozen model one scan produces: batches and their links, shared experiments, and what
could not be read. Rules, lookups and the report import it without touching the scanner.

Links and experiments are named tuples: as immutable as frozen dataclasses and made four times
faster (a store has hundreds of thousands of them).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from itertools import chain
from pathlib import Path
from typing import NamedTuple

from batchcheck.metadata import Metadata


class DataState(str, Enum):
    """The training data folder ``<experiment>/<Dataset>``."""

    OK = "ok"
    MISSING = "missing"
    EMPTY = "empty"
    NOT_DIR = "not a folder"
    SYMLINK = "a symlink (not followed)"
    UNREADABLE = "unreadable"
    UNCHECKED = "unchecked"


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

    @property
    def destroyed_link(self) -> bool:
        """A file holding a path where a link belongs (in a dataset folder): BC106."""
        return self.pointer is not None and self.dataset is not None


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
    size: tuple[int, bool] | None = None  # scan.experiments.tree_size, when measured

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
