"""``resolve-data-path``: a batch path to its shared path, a shared path to the batches that
link it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from batchcheck.errors import NotFound
from batchcheck.layout import BATCH_PREFIX, SHARED
from batchcheck.lookups.common import Json, data_path, find_batch, link_problem
from batchcheck.model import Link, LinkState, Store
from batchcheck.names import decoded, display, shown_path


@dataclass(frozen=True)
class PathQuery:
    """What a PATH names in the store: a batch link or a shared experiment."""

    path: Path
    kind: str  # "batch" or "shared"
    batch: str | None
    dataset: str
    name: str


def parse_store_path(text: str, root: Path, cwd: Path) -> PathQuery:
    """Place PATH (relative to ``cwd`` or absolute) in the store; NotFound when it names nothing.

    Accepts ``<batch>/<Dataset>/<exp>`` and ``_shared/<Dataset>/<exp>``, each with or without
    the training data folder ``/<Dataset>`` (or a file below it).
    """
    path = Path(os.path.abspath(cwd / text))
    parts: tuple[str, ...] | None = None
    for base in dict.fromkeys((str(root), os.path.realpath(root))):
        if str(path) == base:
            parts = ("",)
        elif str(path).startswith(base.rstrip(os.sep) + os.sep):
            parts = Path(str(path)[len(base.rstrip(os.sep)) + 1 :]).parts
        if parts is not None:
            break
    if parts is None:
        raise NotFound(f"{display(text)}: outside the store {shown_path(root, cwd)}")
    top = parts[0]
    shape = len(parts) == 3 or (len(parts) >= 4 and parts[3] == parts[1])
    if not shape or not (top == SHARED or top.startswith(BATCH_PREFIX)):
        raise NotFound(
            f"{display(text)}: not an experiment path (expected <batch>/<Dataset>/<experiment> "
            f"or {SHARED}/<Dataset>/<experiment>, optionally with /<Dataset>)"
        )
    kind = "shared" if top == SHARED else "batch"
    return PathQuery(path, kind, None if kind == "shared" else top, parts[1], parts[2])


@dataclass(frozen=True)
class Resolution:
    """A batch path and its shared path, or a shared path and the batches that link it."""

    query: PathQuery
    shared: Path  # the shared experiment folder
    dataset: str  # the shared experiment's dataset
    links: tuple[Link, ...]  # the given link, or every link naming the shared experiment

    def to_json(self, cwd: Path) -> Json:
        """``{"query", "kind", "dataset", "experiment", "shared_path", ..., "batch_paths"}``."""
        return {
            "query": shown_path(self.query.path, cwd),
            "kind": self.query.kind,
            "dataset": decoded(self.dataset),
            "experiment": decoded(self.shared.name),
            "shared_path": shown_path(self.shared, cwd),
            "shared_data_path": shown_path(data_path(self.shared, self.dataset), cwd),
            "batch_paths": [
                {
                    "batch": decoded(link.batch),
                    "path": shown_path(link.path, cwd),
                    "data_path": shown_path(data_path(link.path, link.dataset), cwd),
                    "link": link.state.value,
                }
                for link in self.links
            ],
        }


def resolve_batch_path(store: Store, query: PathQuery) -> Resolution:
    """The shared experiment behind a batch link; NotFound when the link does not lead to one."""
    assert query.batch is not None
    batch = find_batch(store, query.batch)
    link = next((li for li in batch.datasets.get(query.dataset, ()) if li.name == query.name), None)
    shown = shown_path(query.path)
    if link is None:
        raise NotFound(f"{shown}: no such link in batch {display(batch.name)}")
    if link.state is not LinkState.OK or link.key is None:
        raise NotFound(f"{shown}: {link_problem(link)}")
    return Resolution(query, store.root / SHARED / link.key[0] / link.key[1], link.key[0], (link,))


def resolve_shared_path(store: Store, found: Store, query: PathQuery) -> Resolution:
    """Every batch link of ``store`` naming the shared experiment, which ``found`` must hold.

    No link is fine: an orphan is still found, it just has no batch path.
    """
    key = (query.dataset, query.name)
    if key not in found.experiments:
        raise NotFound(f"{shown_path(query.path)}: no shared experiment {display('/'.join(key))}")
    links = sorted(
        (link for link in store.links() if link.key == key),
        key=lambda li: (li.batch, li.dataset, li.name),
    )
    return Resolution(query, found.experiments[key].path, query.dataset, tuple(links))
