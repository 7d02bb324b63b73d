"""The ``batchcheck-configs`` pre-commit hook, run for real by ``pre-commit try-repo``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import GIT_ENV, PROJECT, TEMP, git, make_tree, seed_spec

STORE = "Data_v2/synthetic"
DANGLING = f"{STORE}/{TEMP}/Copa/temp07_topp10_gpt4o/Copa"
GOOD = f"{STORE}/{TEMP}/Copa/temp05_topp10_gpt4o/Copa"


def try_repo(
    hook_repo: Path, data: Path, home: Path, *files: str
) -> subprocess.CompletedProcess[str]:
    """``pre-commit try-repo HOOK_REPO batchcheck-configs --files ...`` inside ``data``."""
    env = {k: v for k, v in os.environ.items() if k != "BATCHCHECK_ROOT"}
    env.update(GIT_ENV, PRE_COMMIT_HOME=str(home))
    hook = ("try-repo", str(hook_repo), "batchcheck-configs")
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *hook, "--files", *files],
        cwd=data,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_manifest_declares_both_hooks() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text())}
    configs = hooks["batchcheck-configs"]
    assert configs["entry"] == "batchcheck check-configs"
    assert configs["language"] == "python"
    assert configs["types_or"] == ["yaml", "json"]
    assert configs.get("pass_filenames", True) is True
    assert configs["require_serial"] is True
    assert hooks["batchcheck"]["entry"] == "batchcheck check --git"
    readme = (PROJECT / "README.md").read_text("utf-8")
    assert all(f"- id: {hook_id} " in readme for hook_id in hooks)


def test_try_repo_fails_on_a_dangling_path_and_passes_once_fixed(
    hook_repo: Path, tmp_path: Path, pre_commit_home: Path
) -> None:
    data = make_tree(tmp_path / "data", {"configs/train.yaml": f"data:\n  train: {DANGLING}\n"})
    make_tree(data / STORE, seed_spec())
    git("init", "-q", cwd=data)
    git("add", "-A", cwd=data)

    metadata = f"{STORE}/_shared/Copa/temp05_topp10_gpt4o/experiment_metadata.json"
    failed = try_repo(hook_repo, data, pre_commit_home, "configs/train.yaml", metadata)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "1 error, 0 warnings in 1 config, 1 path" in failed.stdout  # _shared/ is excluded
    assert "BC501" in failed.stdout
    assert "configs/train.yaml" in failed.stdout
    assert "line 2" in failed.stdout
    assert "goes through a dangling link" in failed.stdout

    (data / "configs/train.yaml").write_text(f"data:\n  train: {GOOD}\n", "utf-8")
    git("add", "-A", cwd=data)
    passed = try_repo(hook_repo, data, pre_commit_home, "configs/train.yaml")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout
