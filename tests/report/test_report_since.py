"""``report --since REV``: what changed in a store kept in git, read from git without
checking the revision out."""

from __future__ import annotations

import json
import os
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
