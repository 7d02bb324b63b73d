"""The size of every experiment folder, measured in forked worker processes while the main
process runs ``check``: on a large store, walking the folders costs as much as the check."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from batchcheck.forking import PARALLEL_MIN, fork_pool
from batchcheck.model import Store
from batchcheck.report.facts import Key
from batchcheck.scan.experiments import tree_size

SIZE_CHUNK = 2000  # experiment folders measured by one task of a worker process


@dataclass(frozen=True, slots=True)
class Sizes:
    """What :func:`tree_size` says of each experiment folder."""

    by_key: dict[Key, int]  # apparent size in bytes
    unreadable: int  # folders that could not be read completely


@contextlib.contextmanager
def measuring(store: Store, workers: int) -> Iterator[Callable[[], Sizes]]:
    """The size of every experiment folder (:func:`tree_size`): yields a function that waits
    for them.

    The scan measured the folders it read afresh (``Experiment.size``); the ones it took from
    its cache (which keeps no sizes: a data file rewritten in place changes no stamp) are
    measured here, in the background. A large store's are shared among ``workers`` forked
    processes, started at once so that they measure while this process runs check.
    """
    experiments = store.experiments
    folders = [exp.location for exp in experiments.values() if exp.size is None]

    def merged(measured: Iterable[tuple[int, bool]]) -> Sizes:
        fresh = iter(measured)
        by_key, unreadable = {}, 0
        for key, exp in experiments.items():
            size, complete = exp.size if exp.size is not None else next(fresh)
            by_key[key] = size
            unreadable += not complete
        return Sizes(by_key, unreadable)

    pool = fork_pool(workers) if workers > 1 and len(folders) >= PARALLEL_MIN else None
    if pool is None:
        yield lambda: merged(tree_size(folder) for folder in folders)
        return
    with pool:
        chunks = [folders[i : i + SIZE_CHUNK] for i in range(0, len(folders), SIZE_CHUNK)]
        futures = [pool.submit(_tree_sizes, chunk) for chunk in chunks]
        try:
            yield lambda: merged(size for future in futures for size in future.result())
        finally:
            for future in futures:
                future.cancel()


def _tree_sizes(folders: list[str]) -> list[tuple[int, bool]]:
    return [tree_size(folder) for folder in folders]
