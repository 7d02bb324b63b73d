"""What each command reads on a generated store of a few thousand experiments.

Commands must stay fast at 100k experiments; the way to hold them to that without timing
anything is to count the files they open and the folders they list.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import generated

META = "experiment_metadata.json"
EXPERIMENTS, BATCHES, LINKS = 3000, 30, 200


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A healthy generated store: 3000 experiments, 30 batches of up to 200 links."""
    return generated(tmp_path_factory.mktemp("scale") / "store", EXPERIMENTS, BATCHES, LINKS)


def audited(root: Path, tmp_path: Path, *argv: str) -> tuple[int, list[str]]:
    """Run the CLI in a child process under the audit hook; return exit code and events."""
    log = tmp_path / "events.log"
    proc = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("audit_run.py")),
            str(log),
            "--",
            "--root",
            str(root),
            "--quiet",
            *argv,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, log.read_text(encoding="utf-8").splitlines()


def metadata_opened(events: list[str]) -> Counter[str]:
    """Metadata files opened, by experiment folder (dataset/name), with how often."""
    return Counter(
        "/".join(Path(e[5:]).parts[-3:-1])
        for e in events
        if e.startswith("open ") and e.endswith(META)
    )


def listed(events: list[str], root: Path) -> list[str]:
    """Folders listed, relative to the root."""
    prefix = f"scandir {root}"
    return [e[len(prefix) :].lstrip("/") for e in events if e.startswith(prefix)]


def linked(root: Path, batch: str) -> set[str]:
    """dataset/name of every experiment a batch links."""
    return {f"{p.parent.name}/{p.name}" for p in (root / batch).glob("*/*")}


def test_list_batches_opens_no_metadata(store: Path, tmp_path: Path) -> None:
    code, events = audited(store, tmp_path, "list-batches", "--verbose")
    assert code == 0
    assert not metadata_opened(events)
    # It may list _shared/<Dataset> to tell dangling links without a stat each, nothing deeper.
    assert not [d for d in listed(events, store) if len(Path(d).parts) > 2 and "_shared" in d]


def test_list_batch_experiments_reads_only_its_batch(store: Path, tmp_path: Path) -> None:
    batch = sorted(p.name for p in store.glob("batch_*"))[BATCHES // 2]
    code, events = audited(store, tmp_path, "list-batch-experiments", batch, "--verbose")
    assert code == 0
    opened = metadata_opened(events)
    assert set(opened) == linked(store, batch)
    assert max(opened.values()) == 1
    other = [d for d in listed(events, store) if d.startswith("batch_") and not d.startswith(batch)]
    assert other == []


def test_resolve_batch_path_reads_one_experiment(store: Path, tmp_path: Path) -> None:
    batch = sorted(p.name for p in store.glob("batch_*"))[3]
    link = sorted((store / batch).glob("*/*"))[0]
    code, events = audited(store, tmp_path, "resolve-data-path", str(link))
    assert code == 0
    assert sum(metadata_opened(events).values()) <= 1
    assert all(
        d.startswith(batch) or d.startswith("_shared") or d == "" for d in listed(events, store)
    )


def test_compare_shared_reads_two_experiments(store: Path, tmp_path: Path) -> None:
    names = sorted(p.name for p in (store / "_shared" / "Copa").iterdir())[:2]
    code, events = audited(
        store,
        tmp_path,
        "compare-experiments",
        "--shared",
        f"Copa/{names[0]}",
        "--shared",
        f"Copa/{names[1]}",
    )
    assert code == 0
    assert set(metadata_opened(events)) == {f"Copa/{n}" for n in names}
    assert not [d for d in listed(events, store) if d.startswith("batch_")]


def test_check_reads_every_metadata_once(store: Path, tmp_path: Path) -> None:
    code, events = audited(store, tmp_path, "check", "--no-cache")
    assert code == 0
    opened = metadata_opened(events)
    assert len(opened) == EXPERIMENTS
    assert set(opened.values()) == {1}
    folders = Counter(listed(events, store))
    assert max(folders.values()) == 1


@pytest.mark.parametrize("command", ["list-shared-experiments", "list-data-paths"])
def test_a_chosen_dataset_is_the_only_one_read(command: str, store: Path, tmp_path: Path) -> None:
    datasets = sorted(p.name for p in (store / "_shared").iterdir())
    chosen = datasets[0]
    code, events = audited(store, tmp_path, "--no-cache", command, "--dataset", chosen)
    assert code == 0
    read = {e for e in listed(events, store) if e.startswith("_shared/") and e.count("/") >= 2}
    assert read and all(e.startswith(f"_shared/{chosen}/") for e in read)  # experiment folders
    assert {key.split("/")[0] for key in metadata_opened(events)} <= {chosen}
    if command == "list-shared-experiments":
        assert len(metadata_opened(events)) == len(list((store / "_shared" / chosen).iterdir()))


def test_batches_listed_by_workers_give_the_same_store(tmp_path: Path) -> None:
    """From PREFETCH_MIN batches, worker processes list the batch folders: same store as one
    process reading them, strays and broken links included."""
    from batchcheck.scan import ScanOptions, scan
    from batchcheck.scan.scanner import PREFETCH_MIN

    root = generated(tmp_path / "store", 400, PREFETCH_MIN, 4)
    batch = sorted(p for p in root.iterdir() if p.name.startswith("batch_"))[7]
    dataset = next(p for p in batch.iterdir())
    (dataset / "notes.txt").write_text("a stray file\n", encoding="utf-8")
    (dataset / "gone").symlink_to("../../_shared/Nowhere/gone")
    (root / "batch_20990101_not_a_folder").write_text("a batch that is a file\n", encoding="utf-8")
    (root / "batch_20990102_elsewhere").symlink_to(batch)  # a batch that is a symlink
    alone = scan(root, ScanOptions.of(shared="none", metadata=False, data=False, workers=1))
    shared = scan(root, ScanOptions.of(shared="none", metadata=False, data=False, workers=2))
    assert len(alone.batches) == PREFETCH_MIN + 2
    assert alone.batches["batch_20990101_not_a_folder"].strays[0].kind == "file"
    # All but the count of folders this process listed itself.
    assert replace(shared, stats={}) == replace(alone, stats={})
    assert [s.name for s in shared.batches[batch.name].strays] == ["notes.txt"]
