"""The ``batchcheck`` pre-commit hook: the manifest, and a real ``pre-commit try-repo`` run
against a temporary data repository that fails on a dangling link and passes once fixed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import GIT_ENV, PROJECT, TEMP, TOPP, experiment, git, link, make_tree

STORE = "Data_v2/synthetic"


def test_manifest_hook() -> None:
    hooks = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text("utf-8"))
    hook = next(h for h in hooks if h["id"] == "batchcheck")
    assert hook["entry"] == "batchcheck check --git"
    assert hook["verbose"] is True  # warnings show when the commit passes
    assert hook["language"] == "python"
    # the whole store on every commit: a rename under _shared breaks untouched batches
    assert (hook["always_run"], hook["pass_filenames"], hook["require_serial"]) == (
        True,
        False,
        True,
    )


def test_project_config_runs_the_gate_on_the_example_store() -> None:
    config = yaml.safe_load((PROJECT / ".pre-commit-config.yaml").read_text("utf-8"))
    repos = {repo["repo"]: repo for repo in config["repos"]}
    ruff_ids = {
        hook["id"] for hook in repos["https://github.com/astral-sh/ruff-pre-commit"]["hooks"]
    }
    assert ruff_ids == {"ruff-check", "ruff-format"}
    (local,) = repos["local"]["hooks"]
    assert local["entry"] == "make check"
    assert local["pass_filenames"] is False


def try_repo(hook_repo: Path, data: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """``pre-commit try-repo HOOK_REPO batchcheck --all-files`` inside ``data``."""
    env = {k: v for k, v in os.environ.items() if k not in ("BATCHCHECK_ROOT", "GITHUB_ACTIONS")}
    env.update(GIT_ENV, PRE_COMMIT_HOME=str(home))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pre_commit",
            "try-repo",
            str(hook_repo),
            "batchcheck",
            "--all-files",
        ],
        cwd=data,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_try_repo_fails_on_a_dangling_link_and_passes_once_fixed(
    hook_repo: Path, tmp_path: Path, pre_commit_home: Path
) -> None:
    spec = experiment("Copa", "temp05_topp10_gpt4o", TEMP, 0.5, 1.0)
    spec.update(link(TEMP, "Copa", "temp05_topp10_gpt4o"))
    spec.update(link(TOPP, "Copa", "temp05_topp10_gpt4o"))
    spec.update(link(TOPP, "Copa", "temp07_topp08_gpt4o"))  # never stored: dangling
    data = tmp_path / "data"
    make_tree(data / STORE, spec)
    git("init", "-q", cwd=data)
    git("add", "-A", cwd=data)
    git("commit", "-q", "-m", "store", cwd=data)

    failed = try_repo(hook_repo, data, pre_commit_home)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "BC101 temp07_topp08_gpt4o: dangling symlink" in failed.stdout
    assert "1 error, 0 warnings in 1 experiment, 3 links" in failed.stdout

    git("rm", "-q", f"{STORE}/{TOPP}/Copa/temp07_topp08_gpt4o", cwd=data)
    git("commit", "-q", "-m", "drop the dangling link", cwd=data)
    passed = try_repo(hook_repo, data, pre_commit_home)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout
