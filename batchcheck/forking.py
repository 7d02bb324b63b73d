"""Worker processes forked from this one, for the parts of a large scan or report that split.

Forked workers inherit what the parent holds (a loaded cache, a built report), so nothing big
is pickled on the way in. The multiprocessing modules are imported only when a pool is made:
most commands never need one, and they cost start-up time.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

PARALLEL_MIN = 4000  # below this many experiments, starting workers costs more than it saves


def default_workers() -> int:
    """One worker per core the process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def fork_pool(workers: int) -> ProcessPoolExecutor | None:
    """A pool of ``workers`` forked processes; None where fork is not available (run inline)."""
    import multiprocessing

    if workers < 1 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
