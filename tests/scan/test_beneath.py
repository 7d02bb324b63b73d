"""Reading is beneath the root (SPEC section 1): nothing a user or a concurrent process does to
the tree makes batchcheck read or write outside it, and links are judged by a walk through
real folders that stops at the first symlink. One test per defect of issue 12, each run as a
real process whose every file system call is logged (``tests/scale/audit_run.py``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import TEMP, TOPP, link, make_tree, metadata, snapshot, store_spec
from conftest import audited as audit

from batchcheck.linking import Action, LinkStep, apply_steps
from batchcheck.scan import load_experiments
from batchcheck.scan.cache import RACY_NS

META = "experiment_metadata.json"
A, B = "temp05_topp10_gpt4o", "temp07_topp09_gpt4o"


def spec() -> dict[str, Any]:
    """Two experiments of Copa, each linked from TEMP, one from TOPP too."""
    return store_spec(
        [("Copa", A, TEMP, 0.5, 1.0), ("Copa", B, TEMP, 0.7, 0.9)],
        [(TEMP, "Copa", A), (TEMP, "Copa", B), (TOPP, "Copa", B)],
    )


def audited(tmp_path: Path, root: Path, *argv: str) -> tuple[int, str, str, list[str]]:
    """Run ``batchcheck --root ROOT ARGV`` from ``tmp_path/work``, every call logged: (exit,
    stdout, stderr, calls)."""
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    proc, events = audit(root, work, *argv, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stdout, proc.stderr, events


def touched(events: list[str], place: Path) -> list[str]:
    """The calls that named ``place`` or anything under it."""
    where = str(place)
    return [
        e
        for e in events
        if e.split(" ", 1)[1] in (where,) or e.split(" ", 1)[1].startswith(where + "/")
    ]


@pytest.fixture
def outside_dataset(tmp_path: Path) -> tuple[Path, Path]:
    """A store whose ``_shared/Copa`` is a symlink to a folder outside it that holds real
    experiments (with valid metadata): (root, the outside folder)."""
    outside = make_tree(tmp_path / "outside", spec())
    root = make_tree(tmp_path / "store", {k: v for k, v in spec().items() if "_shared" not in k})
    (root / "_shared").mkdir()
    (root / "_shared/Copa").symlink_to(outside / "_shared/Copa")
    return root, outside


def test_a_shared_dataset_folder_that_is_a_symlink_is_read_by_no_command(
    outside_dataset: tuple[Path, Path], tmp_path: Path
) -> None:
    """Defect 1: lookups and ``link`` read the metadata behind ``_shared/Copa -> outside``
    (an lstat of ``_shared/Copa/x`` follows ``Copa``), and ``link`` linked it."""
    root, outside = outside_dataset
    before = snapshot(outside)
    runs = {
        "list-batch-experiments": ["list-batch-experiments", TEMP, "--verbose", "--format", "json"],
        "resolve-data-path": ["resolve-data-path", str(root / "_shared/Copa" / A)],
        "compare-experiments": [
            "compare-experiments",
            "--shared",
            f"Copa/{A}",
            "--shared",
            f"Copa/{B}",
        ],
        "link": ["link", "batch_20250107_new", f"Copa/{A}"],
        "check": ["check", "--format", "json"],
    }
    results = {name: audited(tmp_path, root, *argv) for name, argv in runs.items()}
    for name, (_, _, _, events) in results.items():
        assert touched(events, outside) == [], name
    listing = json.loads(results["list-batch-experiments"][1])
    entries = [e for ds in listing["datasets"] for e in ds["experiments"]]
    assert {e["link"]["state"] for e in entries} == {"misplaced"}
    assert all(e["created_at"] is None for e in entries)  # no metadata from outside
    assert results["resolve-data-path"][0] == 1
    assert results["compare-experiments"][0] == 1
    code, _, err, _ = results["link"]
    assert code == 1 and "is not an experiment folder" in err
    assert not (root / "batch_20250107_new").exists()
    found = {(f["code"], f["path"]) for f in json.loads(results["check"][1])["findings"]}
    assert ("BC102", str(root / "_shared/Copa")) in found
    assert snapshot(outside) == before


def test_link_check_of_a_batch_through_a_shared_symlink_finds_bc102(
    outside_dataset: tuple[Path, Path], tmp_path: Path
) -> None:
    """Defect 1, the follow-up check of ``link``: a batch whose links go through the symlinked
    dataset folder is BC102, and the symlink itself is reported."""
    from batchcheck.config import Settings
    from batchcheck.linking import check_batch

    root, _ = outside_dataset
    result = check_batch(Settings(root=root, root_source="test"), TEMP)
    bad = {(f.code, f.path.relative_to(root).as_posix()) for f in result.findings}
    assert {("BC102", f"{TEMP}/Copa/{A}"), ("BC102", "_shared/Copa")} <= bad


@pytest.mark.parametrize("argv", [["link", "../..", f"Copa/{A}"], ["link", TEMP, "../.."]])
def test_link_with_dot_dot_reads_nothing_above_the_root(argv: list[str], tmp_path: Path) -> None:
    """Defect 2: ``link BATCH ../..`` read the metadata of the folder above the root."""
    root = make_tree(tmp_path / "store", spec())
    make_tree(tmp_path, {META: {"original_batch": 3}})  # bait above the root
    code, _, err, events = audited(tmp_path, root, *argv)
    assert code == 2 and err.count("\n") == 1
    assert not [e for e in events if e.endswith(f"{tmp_path}/{META}")]


def test_a_key_of_dot_dot_names_no_experiment(tmp_path: Path) -> None:
    """The read layer itself takes names only: ``..`` never leads up."""
    root = make_tree(tmp_path / "store", spec())
    make_tree(tmp_path, {f"x/{META}": {"original_batch": 3}})
    keys = [("..", ".."), ("Copa", ".."), ("..", "x"), ("Copa", "a/b"), ("Copa", A)]
    assert list(load_experiments(root, keys).experiments) == [("Copa", A)]


def test_a_folder_swapped_for_a_symlink_before_the_write_is_not_written_through(
    tmp_path: Path,
) -> None:
    """Defect 3: swapping the batch's dataset folder for a symlink between the check and
    ``symlink()`` put the new link outside the root."""
    root = make_tree(tmp_path / "store", spec())
    outside = tmp_path / "outside"
    outside.mkdir()
    steps = [LinkStep(TOPP, "Copa", A, Action.CREATE)]  # judged while Copa was a folder
    shutil.rmtree(root / TOPP / "Copa")
    (root / TOPP / "Copa").symlink_to(outside)
    done, error = apply_steps(root, TOPP, steps)
    assert done[0].action is Action.FAILED and "cannot create" in error
    assert list(outside.iterdir()) == []
    (root / TOPP / "Copa").unlink()
    (root / TOPP).rmdir()
    (root / TOPP).symlink_to(outside)  # the batch folder itself
    done, error = apply_steps(root, TOPP, steps)
    assert done[0].action is Action.FAILED
    assert list(outside.iterdir()) == []


def test_an_absolute_link_by_the_physical_path_is_inside_the_store(tmp_path: Path) -> None:
    """Defect 4: a root reached through a symlink (macOS /tmp -> /private/tmp) and a link
    written with ``realpath``: BC103 alone, not BC102 + BC401 + BC305."""
    real = make_tree(tmp_path / "private" / "store", spec())
    (tmp_path / "alias").symlink_to(tmp_path / "private")
    root = tmp_path / "alias" / "store"
    target = real.resolve() / "_shared/Copa" / A
    os.remove(real / TEMP / "Copa" / A)
    (real / TEMP / "Copa" / A).symlink_to(target)
    code, out, _, _ = audited(tmp_path, root, "check", "--format", "json")
    found = {(f["code"], f["path"].rsplit("/", 2)[-1]) for f in json.loads(out)["findings"]}
    assert found == {("BC103", A)}
    assert code == 0


def test_a_link_into_git_annex_objects_is_judged_again_once_the_object_is_dropped(
    tmp_path: Path,
) -> None:
    """Defect 5: a cached check kept saying BC102 for a link into ``.git/annex/objects``
    after the object was dropped, where ``--no-cache`` says BC101: the folders a link's walk
    looked into are stamped too."""
    key = "SHA256E-s10--abc.json"
    objects = f".git/annex/objects/ab/cd/{key}/{key}"
    root = make_tree(tmp_path / "store", {**spec(), objects: "annexed"})
    link_path = root / TOPP / "Copa" / "annexed"
    link_path.symlink_to(f"../../{objects}")
    time.sleep(RACY_NS / 1e9 + 0.1)  # a cache trusts only what is older than RACY_NS
    cache = tmp_path / "cache"

    def codes(*argv: str) -> set[str]:
        _, out, _, _ = audited(tmp_path, root, *argv, "check", "--format", "json")
        return {f["code"] for f in json.loads(out)["findings"] if f["path"].endswith("annexed")}

    assert codes("--cache-dir", str(cache)) == {"BC102"}
    assert codes("--cache-dir", str(cache)) == {"BC102"}  # from the result cache
    os.remove(root / objects)  # git annex drop
    assert codes("--no-cache") == {"BC101"}
    assert codes("--cache-dir", str(cache)) == {"BC101"}


def outside_store(tmp_path: Path) -> tuple[Path, Path]:
    """A store with every way out: links (relative, absolute, through other links, through a
    symlinked dataset folder) to an outside folder that holds real experiments."""
    outside = make_tree(tmp_path / "outside", spec())
    store = {**spec(), **link("batch_20250108_out", "Copa", A)}
    store.update(
        {
            f"{TEMP}/Copa/up": "-> ../../../outside/_shared/Copa/" + A,
            f"{TEMP}/Copa/abs": f"-> {outside}/_shared/Copa/{A}",
            f"{TEMP}/Copa/via": f"-> ../../{TOPP}/Copa/far",
            f"{TOPP}/Copa/far": f"-> {outside}",
            f"_shared/Copa/{A}/Copa/annexed": f"-> {outside}/_shared/Copa/{A}/{META}",
        }
    )
    root = make_tree(tmp_path / "store", store)
    (root / "_shared/Far").symlink_to(outside / "_shared/Copa")
    make_tree(root, {f"{TOPP}/Far/{A}": f"-> ../../_shared/Far/{A}"})
    return root, outside


COMMANDS = [
    ["check"],
    ["check", "--no-data"],
    ["list-batches", "--verbose"],
    ["list-batch-experiments", TEMP, "--verbose"],
    ["list-batch-experiments", TOPP],
    ["list-shared-experiments", "--verbose"],
    ["list-data-paths"],
    ["list-data-paths", "--batch", TOPP],
    ["resolve-data-path", f"{{root}}/{TEMP}/Copa/abs"],
    ["resolve-data-path", f"{{root}}/_shared/Far/{A}"],
    ["resolve-data-path", f"{{root}}/_shared/Copa/{A}"],
    ["compare-experiments", "--shared", f"Far/{A}", "--shared", f"Copa/{A}"],
    f"compare-experiments --batch1 {TEMP} --dataset1 Copa --batch2 {TOPP} --dataset2 Far".split(),
    ["report", "--output", "{work}/report"],
    ["link", "batch_20250109_new", f"Far/{A}", f"Copa/{B}"],
    ["check", "--fix"],
    ["check-configs", "{work}/train.yaml"],
    ["plan", "--batch", "batch_20250110_plan", "{work}/sweep.yaml"],
    ["plan", "--batch", "batch_20250110_plan", "--apply", "{work}/sweep.yaml"],
    ["plan", "--batch", "batch_20250110_plan", "{work}/far.yaml"],
    ["gc"],
    ["gc", "--archive", "{work}/archive"],
    ["mv", f"Copa/{A}", "renamed"],
    ["mv", f"Far/{A}", "renamed"],
    ["add", "Copa/added", "--from", "{work}/gen", "--metadata", "{work}/meta.json", "--copy"],
    ["add", "Far/added", "--from", "{work}/gen", "--metadata", "{work}/far.json"],
]


def inputs(work: Path, root: Path) -> None:
    """The files the commands above read besides the store: a training config naming the
    ways out, a sweep over both datasets, freshly generated data and its metadata."""
    work.mkdir(exist_ok=True)
    paths = [f"{root}/{TEMP}/Copa/{name}" for name in ("abs", "up", "via", A)]
    paths += [f"{root}/_shared/Far/{A}/Copa", f"{root}/{TOPP}/Far/{A}"]
    (work / "train.yaml").write_text(json.dumps({"data": {"train": paths}}))
    sweep = {
        "experiment_purpose": "plan",
        "datasets": ["Copa"],
        "generation": {"model": "gpt-4o", "temperature": 0.5, "max_tokens": 256},
        "validation": {"model": "gpt-4o", "temperature": 0.0},
        "sweep": {"top_p": [1.0, 0.3]},
    }
    (work / "sweep.yaml").write_text(json.dumps(sweep))
    (work / "far.yaml").write_text(json.dumps({**sweep, "datasets": ["Far"]}))
    make_tree(work / "gen", {"Copa/train.jsonl": "{}\n"})
    for name, dataset in (("meta.json", "Copa"), ("far.json", "Far")):
        data = metadata(dataset, "added", "batch_20250111_add", 0.2, 0.2)
        (work / name).write_text(json.dumps(data))


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(a[:2]) for a in COMMANDS])
@pytest.mark.parametrize("cache", ["--no-cache", "warm"])
def test_no_command_touches_anything_outside_the_root(
    argv: list[str], cache: str, tmp_path: Path
) -> None:
    """Every call of every command (by the audit harness) stays beneath the root, also from
    a warm cache: nothing outside is read, stat'ed or even looked up."""
    root, outside = outside_store(tmp_path)
    before = snapshot(outside)
    args = [a.format(root=root, work=tmp_path / "work") for a in argv]
    inputs(tmp_path / "work", root)
    flags = ["--no-cache"] if cache == "--no-cache" else ["--cache-dir", str(tmp_path / "cache")]
    if cache == "warm":
        audited(tmp_path, root, *flags, *args)
    code, _, err, events = audited(tmp_path, root, *flags, *args)
    # A finding, or a one-line refusal (a sweep over the symlinked dataset names no dataset).
    assert code in (0, 1) or (code == 2 and err.count("\n") == 1), err
    assert touched(events, outside) == []
    # Near the store, only the root, what settings are looked for in (cwd and upward) and the
    # root's own spelling (its parents, stat'ed once by realpath).
    allowed = (f"{root}/", f"{tmp_path}/work/", f"{tmp_path}/cache/")
    settings = (f"{tmp_path}/pyproject.toml", f"{tmp_path}/.git")
    near = [
        e
        for e in touched(events, tmp_path)
        if not f"{e.split(' ', 1)[1]}/".startswith(allowed)
        and e.split(" ", 1)[1] not in settings
        and not (e.startswith("stat ") and f"{root}/".startswith(f"{e[5:]}/"))
    ]
    assert near == []
    assert snapshot(outside) == before


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
def test_no_system_call_names_anything_outside_the_root(tmp_path: Path) -> None:
    """The kernel's view (strace, descriptors shown as paths) of a check, a listing and a
    lookup on a store with links that leave it: no call names the outside folder."""
    root, outside = outside_store(tmp_path)
    for argv in (["check"], ["list-batches"], ["list-batch-experiments", TEMP]):
        log = tmp_path / "strace.log"
        proc = subprocess.run(
            [
                "strace",
                "-f",
                "-y",
                "-qq",
                "-e",
                "trace=%file,%desc",
                "-o",
                str(log),
                sys.executable,
                "-m",
                "batchcheck",
                "--root",
                str(root),
                "--no-cache",
                *argv,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        if proc.returncode not in (0, 1) and "ptrace" in proc.stderr:
            pytest.skip("strace cannot trace here (no ptrace)")
        assert proc.returncode in (0, 1), proc.stderr
        calls = log.read_text("utf-8", "replace").splitlines()
        assert len(calls) > 100
        assert [c for c in calls if str(outside) in c] == []
