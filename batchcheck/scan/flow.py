"""Keeping requests in flight: small I/O tasks run on a pool of threads when the filesystem makes
each call wait, one after another in this thread when it does not.

On NFS, Lustre, GPFS or a FUSE mount every ``lstat``, ``readlink`` and ``open`` is a round
trip, and a scan that makes them one at a time waits for each in turn; CPython releases the
GIL during a system call, so ``threads`` threads keep that many requests in flight. On a local
disk the same calls return at once and threads would only take turns at the GIL (a third
slower, measured), so there the tasks run in the calling thread and the scan's CPU-bound part
uses worker processes instead (``forking``). ``Pace`` (``scan.beneath``) tells the two apart.

A task's work may return more tasks (a batch folder's dataset folders, say): they are queued
as soon as it finishes, so the pool never waits for a whole level. Tasks are taken in the
order given, which the scanner interleaves across folders: the kernel may serialise the
first lookups of names within one folder, so neighbours would queue behind each other.
``concurrent.futures`` runs the threads; completions come back through one queue (``wait()``
would look at every pending future for each completion).
"""

from __future__ import annotations

import itertools
import queue
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Work = a task's result and the tasks it leads to.
Work = Callable[[T], "tuple[R, Sequence[T]]"]


def interleave(groups: Iterable[Sequence[T]]) -> list[T]:
    """Round-robin over the groups: ``[a1, b1, c1, a2, b2, ...]``."""
    gap: Any = object()
    return [x for row in itertools.zip_longest(*groups, fillvalue=gap) for x in row if x is not gap]


class Flow:
    """Runs I/O tasks on ``threads`` threads when ``threaded``, else here, in order.

    ``slow`` (None: never threaded) says whether the filesystem makes calls wait; it is asked
    once, when the flow is first used, and the answer holds for the rest of the run.
    """

    def __init__(self, threads: int, slow: Callable[[], bool] | None = None) -> None:
        self.threads = max(1, threads)
        self._slow = slow
        self._threaded: bool | None = None if slow is not None and self.threads > 1 else False
        self._executor: ThreadPoolExecutor | None = None

    @property
    def threaded(self) -> bool:
        """Whether tasks run on the threads (settled on first use)."""
        if self._threaded is None:
            assert self._slow is not None
            self._threaded = self._slow()
        return self._threaded

    def __enter__(self) -> Flow:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the threads (after the tasks already started)."""
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)
            self._executor = None

    def executor(self) -> ThreadPoolExecutor:
        """The pool's threads, started on first use."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="batchcheck-io")
        return self._executor

    def run(self, tasks: Iterable[T], work: Work[T, R]) -> Iterator[tuple[T, R]]:
        """Each task with its result, as they finish; the tasks a result leads to are run too.

        Threaded, at most twice as many tasks as threads are handed out at a time, so a long
        list of tasks costs no more memory than the list.
        """
        todo: deque[T] = deque(tasks)
        if not self.threaded:
            while todo:
                task = todo.popleft()
                result, more = work(task)
                todo.extend(more)
                yield task, result
            return
        pool = self.executor()
        finished: queue.SimpleQueue[tuple[T, Future[tuple[R, Sequence[T]]]]] = queue.SimpleQueue()
        running = 0
        try:
            while todo or running:
                while todo and running < 2 * self.threads:
                    task = todo.popleft()
                    future = pool.submit(work, task)
                    future.add_done_callback(partial(_finished, finished, task))
                    running += 1
                task, future = finished.get()
                running -= 1
                result, more = future.result()  # a bug in the work is raised here
                todo.extend(more)
                yield task, result
        finally:
            if running:  # stopped early (an error): let the running tasks end, start no more
                todo.clear()

    def map(self, work: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``[work(item) for item in items]``, on the threads once ``threaded``."""
        out: list[R | None] = [None] * len(items)
        indexed = list(enumerate(items))
        for (i, _), result in self.run(indexed, partial(_indexed, work)):
            out[i] = result
        return out  # type: ignore[return-value]


def _indexed(work: Callable[[T], R], task: tuple[int, T]) -> tuple[R, Sequence[tuple[int, T]]]:
    return work(task[1]), ()


def _finished(out: queue.SimpleQueue[tuple[T, Future[R]]], task: T, future: Future[R]) -> None:
    out.put((task, future))
