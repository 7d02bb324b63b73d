"""``batchcheck gc``: orphans with sizes; archive or delete only what nothing names; refusals
change nothing; what a killed run left is finished."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import TEMP, Cli, make_tree, snapshot, store_spec

from batchcheck.atomic import temporary_name

LINKED, ORPHAN, NAMED = "temp05_topp10_gpt4o", "temp07_topp08_gpt4o", "temp07_topp09_gpt4o"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """One linked experiment, two orphans (one named by a configured config), a CB orphan."""
    spec = store_spec(
        [
            ("Copa", LINKED, TEMP, 0.5, 1.0),
            ("Copa", ORPHAN, TEMP, 0.7, 0.8),
            ("Copa", NAMED, TEMP, 0.7, 0.9),
            ("CB", ORPHAN, TEMP, 0.7, 0.8),
        ],
        [(TEMP, "Copa", LINKED)],
    )
    spec["configs/train.yaml"] = f"data: Data_v2/synthetic/_shared/Copa/{NAMED}/Copa\n"
    spec["pyproject.toml"] = (
        '[tool.batchcheck]\nroot = "Data_v2/synthetic"\nconfigs = ["configs/*.yaml"]\n'
    )
    make_tree(tmp_path, {k: v for k, v in spec.items() if not k.startswith("_shared")})
    return make_tree(
        tmp_path / "Data_v2" / "synthetic",
        {k: v for k, v in spec.items() if k.startswith(("_shared", "batch_"))},
    )


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_dry_run_lists_orphans_with_sizes_and_changes_nothing(
    cli: Cli, root: Path, tmp_path: Path
) -> None:
    before = snapshot(tmp_path)
    result = cli("gc", "--format", "json")
    assert result.code == 0, result.err
    doc = result.json()
    sizes = {o["path"]: o["size"] for o in doc["orphans"]}
    assert sizes == {
        f"_shared/CB/{ORPHAN}": _size(root / "_shared/CB" / ORPHAN),
        f"_shared/Copa/{ORPHAN}": _size(root / "_shared/Copa" / ORPHAN),
    }
    assert {o["action"] for o in doc["orphans"]} == {"orphan"}
    assert doc["total_size"] == sum(sizes.values())
    assert [(k["path"], k["detail"]) for k in doc["kept"]] == [
        (f"_shared/Copa/{NAMED}", "named by configs/train.yaml line 1")
    ]
    text = cli("--no-emoji", "gc")
    assert f"[S] _shared/Copa/{ORPHAN}  " in text.out
    assert f"Total: 2 orphan(s), {sum(sizes.values())} bytes" in text.out
    assert snapshot(tmp_path) == before


def test_archive_moves_orphans_out_keeping_their_path(cli: Cli, root: Path, tmp_path: Path) -> None:
    linked, named = (
        snapshot(root / "_shared/Copa" / LINKED),
        snapshot(root / "_shared/Copa" / NAMED),
    )
    orphan = snapshot(root / "_shared/Copa" / ORPHAN)
    result = cli("--no-emoji", "gc", "--archive", "archive")
    assert result.code == 0, result.err
    assert f"[OK] _shared/Copa/{ORPHAN}" in result.out and "(archived)" in result.out
    moved = tmp_path / "archive/_shared/Copa" / ORPHAN
    assert {p.relative_to(moved) for p in map(Path, map(os.fsdecode, snapshot(moved)))} == {
        p.relative_to(root / "_shared/Copa" / ORPHAN) for p in map(Path, map(os.fsdecode, orphan))
    }
    assert (tmp_path / "archive/_shared/CB" / ORPHAN / "experiment_metadata.json").is_file()
    assert not (root / "_shared/Copa" / ORPHAN).exists()
    assert snapshot(root / "_shared/Copa" / LINKED) == linked
    assert snapshot(root / "_shared/Copa" / NAMED) == named
    assert sorted(os.listdir(root / "_shared/Copa")) == [LINKED, NAMED]
    assert sorted(os.listdir(root / "_shared/CB")) == []


def test_an_archive_that_holds_the_name_keeps_the_orphan(
    cli: Cli, root: Path, tmp_path: Path
) -> None:
    (tmp_path / "archive/_shared/Copa" / ORPHAN).mkdir(parents=True)
    result = cli("gc", "--archive", "archive", "--format", "json")
    assert result.code == 1, result.err  # the others are archived all the same
    actions = {o["path"]: (o["action"], o["detail"]) for o in result.json()["orphans"]}
    assert actions[f"_shared/Copa/{ORPHAN}"] == (
        "failed",
        "the archive holds that name already: left in the store",
    )
    assert actions[f"_shared/CB/{ORPHAN}"] == ("archived", "")
    assert (root / "_shared/Copa" / ORPHAN / "experiment_metadata.json").is_file()


def test_delete_removes_only_the_orphans(cli: Cli, root: Path) -> None:
    result = cli("gc", "--delete", "--yes")
    assert result.code == 0, result.err
    assert sorted(os.listdir(root / "_shared/Copa")) == [LINKED, NAMED]
    assert os.listdir(root / "_shared/CB") == []
    assert cli("check", "--select", "BC1,BC3").code == 0


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--delete"], "--delete removes the orphans for good: add --yes to confirm"),
        (["--delete", "--yes", "--archive", "a"], "--archive and --delete exclude each other"),
        (["--archive", "Data_v2/synthetic/_shared/old"], "is inside the store Data_v2/synthetic"),
        (["--archive", "Data_v2/synthetic"], "is inside the store"),
        (["--archive", "configs/train.yaml"], "--archive configs/train.yaml is not a folder"),
    ],
)
def test_bad_options_are_one_line_exit_2_and_change_nothing(
    cli: Cli, root: Path, tmp_path: Path, argv: list[str], error: str
) -> None:
    before = snapshot(tmp_path)
    result = cli("gc", *argv)
    assert (result.code, result.out) == (2, "")
    assert error in result.err and result.err.count("\n") == 1, result.err
    assert snapshot(tmp_path) == before


def test_an_archive_through_a_symlink_into_the_store_is_refused(
    cli: Cli, root: Path, tmp_path: Path
) -> None:
    os.symlink(root / "_shared", tmp_path / "sneaky")
    result = cli("gc", "--archive", "sneaky/x")
    assert result.code == 2 and "is inside the store" in result.err


@pytest.mark.parametrize(
    ("breakage", "error"),
    [
        ({f"{TEMP}/Copa/renamed": "-> ../../_shared/Copa/gone/"}, "BC101"),
        ({f"{TEMP}/Copa/file": "../../_shared/Copa/x/"}, "BC106"),
        ({"../../configs/broken.yaml": "a: [unclosed\n"}, "configs/broken.yaml: not valid YAML"),
    ],
)
def test_refuses_on_errors_in_batches_or_an_unreadable_config(
    cli: Cli, root: Path, tmp_path: Path, breakage: dict[str, str], error: str
) -> None:
    make_tree(root, breakage)
    before = snapshot(tmp_path)
    for argv in ([], ["--delete", "--yes"], ["--archive", "archive"]):
        result = cli("gc", *argv)
        assert (result.code, result.out) == (1, ""), result.err
        assert error in result.err and result.err.count("\n") == 1, result.err
        assert "nothing was changed" in result.err
    assert snapshot(tmp_path) == before


def test_a_destroyed_link_protects_its_experiment(cli: Cli, root: Path, tmp_path: Path) -> None:
    """Even when a project makes BC106 a warning (so gc runs), the experiment a destroyed link
    names is no orphan: restoring the link must find it."""
    make_tree(root, {f"{TEMP}/Copa/{ORPHAN}": f"../../_shared/Copa/{ORPHAN}/"})
    assert cli("gc").code == 1
    with open(tmp_path / "pyproject.toml", "a", encoding="utf-8") as handle:
        handle.write('\n[tool.batchcheck.severity]\nBC106 = "warning"\n')
    result = cli("gc", "--format", "json")
    assert result.code == 0, result.err
    assert [o["path"] for o in result.json()["orphans"]] == [f"_shared/CB/{ORPHAN}"]


def test_what_a_killed_run_left_is_finished(cli: Cli, root: Path, tmp_path: Path) -> None:
    copa = root / "_shared/Copa"
    archiving = temporary_name(copa / ORPHAN, "gc-archive")
    os.rename(copa / ORPHAN, archiving)
    deleting = temporary_name(root / "_shared/CB" / ORPHAN, "gc-delete")
    os.rename(root / "_shared/CB" / ORPHAN, deleting)
    listed = cli("--no-emoji", "gc")
    assert listed.code == 0
    assert "(left by an interrupted gc: run gc --archive DIR)" in listed.out
    assert "(left by an interrupted gc: run gc --delete --yes)" in listed.out
    archived = cli("--no-emoji", "gc", "--archive", "archive")
    assert archived.code == 0, archived.err
    assert (tmp_path / "archive/_shared/Copa" / ORPHAN / "experiment_metadata.json").is_file()
    assert not archiving.exists() and deleting.exists()  # an archive run does not delete
    deleted = cli("gc", "--delete", "--yes")
    assert deleted.code == 0, deleted.err
    assert os.listdir(root / "_shared/CB") == [] and sorted(os.listdir(copa)) == [LINKED, NAMED]


@pytest.mark.parametrize("same", [True, False])
def test_a_run_killed_after_copying_into_the_archive_is_finished(
    cli: Cli, root: Path, tmp_path: Path, same: bool
) -> None:
    """On another filesystem an orphan is copied into the archive before it leaves the store:
    a kill in between leaves it hidden in the store and whole in the archive. A rerun removes
    the hidden one when the archive holds that copy; anything else there is no copy of it,
    and the orphan goes back to its name."""
    copa = root / "_shared/Copa"
    dest = tmp_path / "archive/_shared/Copa" / ORPHAN
    dest.parent.mkdir(parents=True)
    shutil.copytree(copa / ORPHAN, dest, symlinks=True)
    if not same:
        with open(dest / "Copa/train.jsonl", "a", encoding="utf-8") as f:
            f.write("{}\n")
    hidden = temporary_name(copa / ORPHAN, "gc-archive")
    os.rename(copa / ORPHAN, hidden)
    result = cli("gc", "--archive", "archive", "--format", "json")
    [unfinished] = result.json()["unfinished"]
    assert (unfinished["path"], unfinished["action"]) == (
        f"_shared/Copa/{ORPHAN}",
        "archived" if same else "failed",
    )
    assert not hidden.exists()
    assert (copa / ORPHAN).is_dir() is not same
    assert (dest / "experiment_metadata.json").is_file()


def test_archive_on_another_filesystem_copies_then_removes(cli: Cli, root: Path) -> None:
    other = Path("/dev/shm")
    if not other.is_dir() or os.stat(other).st_dev == os.stat(root).st_dev:
        pytest.skip("no second filesystem to archive to")
    archive = Path(os.path.realpath(other)) / f"batchcheck-gc-{os.getpid()}"
    try:
        result = cli("gc", "--archive", str(archive))
        assert result.code == 0, result.err
        assert (archive / "_shared/Copa" / ORPHAN / "Copa/train.jsonl").is_file()
        assert sorted(os.listdir(root / "_shared/Copa")) == [LINKED, NAMED]  # no leftovers
    finally:
        shutil.rmtree(archive, ignore_errors=True)
