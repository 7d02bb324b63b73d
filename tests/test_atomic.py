"""The one write helper: atomic files, links replaced in one step, renames that never replace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from batchcheck.atomic import (
    rename_noreplace,
    symlink_atomic,
    temporaries,
    temporary_name,
    write_atomic,
)


def test_write_atomic_replaces_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_text("old")
    write_atomic(target, lambda handle: handle.write(b"new"), mode=0o644)
    assert target.read_text() == "new"
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_write_atomic_failure_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_text("old")

    def fail(handle: object) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(target, fail)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_symlink_atomic_replaces_a_link(tmp_path: Path) -> None:
    link = tmp_path / "x"
    os.symlink("/abs/target", link)
    symlink_atomic("../rel/target/", link)
    assert os.readlink(link) == "../rel/target/"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x"]


def test_rename_noreplace_refuses_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "data").write_text("d")
    (tmp_path / "dst").mkdir()  # os.rename would silently replace this empty folder
    with pytest.raises(FileExistsError):
        rename_noreplace(tmp_path / "src", tmp_path / "dst")
    assert (tmp_path / "src" / "data").exists()
    rename_noreplace(tmp_path / "src", tmp_path / "new")
    assert (tmp_path / "new" / "data").read_text() == "d"


def test_temporary_name_is_hidden_and_beside(tmp_path: Path) -> None:
    name = temporary_name(tmp_path / "exp", "staging")
    assert name.parent == tmp_path and name.name.startswith(".exp.staging-")


def test_temporaries_finds_what_a_killed_run_left(tmp_path: Path) -> None:
    left = temporary_name(tmp_path / "exp.v2", "gc-archive")
    left.mkdir()
    temporary_name(tmp_path / "exp", "gc-delete").mkdir()  # another purpose
    (tmp_path / ".exp.gc-archive-notours").mkdir()  # not a name temporary_name makes
    (tmp_path / "exp").mkdir()
    assert temporaries(tmp_path, "gc-archive") == [("exp.v2", left)]
    assert temporaries(tmp_path / "missing", "gc-archive") == []


def test_rename_noreplace_beneath_a_folder_handle(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "dst").mkdir()
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with pytest.raises(FileExistsError):
            rename_noreplace("src", "dst", fd)
        rename_noreplace("src", "new", fd)
    finally:
        os.close(fd)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dst", "new"]
