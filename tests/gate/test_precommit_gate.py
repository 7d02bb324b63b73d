"""The ``batchcheck`` hook as a data repository runs it: real git repositories, the real
``pre-commit try-repo``. What used to pass and must not: a batch rename that breaks training
configs, a link staged to an experiment left untracked, a clone made with
``core.symlinks=false``. Each is blocked with a message that says what to do; warnings show
when the commit passes; the README's snippets work as printed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from conftest import GIT_ENV, README, TEMP, TOPP, experiment, git, link, make_tree, run_script

STORE = "Data_v2/synthetic"
GOOD = "temp05_topp10_gpt4o"


def try_repo(hook_repo: Path, data: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """``pre-commit try-repo HOOK_REPO batchcheck`` inside ``data`` (staged files only, as a
    commit would run it)."""
    env = {k: v for k, v in os.environ.items() if k not in ("BATCHCHECK_ROOT", "GITHUB_ACTIONS")}
    env.update(GIT_ENV, PRE_COMMIT_HOME=str(home))
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "batchcheck"],
        cwd=data,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _data_repo(path: Path) -> Path:
    """A store with two batches, a Hydra-style config naming a batch path, and the project's
    ``[tool.batchcheck]`` naming the configs; all committed."""
    spec = {
        **experiment("Copa", GOOD, TEMP, 0.5, 1.0),
        **experiment("Copa", "temp07_topp09_gpt4o", TOPP, 0.7, 0.9),
        **link(TEMP, "Copa", GOOD),
        **link(TOPP, "Copa", "temp07_topp09_gpt4o"),
    }
    make_tree(path / STORE, spec)
    config = f"paths:\n  root: {STORE}\ndata:\n  train: ${{paths.root}}/{TEMP}/Copa/{GOOD}/Copa\n"
    make_tree(path, {"configs/train/copa.yaml": config})
    (path / "pyproject.toml").write_text(
        f'[tool.batchcheck]\nroot = "{STORE}"\nconfigs = ["configs/**/*.yaml"]\n', "utf-8"
    )
    git("init", "-q", cwd=path)
    git("add", "-A", cwd=path)
    git("commit", "-q", "-m", "store", cwd=path)
    return path


def test_the_store_hook_blocks_what_used_to_pass(
    hook_repo: Path, tmp_path: Path, pre_commit_home: Path
) -> None:
    home = pre_commit_home

    # A healthy commit passes, and its warning is shown (verbose hook).
    data = _data_repo(tmp_path / "rename")
    make_tree(data / STORE, experiment("Copa", "temp09_topp10_gpt4o", TEMP, 0.9, 1.0))
    git("add", "-A", cwd=data)
    passed = try_repo(hook_repo, data, home)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout
    assert "BC401" in passed.stdout  # the orphan's warning, shown although the hook passed
    git("commit", "-q", "-m", "orphan", cwd=data)

    # 1. A batch rename: the configs that name the old batch fail the store hook.
    git("mv", f"{STORE}/{TEMP}", f"{STORE}/batch_20241229_temp", cwd=data)
    renamed = try_repo(hook_repo, data, home)
    assert renamed.returncode == 1, renamed.stdout + renamed.stderr
    assert "configs/train/copa.yaml" in renamed.stdout
    assert f"BC501 line 4: '{STORE}/{TEMP}/Copa/{GOOD}/Copa' does not resolve" in renamed.stdout
    assert "was the batch renamed? fix the path here" in renamed.stdout

    # 2. A link staged to an experiment left untracked: blocked by BC107, saying what to add.
    data = _data_repo(tmp_path / "untracked")
    make_tree(data / STORE, experiment("Copa", "temp03_topp10_gpt4o", TEMP, 0.3, 1.0))
    make_tree(data / STORE, link(TEMP, "Copa", "temp03_topp10_gpt4o"))
    git("add", f"{STORE}/{TEMP}", cwd=data)
    untracked = try_repo(hook_repo, data, home)
    assert untracked.returncode == 1, untracked.stdout + untracked.stderr
    assert "BC107 temp03_topp10_gpt4o: git tracks this link but not its target" in untracked.stdout
    assert "'git add _shared/Copa/temp03_topp10_gpt4o'" in untracked.stdout

    # 3. A clone made with core.symlinks=false: every link is a file; BC106 blocks it. Made
    # with `git -c core.symlinks=false clone`, the clone's own config does not keep the
    # setting: git sees the files as changed and pre-commit stashes them (the commit holds
    # links), so `check` run directly is what sees it there. Made with `git clone -c
    # core.symlinks=false` (what Windows and some CI caches leave), the checkout stays files
    # and the hook blocks the commit.
    source = str(tmp_path / "rename")
    transient = tmp_path / "transient"
    git("-c", "core.symlinks=false", "clone", "-q", source, str(transient), cwd=tmp_path)
    assert (transient / STORE / TOPP / "Copa" / "temp07_topp09_gpt4o").is_file()
    direct = run_script("check", "--no-cache", "--format", "text", cwd=transient)
    assert direct.code == 1, direct.out + direct.err
    assert "BC106 temp07_topp09_gpt4o: a destroyed symlink" in direct.out
    assert "'batchcheck check --fix' restores it" in direct.out

    clone = tmp_path / "clone"
    git("clone", "-q", "-c", "core.symlinks=false", source, str(clone), cwd=tmp_path)
    assert (clone / STORE / TOPP / "Copa" / "temp07_topp09_gpt4o").is_file()
    destroyed = try_repo(hook_repo, clone, home)
    assert destroyed.returncode == 1, destroyed.stdout + destroyed.stderr
    assert "BC106 temp07_topp09_gpt4o: a destroyed symlink" in destroyed.stdout
    assert "'batchcheck check --fix' restores it" in destroyed.stdout


def _readme_snippets() -> list[dict[str, Any]]:
    """The ``.pre-commit-config.yaml`` blocks of the README's hook sections, as printed."""
    text = README.read_text("utf-8")
    found = []
    for heading in ("## Using it as a pre-commit hook", "### Both hooks in a data repository"):
        start = text.index("```yaml\n", text.index(heading)) + len("```yaml\n")
        found.append(yaml.safe_load(text[start : text.index("```", start)]))
    return found


def test_the_readme_snippets_work_as_printed(
    hook_repo: Path, tmp_path: Path, pre_commit_home: Path
) -> None:
    """Each README snippet, with only ``repo`` pointed at this checkout and ``rev`` at its
    commit (the snippet pins a commit, which is what ``rev`` must name), passes on a healthy
    data repository with ``pre-commit run --all-files``."""
    data = _data_repo(tmp_path / "data")
    rev = git("rev-parse", "HEAD", cwd=hook_repo).strip()
    env = {k: v for k, v in os.environ.items() if k not in ("BATCHCHECK_ROOT", "GITHUB_ACTIONS")}
    env.update(GIT_ENV, PRE_COMMIT_HOME=str(pre_commit_home))
    for snippet in _readme_snippets():
        (repo,) = snippet["repos"]
        assert len(repo["rev"]) == 40  # a commit, not a tag that may not exist
        repo.update(repo=str(hook_repo), rev=rev)
        (data / ".pre-commit-config.yaml").write_text(yaml.safe_dump(snippet), "utf-8")
        git("add", "-A", cwd=data)
        done = subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", "--all-files"],
            cwd=data,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "batchcheck (store)" in done.stdout and "Passed" in done.stdout
