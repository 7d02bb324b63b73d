"""``check --fix`` / ``--diff``: safe repairs of batch links, each atomic and checked; unsafe
cases left alone and said so."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import PILOT, TEMP, TOPP, Cli, batch_links, make_tree, snapshot, store_spec

A, B, C = "temp05_topp10_gpt4o", "temp07_topp09_gpt4o", "temp09_topp10_gpt4o"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Three experiments, linked the ways hands and checkouts write links."""
    spec = store_spec(
        [("Copa", A, TEMP, 0.5, 1.0), ("Copa", B, PILOT, 0.7, 0.9), ("Copa", C, TEMP, 0.9, 1.0)],
        [(PILOT, "Copa", B)],
    )
    store = make_tree(tmp_path / "Data_v2" / "synthetic", spec)
    make_tree(
        store,
        {
            f"{TEMP}/Copa/{A}": f"-> {store}/_shared/Copa/{A}",  # BC103
            f"{TEMP}/Copa/{C}": f"-> ..//../_shared/./Copa/{C}/",  # untidy
            f"{TEMP}/Copa/b_alias": f"-> ../../_shared/Copa/{B}",  # BC104
            f"{TOPP}/Copa/{B}": f"../../_shared/Copa/{B}/",  # BC106
            f"{TOPP}/Copa/c_copy": f"{store}/_shared/Copa/{C}\n",  # BC106 + BC104, absolute
        },
    )
    return store


FIXED = {
    f"{PILOT}/Copa/{B}": f"../../_shared/Copa/{B}/",
    f"{TEMP}/Copa/{A}": f"../../_shared/Copa/{A}/",
    f"{TEMP}/Copa/{B}": f"../../_shared/Copa/{B}",
    f"{TEMP}/Copa/{C}": f"../../_shared/Copa/{C}/",
    f"{TOPP}/Copa/{B}": f"../../_shared/Copa/{B}/",
    f"{TOPP}/Copa/{C}": f"../../_shared/Copa/{C}/",
}


def test_diff_shows_every_fix_and_writes_nothing(cli: Cli, root: Path) -> None:
    before = snapshot(root)
    result = cli("--no-emoji", "check", "--diff")
    assert result.code == 1, result.err
    assert snapshot(root) == before
    assert "Fixes: 5 to fix, 0 left alone (--diff: nothing written)" in result.out
    assert (
        f"  [+] BC106 BC104 c_copy\n    - c_copy: a file holding {root}/_shared/Copa/{C}\n"
        f"    + {C} -> ../../_shared/Copa/{C}/\n"
    ) in result.out
    assert (
        f"  [+] tidy {C}\n    - {C} -> ..//../_shared/./Copa/{C}/\n"
        f"    + {C} -> ../../_shared/Copa/{C}/\n"
    ) in result.out
    doc = cli("check", "--diff", "--format", "json").json()
    assert set(doc) == {"fixes"}
    assert [(f["path"], f["codes"], f["status"]) for f in doc["fixes"]][:2] == [
        (f"Data_v2/synthetic/{TEMP}/Copa/b_alias", ["BC104"], "to fix"),
        (f"Data_v2/synthetic/{TEMP}/Copa/{A}", ["BC103"], "to fix"),
    ]


def test_fix_repairs_then_checks(cli: Cli, root: Path) -> None:
    result = cli("--no-emoji", "check", "--fix")
    assert result.code == 0, result.out + result.err
    assert batch_links(root) == FIXED
    assert "Fixes: 5 fixed, 0 left alone" in result.out
    assert result.out.rstrip().endswith("[OK] 0 errors, 0 warnings in 3 experiments, 6 links")
    before = snapshot(root)
    again = cli("--no-emoji", "check", "--diff")
    assert (again.code, snapshot(root)) == (0, before)
    assert "[OK] Nothing to fix" in again.out


def test_fix_with_json_reports_fixes_and_the_check(cli: Cli, root: Path) -> None:
    doc = cli("check", "--fix", "--format", "json").json()
    assert {f["status"] for f in doc["fixes"]} == {"fixed"}
    assert doc["summary"]["errors"] == 0 and doc["findings"] == []


def test_select_limits_the_fixes(cli: Cli, root: Path) -> None:
    result = cli("check", "--fix", "--select", "BC106", "--format", "json")
    assert [f["codes"] for f in result.json()["fixes"]] == [["BC106"], ["BC106"]]
    links = batch_links(root)
    assert links[f"{TOPP}/Copa/c_copy"] == f"../../_shared/Copa/{C}/"  # restored, name kept
    assert links[f"{TEMP}/Copa/{A}"] == f"{root}/_shared/Copa/{A}"  # BC103 not selected


def test_unsafe_cases_are_left_alone_and_said(cli: Cli, root: Path) -> None:
    make_tree(
        root,
        {
            f"{PILOT}/Copa/b_twin": f"-> ../../_shared/Copa/{B}/",  # B's name is taken
            f"{PILOT}/Copa/gone": "-> /nowhere/_shared/Copa/gone",  # absolute, outside
            f"{PILOT}/Copa/lost": "../../_shared/Copa/lost/",  # a file holding a dead path
            f"{PILOT}/CB/{A}": f"-> ../../_shared/Copa/{A}/",  # another dataset's experiment
        },
    )
    unsafe = [root / PILOT / "Copa" / n for n in ("b_twin", "gone", "lost")] + [root / PILOT / "CB"]
    before = {path: snapshot(path) for path in unsafe}
    result = cli("--no-emoji", "check", "--fix")
    assert result.code == 1  # the check still finds the unsafe ones
    said = result.out
    assert f"[!] BC104 b_twin: left alone: the name {B} is taken" in said
    assert "[!] BC103 gone: left alone: the link is outside" in said
    assert "[!] BC106 lost: left alone: the path it holds is dangling" in said
    assert f"[!] BC104 {A}: left alone: the link is misplaced" not in said  # same name: no BC104
    assert {path: snapshot(path) for path in unsafe} == before
    assert "Fixes: 5 fixed, 3 left alone" in said


def test_a_rename_onto_a_taken_name_restores_but_keeps_the_name(cli: Cli, root: Path) -> None:
    os.unlink(root / PILOT / "Copa" / B)
    (root / PILOT / "Copa" / B).mkdir()  # copied data holds the name (BC105)
    make_tree(root, {f"{PILOT}/Copa/b_file": f"../../_shared/Copa/{B}/"})
    result = cli("--no-emoji", "check", "--fix", "--select", "BC106")
    assert os.readlink(root / PILOT / "Copa" / "b_file") == f"../../_shared/Copa/{B}/"
    assert "name kept: the name" not in result.out  # BC104 not selected: no rename tried
    result = cli("--no-emoji", "check", "--fix", "--select", "BC104")
    assert f"[!] BC104 b_file: left alone: the name {B} is taken" in result.out


@pytest.mark.parametrize("option", ["--fix", "--diff"])
def test_an_unknown_code_is_one_line_exit_2_and_changes_nothing(
    cli: Cli, root: Path, option: str
) -> None:
    before = snapshot(root)
    result = cli("check", option, "--select", "BC999")
    assert (result.code, result.out) == (2, "")
    assert "unknown rule code 'BC999'" in result.err and result.err.count("\n") == 1
    assert snapshot(root) == before


def test_a_folder_swapped_for_a_symlink_after_the_scan_is_never_written_through(
    root: Path, tmp_path: Path
) -> None:
    from batchcheck.config import Settings
    from batchcheck.findings import Selection
    from batchcheck.fixing import apply_fixes, fix_store

    planned = fix_store(Settings(root, "--root"), Selection(), write=False).fixes
    assert any(fix.batch == TEMP and fix.status == "to fix" for fix in planned)
    # Between the scan and the writes, the batch's dataset folder becomes a symlink to a
    # look-alike folder outside the store.
    outside = tmp_path / "outside"
    (root / TEMP / "Copa").rename(outside)
    os.symlink(outside, root / TEMP / "Copa")
    before = snapshot(outside)
    done = {(fix.batch, fix.name): fix for fix in apply_fixes(root, list(planned))}
    assert snapshot(outside) == before
    for (batch, _), fix in done.items():
        if batch == TEMP and fix.codes:
            assert (fix.status, fix.detail) == ("failed", "it changed since it was read")
    assert done[TOPP, B].status == "fixed"  # the other batch's fixes go on


def test_a_link_is_never_renamed_to_a_name_with_control_characters(
    cli: Cli, tmp_path: Path
) -> None:
    """BC104 names a link after its target, but mv and link refuse such a name: the fix leaves
    it alone rather than spread an escape sequence into a batch."""
    hostile = "t\x1b[2Jx"
    spec = store_spec([("Copa", A, TEMP, 0.5, 1.0)], [])
    store = make_tree(tmp_path / "Data_v2" / "synthetic", spec)
    os.rename(store / "_shared" / "Copa" / A, store / "_shared" / "Copa" / hostile)
    make_tree(store, {f"{PILOT}/Copa/healthy": f"-> ../../_shared/Copa/{hostile}/"})
    result = cli("--no-emoji", "check", "--fix", "--select", "BC104")
    assert sorted(os.listdir(store / PILOT / "Copa")) == ["healthy"]
    assert "[!] BC104 healthy: left alone: the name t\\x1b[2Jx has control characters" in result.out
