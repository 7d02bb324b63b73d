"""kill -9 at random points of ``mv``, ``gc``, ``check --fix`` and ``link``: the store is whole
after every kill, and running the same command again finishes the job.

Each run is the real CLI in its own process, on a store big enough that its writes take a
while; the test waits until the first write shows on disk, sleeps a random part of the time
an uninterrupted run took from there (seeded, so a failure replays) and sends SIGKILL. What a
kill may leave is checked entry by entry: every entry is either as it was or as the command
makes it, never both or neither, and the only other thing left is a hidden temporary (ignored
by every reader).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import Cli, experiment, make_tree

KILLS = 4  # per operation, after one run left to finish that times the writes
SEED = 16
BATCHES = 1000


class Killer:
    """Runs ``batchcheck`` as a process and SIGKILLs it at a random moment of its work.

    The first run is left to finish and timed from its first write (``started()`` holds) to
    its exit; every later run is killed after a delay drawn uniformly from that span (seeded,
    so a failure replays), which keeps the kills inside the writes on a fast or a slow machine.
    """

    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.span: float | None = None
        self.interrupted = 0  # kills that came before the run ended by itself

    def runs(self) -> Iterator[int]:
        """The run that times, then the runs that are killed; while none was killed before it
        ended (a loaded machine, a slow first run), a few more with shorter delays."""
        yield from range(KILLS + 1)
        for extra in range(KILLS + 1, KILLS + 5):
            if self.interrupted or self.span is None:
                return
            self.span /= 2
            yield extra

    def run(
        self,
        argv: list[str],
        cwd: Path,
        started: Callable[[], bool],
        ended: Callable[[], bool] | None = None,
    ) -> None:
        """Run ``batchcheck *argv`` in ``cwd``; time it (until it exits, or until ``ended()``
        holds: the writes that matter are over), or kill it."""
        env = {k: v for k, v in os.environ.items() if k != "BATCHCHECK_ROOT"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "batchcheck", "--no-cache", *argv],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while not started() and proc.poll() is None:
            assert time.monotonic() < deadline, "the command never started writing"
            time.sleep(0.0002)
        first = time.monotonic()
        if self.span is None:
            while ended is not None and not ended() and proc.poll() is None:
                time.sleep(0.0002)
            self.span = time.monotonic() - first
            assert proc.wait() == 0
            return
        time.sleep(self.rng.uniform(0, self.span))
        self.interrupted += proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def _hidden(folder: Path) -> Iterator[Path]:
    return (p for p in folder.iterdir() if p.name.startswith("."))


def _only_temporary_links(folder: Path) -> None:
    """What a kill may leave in a batch folder besides whole entries: temporary links."""
    for path in _hidden(folder):
        assert path.is_symlink() and ".tmp-" in path.name, path


OLD, NEW = "temp07_topp09_gpt4o", "temp07_topp09_gpt4o_v2"


def _assert_move_whole(root: Path, old: str, new: str) -> None:
    before, after = root / "_shared/Copa" / old, root / "_shared/Copa" / new
    assert before.is_dir() != after.is_dir()  # the folder is in exactly one place, whole
    assert ((after if after.is_dir() else before) / "Copa/train.jsonl").is_file()
    targets = {f"../../_shared/Copa/{old}/", f"../../_shared/Copa/{new}/"}
    for batch in root.glob("batch_*"):
        entries = [p for p in (batch / "Copa").iterdir() if not p.name.startswith(".")]
        assert len(entries) == 1, entries  # the link under one name, never both or neither
        (link,) = entries
        assert link.name in (old, new) and os.readlink(link) in targets
        assert not (link.name == new and os.readlink(link).endswith(f"/{old}/"))
        _only_temporary_links(batch / "Copa")


def test_mv_killed_at_random_points(cli: Cli, tmp_path: Path) -> None:
    """One experiment linked by BATCHES batches, moved back and forth: every kill falls
    between the folder's rename and the end of the run."""
    root = make_tree(
        tmp_path / "Data_v2" / "synthetic",
        experiment("Copa", OLD, "batch_20250101_p0000", 0.7, 0.9),
    )
    for i in range(BATCHES):
        folder = root / f"batch_20250101_p{i:04d}" / "Copa"
        folder.mkdir(parents=True)
        os.symlink(f"../../_shared/Copa/{OLD}/", folder / OLD)
    killer = Killer()
    for i in killer.runs():
        old, new = (OLD, NEW) if i % 2 == 0 else (NEW, OLD)
        gone = root / "_shared/Copa" / old
        killer.run(["mv", f"Copa/{old}", new], tmp_path, lambda gone=gone: not gone.exists())
        _assert_move_whole(root, old, new)
        errors = cli("check", "--format", "json").json()["findings"]
        # Links not yet repointed dangle; experiment_name is rewritten last.
        assert {f["code"] for f in errors if f["severity"] == "error"} <= {"BC101", "BC303"}
        result = cli("mv", f"Copa/{old}", new)
        assert result.code == 0, result.err
        assert cli("check").code == 0
        links = [os.readlink(p) for p in root.glob(f"batch_*/Copa/{new}")]
        assert links == [f"../../_shared/Copa/{new}/"] * BATCHES
    assert killer.interrupted >= 1  # at least one kill landed in the middle


ORPHANS = 300


@pytest.fixture(scope="module")
def many_orphans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ORPHANS orphans of a few files each, and one linked experiment."""
    top = tmp_path_factory.mktemp("gc-template")
    spec = experiment("Copa", "kept", "batch_20250101_keep", 0.7, 0.9)
    spec["batch_20250101_keep/Copa/kept"] = "-> ../../_shared/Copa/kept/"
    for i in range(ORPHANS):
        spec.update(experiment("Copa", f"o{i:04d}", "batch_20241201_gone", i / 1000, 1.0))
        spec[f"_shared/Copa/o{i:04d}/Copa/more.jsonl"] = "{}\n" * 50
    make_tree(top / "Data_v2" / "synthetic", spec)
    return top


def _orphan_places(root: Path, archive: Path | None, name: str) -> list[str]:
    """Where orphan ``name`` is: the store, a hidden name in it, the archive."""
    shared = root / "_shared/Copa"
    places = ["store"] if (shared / name).is_dir() else []
    places += [p.name.split(".")[2].rsplit("-", 1)[0] for p in shared.glob(f".{name}.gc-*")]
    if archive is not None and (archive / "_shared/Copa" / name).is_dir():
        places.append("archive")
    return places


OTHER_FS = Path("/dev/shm")  # another filesystem for the archive, where there is one


def _other_filesystem(tmp_path: Path) -> Path:
    if not OTHER_FS.is_dir() or os.stat(OTHER_FS).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second filesystem to archive to")
    return Path(os.path.realpath(OTHER_FS)) / f"batchcheck-crash-{os.getpid()}"


# Where each orphan may be after a kill: never lost, never in the store and the archive both.
ALLOWED = {
    "archive": (["store"], ["gc-archive"], ["archive"]),
    "elsewhere": (
        ["store"],
        ["gc-archive"],
        ["archive"],
        ["gc-archive", "archive"],  # copied into place, not yet removed from the store
        ["gc-archived", "archive"],
    ),
    "delete": ([], ["store"], ["gc-delete"]),
}


@pytest.mark.parametrize("mode", ["archive", "elsewhere", "delete"])
def test_gc_killed_at_random_points(
    cli: Cli, many_orphans: Path, tmp_path: Path, mode: str
) -> None:
    """``elsewhere``: the archive on another filesystem, where orphans are copied."""
    elsewhere = _other_filesystem(tmp_path) if mode == "elsewhere" else None
    killer = Killer()
    try:
        for i in killer.runs():
            work = tmp_path / f"run{i}"  # a fresh copy of the store each time
            shutil.copytree(many_orphans, work, symlinks=True)
            root = work / "Data_v2" / "synthetic"
            archive = {"archive": work / "archive", "delete": None}.get(mode, elsewhere)
            argv = ["gc", "--archive", str(archive)] if archive else ["gc", "--delete", "--yes"]
            if elsewhere is not None:
                shutil.rmtree(elsewhere, ignore_errors=True)
            first = root / "_shared/Copa/o0000"
            killer.run(argv, work, lambda first=first: not first.exists())
            for n in range(ORPHANS):
                places = _orphan_places(root, archive, f"o{n:04d}")
                assert places in ALLOWED[mode], (n, places)
                where = (archive if "archive" in places else root) / "_shared/Copa" / f"o{n:04d}"
                if places in (["store"], ["archive"]):
                    assert (where / "Copa/more.jsonl").is_file()
            assert (root / "_shared/Copa/kept/Copa/train.jsonl").is_file()
            assert cli("check", cwd=work).code == 0
            result = cli(*argv, cwd=work)
            assert result.code == 0, result.out + result.err
            assert sorted(os.listdir(root / "_shared/Copa")) == ["kept"]
            if archive is not None:
                assert len(os.listdir(archive / "_shared/Copa")) == ORPHANS  # no copy left
    finally:
        if elsewhere is not None:
            shutil.rmtree(elsewhere, ignore_errors=True)
    assert killer.interrupted >= 1


FIXES = 200


def _break_links(root: Path) -> None:
    """Each experiment linked three broken ways: absolute, as a file, misnamed."""
    for i in range(FIXES):
        name = f"e{i:04d}"
        absolute = root / "batch_20250101_abs/Copa" / name
        absolute.unlink(missing_ok=True)
        os.symlink(f"{root}/_shared/Copa/{name}", absolute)
        restored = root / "batch_20250101_file/Copa" / name
        restored.unlink(missing_ok=True)
        restored.write_text(f"../../_shared/Copa/{name}/", "utf-8")
        named = root / "batch_20250101_named/Copa"
        if (named / name).is_symlink():
            os.rename(named / name, named / f"alias_{name}")


def _assert_fixes_whole(root: Path) -> None:
    for i in range(FIXES):
        name = f"e{i:04d}"
        relative = f"../../_shared/Copa/{name}/"
        absolute = root / "batch_20250101_abs/Copa" / name
        assert os.readlink(absolute) in (f"{root}/_shared/Copa/{name}", relative)
        restored = root / "batch_20250101_file/Copa" / name
        assert restored.is_symlink() or restored.read_text("utf-8") == relative
        named = root / "batch_20250101_named/Copa"
        assert (named / f"alias_{name}").is_symlink() != (named / name).is_symlink()
    for batch in root.glob("batch_*"):
        _only_temporary_links(batch / "Copa")


def test_fix_killed_at_random_points(cli: Cli, tmp_path: Path) -> None:
    spec = {}
    for i in range(FIXES):
        name = f"e{i:04d}"
        spec.update(experiment("Copa", name, "batch_20250101_abs", i / 1000, 1.0))
        spec[f"batch_20250101_named/Copa/alias_{name}"] = f"-> ../../_shared/Copa/{name}/"
    spec["batch_20250101_abs/Copa"] = None
    spec["batch_20250101_file/Copa"] = None
    root = make_tree(tmp_path / "Data_v2" / "synthetic", spec)
    killer = Killer()
    first = root / "batch_20250101_abs/Copa/e0000"
    for _ in killer.runs():
        _break_links(root)
        killer.run(["check", "--fix"], tmp_path, lambda: not os.readlink(first).startswith("/"))
        _assert_fixes_whole(root)
        errors = cli("check", "--format", "json").json()["findings"]
        assert {f["code"] for f in errors if f["severity"] == "error"} <= {"BC106"}
        result = cli("check", "--fix")
        assert result.code == 0, result.out[-2000:] + result.err
        assert cli("check", "--strict").code == 0
    assert killer.interrupted >= 1


LINKED = 600  # experiments linked into one new batch, over three datasets
NEW_BATCH = "batch_20250107_reuse"


def _linked_keys() -> list[str]:
    return [f"{('Copa', 'CB', 'RTE')[i % 3]}/e{i:04d}" for i in range(LINKED)]


def _assert_batch_whole_or_absent(root: Path) -> bool:
    """The new batch is absent or holds every link; nothing else but hidden staging folders
    of it. Whether a staging folder was left (the kill landed while it was being filled)."""
    batch = root / NEW_BATCH
    if batch.exists():
        links = {
            f"{dataset.name}/{link.name}": os.readlink(link)
            for dataset in batch.iterdir()
            for link in dataset.iterdir()
        }
        assert links == {key: f"../../_shared/{key}/" for key in _linked_keys()}
    hidden = [p.name for p in _hidden(root)]
    assert all(name.startswith(f".{NEW_BATCH}.link-") for name in hidden), hidden
    return bool(hidden)


def test_link_of_a_new_batch_killed_at_random_points(cli: Cli, tmp_path: Path) -> None:
    """The batch is filled under a hidden name and renamed into place: after any kill it is
    absent or whole, never empty or half-filled; a rerun makes it and removes what the killed
    run left."""
    spec: dict[str, object] = {}
    for i, key in enumerate(_linked_keys()):
        dataset, name = key.split("/")
        spec.update(experiment(dataset, name, "batch_20250101_gen", i / 10000, 1.0))
    spec["batch_20250101_gen/Copa/e0000"] = "-> ../../_shared/Copa/e0000/"
    root = make_tree(tmp_path / "Data_v2" / "synthetic", spec)
    argv = ["link", NEW_BATCH, *_linked_keys()]
    batch = root / NEW_BATCH
    killer = Killer()
    staged = 0
    for _ in killer.runs():
        killer.run(
            argv,
            tmp_path,
            lambda: any(_hidden(root)) or batch.exists(),
            ended=batch.exists,  # the rename is the last write
        )
        staged += _assert_batch_whole_or_absent(root)
        result = cli(*argv)
        assert result.code == 0, result.err
        assert not _assert_batch_whole_or_absent(root)  # the leftover was removed
        assert batch.exists()
        assert cli("check").code == 0
        shutil.rmtree(batch)
    assert killer.interrupted >= 1
    assert staged >= 1  # at least one kill landed while the batch was being filled
