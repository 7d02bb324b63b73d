"""``batchcheck link``: relative, atomic links; validate everything first, never overwrite."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Result, experiment, make_tree, snapshot

BATCH = "batch_20250106_reuse"
TOPP = "batch_20241230_topp"
A = "temp07_topp08_gpt4o"
B = "temp07_topp09_gpt4o"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    spec = {**experiment("Copa", A, TOPP, 0.7, 0.8), **experiment("Copa", B, TOPP, 0.7, 0.9)}
    return make_tree(tmp_path / "Data_v2" / "synthetic", spec)


def test_link_creates_relative_links_and_checks_the_batch(
    cli: Callable[..., Result], root: Path
) -> None:
    result = cli("--no-emoji", "link", BATCH, f"Copa/{A}", f"_shared/Copa/{B}/")
    assert result.code == 0, result.err
    for name in (A, B):
        entry = root / BATCH / "Copa" / name
        assert os.readlink(entry) == f"../../_shared/Copa/{name}/"
        assert entry.resolve() == (root / "_shared/Copa" / name).resolve()
    assert "Links: 2 (2 created, 0 already present)" in result.out
    assert f"[OK] {BATCH}/Copa/{A} -> ../../_shared/Copa/{A}/  (linked now)" in result.out
    assert f"Check of {BATCH}" in result.out


def test_link_again_changes_nothing(cli: Callable[..., Result], root: Path) -> None:
    assert cli("link", BATCH, f"Copa/{A}").code == 0
    before = snapshot(root)
    result = cli("link", BATCH, f"Copa/{A}", f"Copa/{A}", "--format", "json")
    assert result.code == 0, result.err
    doc = result.json()
    assert [step["action"] for step in doc["links"]] == ["present"]
    assert doc["check"]["summary"]["errors"] == 0
    assert snapshot(root) == before


def test_dry_run_writes_nothing(cli: Callable[..., Result], root: Path) -> None:
    before = snapshot(root)
    result = cli("link", BATCH, f"Copa/{A}", "--dry-run", "--format", "json")
    assert result.code == 0, result.err
    assert result.json()["check"] is None
    assert result.json()["links"] == [
        {
            "path": f"Data_v2/synthetic/{BATCH}/Copa/{A}",
            "target": f"../../_shared/Copa/{A}/",
            "action": "create",
            "created": False,
            "detail": "",
        }
    ]
    assert snapshot(root) == before


@pytest.mark.parametrize(
    ("args", "spec", "detail"),
    [
        (
            [f"Copa/{A}", "Copa/temp09_topp10_gpt4o"],
            {},
            "_shared/Copa/temp09_topp10_gpt4o is not an experiment folder",
        ),
        (
            [f"Copa/{A}", "Copa/broken"],
            {"_shared/Copa/broken/experiment_metadata.json": "{"},
            "not JSON",
        ),
        (
            [f"Copa/{A}", "Copa/bare"],
            {"_shared/Copa/bare/experiment_metadata.json": {}},
            "created_at: missing",
        ),
        (
            [f"Copa/{A}", f"Copa/{B}"],
            {f"{BATCH}/Copa/{B}": "-> ../../_shared/Copa/elsewhere/"},
            "(dangling) holds the name",
        ),
    ],
)
def test_nothing_is_written_when_one_link_cannot_be_made(
    cli: Callable[..., Result], root: Path, args: list[str], spec: dict[str, str], detail: str
) -> None:
    make_tree(root, spec)
    before = snapshot(root)
    result = cli("link", BATCH, *args)
    assert result.code == 1
    assert detail in result.out
    assert result.err.count("\n") == 1 and "nothing was changed" in result.err
    assert snapshot(root) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([BATCH, "Copa"], "Copa: expected Dataset/experiment"),
        ([BATCH, "Copa/a/b"], "Copa/a/b: expected Dataset/experiment"),
        (["batch_x", f"Copa/{A}"], "is not batch_YYYYMMDD_<purpose>"),
    ],
)
def test_bad_arguments_are_usage_errors(
    cli: Callable[..., Result], root: Path, args: list[str], message: str
) -> None:
    before = snapshot(root)
    result = cli("link", *args)
    assert result.code == 2
    assert message in result.err
    assert snapshot(root) == before


# -- a run that fails between two links ----------------------------------------------------------

LONG_BATCH = "batch_20250106_" + "interrupted_" * 5


def failing_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """A store whose second link cannot be written: ``os.symlink`` fails for it (ENOSPC).

    Links are written relative to a handle of their folder (never by a full path), so no
    path length makes the write fail; the disk running full between two links is what is
    left, and that takes a stand-in.
    """
    long_name = "temp07_topp10_gpt4o_full"
    spec = {
        **experiment("Copa", "temp07_topp10_gpt4o", "batch_20241229_t", 0.7, 1.0),
        **experiment("CB", long_name, "batch_20241229_t", 0.7, 1.0),
    }
    write = os.symlink

    def symlink(target: str, name: str, *args: Any, **kwargs: Any) -> None:
        if os.fspath(name).endswith(long_name):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), name)
        write(target, name, *args, **kwargs)

    monkeypatch.setattr(os, "symlink", symlink)
    return make_tree(tmp_path / "store", spec), long_name


def _entries(folder: Path) -> dict[str, str]:
    """What a folder holds: ``/`` for a folder, ``-> target`` for a link (never followed)."""
    out = {}
    for parent, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(parent, name)
            rel = str(path.relative_to(folder))
            out[rel] = f"-> {os.readlink(path)}" if path.is_symlink() else "/"
    return out


def _argv(command: str, tmp_path: Path, long_name: str) -> list[str]:
    if command == "link":
        return ["link", LONG_BATCH, "Copa/temp07_topp10_gpt4o", f"CB/{long_name}"]
    (tmp_path / "s.yaml").write_text(
        "datasets: [Copa, CB]\n"
        "generation: {model: gpt-4o, temperature: 0.7, top_p: 1.0, max_tokens: 256}\n"
        "validation: {model: gpt-4o, temperature: 0.0}\n"
    )
    return ["plan", str(tmp_path / "s.yaml"), "--batch", LONG_BATCH, "--apply"]


@pytest.mark.parametrize("command", ["link", "plan"])
def test_a_new_batch_whose_link_fails_is_not_made_at_all(
    cli: Callable[..., Result], tmp_path: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch is filled under a hidden name and renamed into place: a failed link leaves
    no batch, not a half-filled one (which would look finished)."""
    root, long_name = failing_store(tmp_path, monkeypatch)
    before = _entries(root)
    result = cli("--root", str(root), *_argv(command, tmp_path, long_name))
    assert result.code == 1
    assert "No space left on device; nothing was changed" in result.err
    assert result.err.count("\n") == 1
    assert _entries(root) == before  # no batch, and no hidden folder left either


@pytest.mark.parametrize("command", ["link", "plan"])
def test_a_run_that_fails_between_links_leaves_only_whole_links(
    cli: Callable[..., Result], tmp_path: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In an existing batch each new dataset folder appears whole: Copa's before the failure,
    CB's not at all."""
    root, long_name = failing_store(tmp_path, monkeypatch)
    make_tree(root, {f"{LONG_BATCH}/Copa": None})
    result = cli("--root", str(root), *_argv(command, tmp_path, long_name))
    assert result.code == 1
    assert "No space left on device" in result.err
    assert "1 link(s) were created before it" in result.err
    assert result.err.count("\n") == 1
    batch = root / LONG_BATCH
    assert _entries(batch) == {
        "Copa": "/",
        "Copa/temp07_topp10_gpt4o": "-> ../../_shared/Copa/temp07_topp10_gpt4o/",
    }
    assert (batch / "Copa/temp07_topp10_gpt4o/experiment_metadata.json").is_file()


def test_a_rerun_removes_what_a_killed_run_left_staged(
    cli: Callable[..., Result], root: Path
) -> None:
    """A kill while the batch was being filled leaves a hidden folder of links; the next run
    for that batch removes it (links and their folders only: a file there stays)."""
    left = root / f".{BATCH}.link-0123abcd"
    make_tree(left, {f"Copa/{A}": f"-> ../../_shared/Copa/{A}/"})
    foreign = root / f".{BATCH}.link-89abcdef"
    make_tree(foreign, {"Copa/notes.txt": "mine"})
    other = root / ".batch_20250101_other.link-0123abcd"
    make_tree(other, {"Copa": None})
    result = cli("link", BATCH, f"Copa/{B}")
    assert result.code == 0, result.err
    assert not left.exists()
    assert _entries(foreign) == {"Copa": "/", "Copa/notes.txt": "/"}
    assert other.is_dir()  # another batch's: its own next run sees to it
    assert _entries(root / BATCH) == {"Copa": "/", f"Copa/{B}": f"-> ../../_shared/Copa/{B}/"}
