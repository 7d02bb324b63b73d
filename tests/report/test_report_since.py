"""``report --since REV``: what changed in a store kept in git, read from git without
checking the revision out."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import TEMP, TOPP, Result, experiment, git, link, make_tree
from test_report import Page
from test_report_markdown import raw_html

Cli = Callable[..., Result]


def test_since_lists_what_changed(cli: Cli, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    spec: dict[str, Any] = {}
    for name, temp in (("keep", 0.5), ("old_name", 0.7), ("retuned", 0.9), ("gone", 0.3)):
        spec.update(experiment("Copa", name, TEMP, temp, 1.0))
        spec.update(link(TEMP, "Copa", name))
    spec.update(link(TOPP, "Copa", "keep"))
    root = make_tree(repo / "store", spec)
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "before", cwd=repo)
    shared = root / "_shared" / "Copa"
    # A rename (folder and its link), a parameter changed, an experiment and a link removed,
    # one added with a new batch, and a link dropped.
    (shared / "old_name").rename(shared / "new_name")
    (root / TEMP / "Copa" / "old_name").unlink()
    os.symlink("../../_shared/Copa/new_name/", root / TEMP / "Copa" / "new_name")
    meta = shared / "retuned" / "experiment_metadata.json"
    data = json.loads(meta.read_text("utf-8"))
    data["generation"]["top_p"] = 0.95
    meta.write_text(json.dumps(data), "utf-8")
    shutil.rmtree(shared / "gone")
    (root / TEMP / "Copa" / "gone").unlink()
    (root / TOPP / "Copa" / "keep").unlink()
    make_tree(root, {**experiment("Copa", "<b>added", "batch_20250301_new", 0.7, 0.8)})
    make_tree(root, link("batch_20250301_new", "Copa", "<b>added"))
    head = git("rev-parse", "HEAD", cwd=repo).strip()
    out = tmp_path / "out"
    result = cli("--root", str(root), "report", "--since", "HEAD", "--output", str(out))
    assert result.code == 0, result.err
    assert git("rev-parse", "HEAD", cwd=repo).strip() == head  # nothing checked out
    text = (out / "index.md").read_text("utf-8")
    section = text.split("## Changes since `HEAD`", 1)[1].split("## Check", 1)[0]
    assert raw_html(section) == []
    items: dict[str, list[str]] = {}
    title = ""
    for line in section.splitlines():
        if line.startswith("**"):
            title = line.strip("*").rsplit(":", 1)[0]
        elif line.startswith("- "):
            items.setdefault(title, []).append(line[2:])
    assert items["Experiments added"] == ["Copa/\\<b\\>added"]
    assert items["Experiments removed"] == ["Copa/gone"]
    assert items["Experiments renamed"] == ["Copa/new_name: was Copa/old_name"]
    assert items["Parameters changed"] == ["Copa/retuned: generation.top_p"]
    assert items["Batches added"] == ["batch_20250301_new"]
    dropped = [item.split(":")[0].replace("\\", "") for item in items["Links dropped"]]
    assert sorted(dropped) == [f"{TEMP}/Copa/gone", f"{TEMP}/Copa/old_name", f"{TOPP}/Copa/keep"]
    assert len(items["Links added"]) == 2
    assert "Experiments removed" in text and "Batches removed" not in text
    page = Page((out / "index.html").read_text("utf-8"))
    assert "since" in page.ids
    assert "Copa/<b>added" in page.text


def test_since_an_unknown_revision_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    root = make_tree(tmp_path / "repo" / "store", link(TEMP, "Copa", "x"))
    git("init", "-q", cwd=tmp_path / "repo")
    result = cli("--root", str(root), "report", "--since", "nope", "--summary")
    assert result.code == 2
    assert "--since: git ls-tree: fatal: Not a valid object name nope" in result.err
    assert len(result.err.splitlines()) == 1


def test_since_a_renamed_batch_is_one_rename(cli: Cli, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    spec: dict[str, Any] = {}
    spec.update(experiment("Copa", "e1", TEMP, 0.7, 1.0))
    spec.update(link(TEMP, "Copa", "e1"))
    root = make_tree(repo / "store", spec)
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "before", cwd=repo)
    (root / TEMP).rename(root / "batch_20250102_renamed")
    result = cli("--root", str(root), "report", "--summary", "--since", "HEAD")
    assert result.code == 0, result.err
    assert "**Batches renamed: 1**" in result.out
    assert f"- batch_20250102_renamed: was {TEMP}" in result.out
    assert "Batches added" not in result.out and "Batches removed" not in result.out


def _committed(tmp_path: Path, spec: dict[str, Any]) -> Path:
    """A store under a git repository, ``spec`` committed; its root."""
    repo = tmp_path / "repo"
    root = make_tree(repo / "store", spec)
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "before", cwd=repo)
    return root


def _section(text: str, title: str) -> list[str]:
    """The items of one list of the summary's changes section."""
    part = text.split(f"**{title}: ", 1)
    if len(part) == 1:
        return []
    items = re.split(r"\n\n(?=\*\*|#)", part[1], maxsplit=1)[0].splitlines()[1:]
    return [line[2:].replace("\\", "") for line in items if line.startswith("- ")]


def test_since_new_findings_are_those_the_revision_did_not_have(cli: Cli, tmp_path: Path) -> None:
    spec: dict[str, Any] = {}
    for name, temp in (("keep", 0.5), ("gone", 0.7), ("old", 0.9)):
        spec.update(experiment("Copa", name, TEMP, temp, 1.0))
        spec.update(link(TEMP, "Copa", name))
    spec.update(link(TOPP, "Copa", "gone"))
    del spec["_shared/Copa/old/Copa/train.jsonl"]  # BC304 on old at HEAD, and after its rename
    spec[f"{TEMP}/Copa/notes.txt"] = "a stray file, there before"  # BC105 at HEAD and now
    root = _committed(tmp_path, spec)
    shared = root / "_shared" / "Copa"
    (shared / "old").rename(shared / "new")
    (root / TEMP / "Copa" / "old").unlink()
    os.symlink("../../_shared/Copa/new/", root / TEMP / "Copa" / "new")
    shutil.rmtree(shared / "gone")  # the links to it dangle now: new findings
    result = cli("--root", str(root), "report", "--summary", "--since", "HEAD")
    assert result.code == 0, result.err
    assert _section(result.out, "Experiments renamed") == ["Copa/new: was Copa/old"]
    # Not new: BC105 (there before) nor BC304 (moved with the rename). New: the dangling links,
    # and BC303 (the folder's new name is not the metadata's experiment_name).
    new = [item.split(":")[0] for item in _section(result.out, "New findings")]
    assert sorted(new) == [
        f"BC101 {TEMP}/Copa/gone",
        f"BC101 {TOPP}/Copa/gone",
        "BC303 _shared/Copa/new",
    ]


def test_since_an_absolute_link_is_judged_against_the_revisions_store(
    cli: Cli, tmp_path: Path
) -> None:
    spec = experiment("Copa", "x", TEMP, 0.7, 1.0)
    root = _committed(tmp_path, spec)
    os.makedirs(root / TEMP / "Copa")
    os.symlink(root / "_shared" / "Copa" / "x", root / TEMP / "Copa" / "x")  # BC103
    git("add", "-A", cwd=root.parent)
    git("commit", "-qm", "an absolute link", cwd=root.parent)
    (root / TEMP / "Copa" / "x").unlink()
    result = cli("--root", str(root), "report", "--summary", "--since", "HEAD")
    assert result.code == 0, result.err
    # At HEAD the link reached x (BC103 alone, not "leaves the store"): x no longer linked
    # and the batch left empty are new.
    new = [item.split(":")[0] for item in _section(result.out, "New findings")]
    assert sorted(new) == ["BC305 _shared/Copa/x", "BC401 _shared/Copa/x", f"BC402 {TEMP}"]
    dropped = _section(result.out, "Links dropped")
    assert dropped == [f"{TEMP}/Copa/x: {root / '_shared' / 'Copa' / 'x'}"]


def test_since_a_crafted_revision_writes_nothing_outside(cli: Cli, tmp_path: Path) -> None:
    root = _committed(tmp_path, experiment("Copa", "x", TEMP, 0.7, 1.0))
    repo = root.parent
    outside = tmp_path / "outside"
    outside.mkdir()
    # A tree git would never write: batch_evil is a symlink to a folder outside and also a
    # folder holding a file, which a naive rebuild would write through the symlink.
    blob = git("hash-object", "-w", "--stdin", cwd=repo, data=str(outside)).strip()
    data = git("hash-object", "-w", "--stdin", cwd=repo, data="x").strip()
    sub = git("mktree", cwd=repo, data=f"100644 blob {data}\tplanted\n").strip()
    store = git("rev-parse", "HEAD:store", cwd=repo).strip()
    entries = git("ls-tree", store, cwd=repo)
    entries += f"120000 blob {blob}\tbatch_evil\n040000 tree {sub}\tbatch_evil\n"
    tree = git("mktree", cwd=repo, data=entries).strip()
    top = git("mktree", cwd=repo, data=f"040000 tree {tree}\tstore\n").strip()
    commit = git("commit-tree", "-m", "crafted", top, cwd=repo).strip()
    result = cli("--root", str(root), "report", "--summary", "--since", commit)
    assert result.code == 0, result.err
    assert list(outside.iterdir()) == []
    assert "**Batches removed: 1**" in result.out


def test_since_a_revision_that_cannot_be_rebuilt_is_one_line(cli: Cli, tmp_path: Path) -> None:
    root = _committed(tmp_path, experiment("Copa", "x", TEMP, 0.7, 1.0))
    repo = root.parent
    data = git("hash-object", "-w", "--stdin", cwd=repo, data="x").strip()
    store = git("rev-parse", "HEAD:store", cwd=repo).strip()
    entries = git("ls-tree", store, cwd=repo) + f"100644 blob {data}\t{'n' * 300}\n"
    tree = git("mktree", cwd=repo, data=entries).strip()
    top = git("mktree", cwd=repo, data=f"040000 tree {tree}\tstore\n").strip()
    commit = git("commit-tree", "-m", "a name too long", top, cwd=repo).strip()
    result = cli("--root", str(root), "report", "--summary", "--since", commit)
    assert result.code == 2
    assert result.err.startswith(f"batchcheck: error: --since: cannot rebuild {commit}'s store: ")
    assert len(result.err.splitlines()) == 1


def test_since_metadata_refused_on_one_side_is_a_change(cli: Cli, tmp_path: Path) -> None:
    """A file the revision refused (an integer of 5000 digits) and the working tree fixed, and
    the other way round: both are changes, not "nothing changed"."""
    spec: dict[str, Any] = {}
    for name, temp in (("fixed", 0.5), ("broken", 0.7)):
        spec.update(experiment("Copa", name, TEMP, temp, 1.0))
        spec.update(link(TEMP, "Copa", name))
    good = json.dumps(spec["_shared/Copa/fixed/experiment_metadata.json"])
    spec["_shared/Copa/fixed/experiment_metadata.json"] = good.replace(
        "{", '{"n": ' + "9" * 5000 + ", ", 1
    )
    root = _committed(tmp_path, spec)
    (root / "_shared/Copa/fixed/experiment_metadata.json").write_text(good)
    (root / "_shared/Copa/broken/experiment_metadata.json").write_text("{")
    result = cli("--root", str(root), "report", "--summary", "--since", "HEAD")
    assert result.code == 0, result.err
    assert _section(result.out, "Parameters changed") == [
        "Copa/broken: metadata refused now (readable before)",
        "Copa/fixed: metadata readable now (refused before)",
    ]
    assert "Nothing changed" not in result.out
