"""What each command reads on a generated store of a few thousand experiments, call by call.

Commands must stay fast at 100k experiments, and on a network filesystem every call is a
round trip; the way to hold them to that without timing anything is to count the calls they
make (``audit_run.py`` logs every file system call from Python with the path it names) per
experiment, per link and per folder, and to check which files they open.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import audited as audit
from conftest import generated

from batchcheck.scan.cache import RACY_NS

META = "experiment_metadata.json"
EXPERIMENTS, BATCHES, LINKS = 3000, 30, 200


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A healthy generated store: 3000 experiments, 30 batches of up to 200 links, aged past
    RACY_NS so that the caches keep everything."""
    root = generated(tmp_path_factory.mktemp("scale") / "store", EXPERIMENTS, BATCHES, LINKS)
    time.sleep(RACY_NS / 1e9 + 0.1)
    return root


def audited(root: Path, tmp_path: Path, *argv: str) -> tuple[int, list[str]]:
    """Run the CLI in a child process under the audit harness; return exit code and calls."""
    proc, events = audit(root, tmp_path, *argv)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, events


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


def calls(events: list[str], root: Path) -> Counter[tuple[str, str]]:
    """Calls under the root by level (``experiment``: in ``_shared/<D>/<E>`` or below;
    ``link``: ``<batch>/<D>/<link>``; ``folder``: the folders above) and by call."""
    out: Counter[tuple[str, str]] = Counter()
    for event in events:
        call, path = event.split(" ", 1)
        if not f"{path}/".startswith(f"{root}/"):
            continue
        parts = Path(path).relative_to(root).parts
        if parts[:1] == ("_shared",) and len(parts) >= 3:
            out["experiment", call] += 1
        elif parts and parts[0].startswith("batch_") and len(parts) == 3:
            out["link", call] += 1
        else:
            out["folder", call] += 1
    return out


def folders(root: Path) -> int:
    """The folders above experiments and links: the root, _shared and its dataset folders,
    the batches and their dataset folders."""
    return 2 + len(list(root.glob("_shared/*"))) + len(list(root.glob("batch_*/**/")))


# Per command: the calls each experiment read may cost, each link, and each folder above them
# (at most); ``experiments`` says how many are read (all, the batch's, or two).
BUDGETS = {
    "check --no-cache": (
        ["--no-cache", "check"],
        # open + list the folder, read the metadata (open, fstat), open + list the data folder
        {"opendir": 2, "scandir": 2, "open": 1, "fstat": 1},
        {"readlink": 1},  # nothing else per link: its target is judged from the listings
        "all",
    ),
    "check, first run with a cache": (
        ["check"],
        # the same, and the stamps of the folder and its data folder, from the opened ones
        {"opendir": 2, "scandir": 2, "open": 1, "fstat": 3},
        {"readlink": 1},
        "all",
    ),
    "check, warm cache": (
        ["check"],
        # the experiment's stamps: its folder as a handle, then metadata and data by lstat
        {"handle": 1, "fstat": 1, "stat": 2},
        {},  # no link is looked at: its folder's stamp vouches for it
        "all",
    ),
    "list-batches --no-cache": (["--no-cache", "list-batches"], {}, {"readlink": 1}, "none"),
    "list-batches, warm cache": (["list-batches"], {}, {}, "none"),
    "list-batch-experiments": (
        ["--no-cache", "list-batch-experiments", "{batch}"],
        {"handle": 1, "open": 1, "fstat": 1},  # no listing: the metadata opened by name
        {"readlink": 1},
        "batch",
    ),
    "list-shared-experiments": (
        ["--no-cache", "list-shared-experiments"],
        {"handle": 1, "open": 1, "fstat": 1},
        {},
        "all",
    ),
    "list-data-paths": (
        ["--no-cache", "list-data-paths"],
        {"handle": 1, "opendir": 1, "scandir": 1},  # no metadata: the data folder's state
        {"readlink": 1},
        "all",
    ),
    "compare-experiments --shared": (
        ["--no-cache", "compare-experiments", "--shared", "{a}", "--shared", "{b}"],
        {"handle": 1, "open": 1, "fstat": 1},
        {},
        "two",
    ),
}


@pytest.mark.parametrize("name", BUDGETS)
def test_calls_per_experiment_link_and_folder(name: str, store: Path, tmp_path: Path) -> None:
    argv, per_experiment, per_link, which = BUDGETS[name]
    batch = sorted(p.name for p in store.glob("batch_*"))[BATCHES // 2]
    shared = sorted(p.name for p in (store / "_shared" / "Copa").iterdir())[:2]
    args = [a.format(batch=batch, a=f"Copa/{shared[0]}", b=f"Copa/{shared[1]}") for a in argv]
    if "cache" in name and "--no-cache" not in args:
        args = ["--cache-dir", str(tmp_path / "cache"), *args]
        if "warm" in name:
            audited(store, tmp_path, *args)
    _, events = audited(store, tmp_path, *args)
    counted = calls(events, store)
    experiments = {"all": EXPERIMENTS, "batch": len(linked(store, batch)), "two": 2}.get(which, 0)
    links = {"all": -1, "none": -1, "batch": len(linked(store, batch))}.get(which, 0)
    if links == -1:
        links = len(list(store.glob("batch_*/*/*")))
    for (level, call), count in counted.items():
        if level == "experiment":
            assert count <= per_experiment.get(call, 0) * experiments, (name, call, count)
        elif level == "link":
            assert count <= per_link.get(call, 0) * links, (name, call, count)
        else:
            assert count <= 4 * folders(store), (name, call, count)  # open, fstat, list, stat
    for call, each in per_link.items():  # every link read, once
        assert counted["link", call] == each * links, (name, call)
    if "warm" not in name and per_experiment.get("open"):
        opened = metadata_opened(events)
        assert len(opened) == experiments and set(opened.values()) == {1}


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


@pytest.mark.parametrize("command", ["list-shared-experiments", "list-data-paths"])
def test_a_chosen_dataset_is_the_only_one_read(command: str, store: Path, tmp_path: Path) -> None:
    datasets = sorted(p.name for p in (store / "_shared").iterdir())
    chosen = datasets[0]
    code, events = audited(store, tmp_path, "--no-cache", command, "--dataset", chosen)
    assert code == 0
    read = {
        e.split(" ", 1)[1]
        for e in events
        if f"{store}/_shared/" in e and e.split(" ", 1)[1].count("/") > str(store).count("/") + 2
    }
    assert read and all(e.startswith(f"{store}/_shared/{chosen}/") for e in read)
    assert {key.split("/")[0] for key in metadata_opened(events)} <= {chosen}
    if command == "list-shared-experiments":
        assert len(metadata_opened(events)) == len(list((store / "_shared" / chosen).iterdir()))


def test_batches_listed_by_workers_give_the_same_store(tmp_path: Path) -> None:
    """From PREFETCH_MIN batches, on a fast disk worker processes list the batch folders: the
    same store as one process reading them, strays and broken links included."""
    from batchcheck.scan import ScanOptions, scan
    from batchcheck.scan.scanner import PREFETCH_MIN

    root = generated(tmp_path / "store", 400, PREFETCH_MIN, 4)
    batch = sorted(p for p in root.iterdir() if p.name.startswith("batch_"))[7]
    dataset = next(p for p in batch.iterdir())
    (dataset / "notes.txt").write_text("a stray file\n", encoding="utf-8")
    (dataset / "gone").symlink_to("../../_shared/Nowhere/gone")
    (root / "batch_20990101_not_a_folder").write_text("a batch that is a file\n", encoding="utf-8")
    (root / "batch_20990102_elsewhere").symlink_to(batch)  # a batch that is a symlink
    how = {"shared": "none", "metadata": False, "data": False, "io": "inline"}
    alone = scan(root, ScanOptions.of(workers=1, **how))
    shared = scan(root, ScanOptions.of(workers=2, **how))
    threaded = scan(root, ScanOptions.of(workers=1, **{**how, "io": "threads"}))
    assert len(alone.batches) == PREFETCH_MIN + 2
    assert alone.batches["batch_20990101_not_a_folder"].strays[0].kind == "file"
    # All but the count of folders this process listed itself.
    assert replace(shared, stats={}) == replace(alone, stats={})
    assert threaded == alone
    assert [s.name for s in shared.batches[batch.name].strays] == ["notes.txt"]
