"""However the reading is spread (here in order, on I/O threads, in worker processes), a scan
gives the same store, and the flow keeps a request in flight per thread."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import TEMP, Cli, experiment, generated, link, make_tree

from batchcheck.forking import PARALLEL_MIN
from batchcheck.model import Store
from batchcheck.scan import ScanOptions, load_experiments, scan
from batchcheck.scan.beneath import Pace
from batchcheck.scan.flow import Flow, interleave


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough experiments for worker processes, and something wrong of every kind."""
    root = generated(tmp_path_factory.mktemp("flow") / "store", PARALLEL_MIN + 100, 40, 200)
    spec = {
        **experiment("Copa", "broken", TEMP, 0.5, 1.0),
        **link(TEMP, "Copa", "broken"),
        "_shared/Copa/broken/experiment_metadata.json": "{not json",
        "_shared/Copa/alias": "-> broken",
        f"{TEMP}/Copa/dangling": "-> ../../_shared/Copa/gone/",
        f"{TEMP}/Copa/through": "-> ../../_shared/Copa/alias",
        f"{TEMP}/Copa/up": "-> ../../..",
        f"{TEMP}/Copa/notes.txt": "a stray file\n",
        "_shared/Copa/no_data/experiment_metadata.json": "{}",
    }
    make_tree(root, spec)
    os.mkfifo(root / "_shared/Copa/no_data/Copa")
    return root


def scanned(root: Path, **how: object) -> Store:
    """The store, its stats left out (how many folders each process listed itself)."""
    return replace(scan(root, ScanOptions.of(**how)), stats={})


@pytest.mark.parametrize(
    "how",
    [
        {"shared": "all"},
        {"shared": "all", "symlinks": False, "data": False},
        {"shared": "none", "metadata": False, "data": False},
        {"shared": "linked", "batches": (TEMP, "batch_20210115_sweep0014")},
        {"shared": "none", "batches": (TEMP,)},
    ],
    ids=["check", "list-shared", "list-batches", "linked", "batch-only"],
)
def test_threads_and_processes_read_the_same_store(store: Path, how: dict[str, object]) -> None:
    alone = scanned(store, io="inline", workers=1, **how)
    assert scanned(store, io="threads", io_threads=8, workers=1, **how) == alone
    assert scanned(store, io="inline", workers=2, **how) == alone


def test_lookups_read_the_same_experiments_on_threads(store: Path) -> None:
    keys = [("Copa", "broken"), ("CB", "nothing"), ("Copa", "alias")]
    keys += [("Copa", p.name) for p in sorted((store / "_shared/Copa").iterdir())[:50]]
    inline = load_experiments(store, keys, ScanOptions.of(batches=(), shared="linked", io="inline"))
    threaded = load_experiments(
        store, keys, ScanOptions.of(batches=(), shared="linked", io="threads")
    )
    assert threaded.experiments == inline.experiments
    assert ("Copa", "alias") not in inline.experiments  # a symlink, never followed


def test_the_flow_keeps_one_request_in_flight_per_thread() -> None:
    """Tasks that wait (as a network round trip does) overlap on the threads, up to their
    number; the tasks a task leads to are run too."""
    lock, running, most = threading.Lock(), [0], [0]

    def work(task: int) -> tuple[int, list[int]]:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.01)  # sleeping releases the GIL, like a system call
        with lock:
            running[0] -= 1
        return task * 2, [task + 100] if task < 100 else []

    with Flow(8, lambda: True) as flow:
        done = dict(flow.run(range(40), work))
    assert sorted(done) == [*range(40), *range(100, 140)]
    assert done[7] == 14
    assert most[0] == 8
    with Flow(8, lambda: False) as flow:  # a fast filesystem: in order, in this thread
        assert [task for task, _ in flow.run(range(5), work)] == [
            0,
            1,
            2,
            3,
            4,
            100,
            101,
            102,
            103,
            104,
        ]


def test_the_pace_tells_a_waiting_filesystem_from_a_fast_one() -> None:
    fast, slow = Pace(), Pace()
    for ns in (3_000, 2_000, 5_000_000, 4_000, 3_000):  # one preempted call among fast ones
        fast.note(ns)
    for ns in (1_100_000, 900_000, 2_000_000):
        slow.note(ns)
    assert not fast.slow and slow.slow
    assert not Pace().slow and Pace(forced=True).slow


def test_interleave_takes_one_of_each_folder_in_turn() -> None:
    assert interleave([[1, 2, 3], [10], [20, 21]]) == [1, 10, 20, 2, 21, 3]


def test_io_threads_comes_from_the_command_line_or_pyproject(cli: Cli, tmp_path: Path) -> None:
    """``--io-threads N`` (before or after the command) over ``[tool.batchcheck] io_threads``;
    anything but a whole number from 1 to 1024 is a usage error."""
    from batchcheck.config import load_settings

    root = make_tree(tmp_path / "store", {**experiment("Copa", "e", TEMP, 0.5, 1.0)})
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.batchcheck]\nroot = "{root}"\nio_threads = 8\n', encoding="utf-8"
    )
    settings = load_settings(None, tmp_path)
    assert settings.io_threads == 8
    options = ScanOptions.from_settings(settings)
    assert options.io_threads == 8
    assert cli("--io-threads", "4", "list-batches").code == 0
    assert cli("list-batches", "--io-threads", "64").code == 0
    for bad in ("0", "1025", "x"):
        result = cli("--io-threads", bad, "list-batches")
        assert result.code == 2 and "--io-threads" in result.err
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.batchcheck]\nroot = "{root}"\nio_threads = 0\n', encoding="utf-8"
    )
    result = cli("list-batches")
    assert result.code == 2 and "io_threads must be from 1 to 1024" in result.err
