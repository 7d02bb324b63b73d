"""The example GitHub Actions workflow (examples/github/batchcheck.yml): parsed with PyYAML, its
shape checked (checkout, setup-python with the pip cache, the batchcheck cache kept by
actions/cache, ``check --format github``), and its ``run:`` steps executed here, as the runner
would, in a real git repository holding a store: annotations the runner can parse, a job
summary, exit 1 on a broken store. ``pip`` is a stand-in that records what it was asked to
install (this checkout's batchcheck is the one on PATH)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from conftest import PROJECT, TEMP, TOPP, experiment, git, link, make_tree

WORKFLOW = PROJECT / "examples" / "github" / "batchcheck.yml"
STORE = "Data_v2/synthetic"


def load() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text("utf-8"))
    return data


def test_workflow_shape() -> None:
    flow = load()
    assert flow[True] == {"push": {"branches": ["main"]}, "pull_request": None}  # YAML 1.1 "on"
    (job,) = flow["jobs"].values()
    uses = [step.get("uses", "") for step in job["steps"]]
    assert uses[:3] == ["actions/checkout@v4", "actions/setup-python@v5", "actions/cache@v4"]
    setup, cache = job["steps"][1]["with"], job["steps"][2]["with"]
    assert setup["cache"] == "pip" and setup["cache-dependency-path"]
    assert cache["path"] == flow["env"]["BATCHCHECK_CACHE_DIR"]
    assert cache["key"].startswith("batchcheck-") and cache["restore-keys"]
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert any("batchcheck check --format github" in run for run in runs)
    # pinned to a commit, never to a tag that does not exist
    assert "@v0.1.0" not in flow["env"]["BATCHCHECK_SPEC"]
    assert flow["env"]["BATCHCHECK_SPEC"].startswith("batchcheck[hydra] @ git+https://")


def _runner_env(tmp_path: Path, flow: dict[str, Any]) -> dict[str, str]:
    """The environment of a step: the workflow's env, GitHub's variables, a recording pip."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pip = bin_dir / "python"
    pip.write_text(
        f'#!/bin/sh\nif [ "$1 $2 $3" = "-m pip install" ]; then echo "$4" >> "{tmp_path}/pip.log";'
        f' exit 0; fi\nexec "{sys.executable}" "$@"\n',
        "utf-8",
    )
    pip.chmod(pip.stat().st_mode | stat.S_IXUSR)
    env = {k: v for k, v in os.environ.items() if k not in ("BATCHCHECK_ROOT",)}
    env.update({k: str(v) for k, v in flow["env"].items()})
    env.update(
        GITHUB_ACTIONS="true",
        GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
        PATH=os.pathsep.join((str(bin_dir), str(Path(sys.executable).parent), env["PATH"])),
    )
    return env


def _run_steps(flow: dict[str, Any], repo: Path, env: dict[str, str]) -> list[Any]:
    (job,) = flow["jobs"].values()
    done = []
    for step in job["steps"]:
        if "run" not in step:
            continue
        assert "${{" not in step["run"]  # expressions are the runner's; the steps use env
        proc = subprocess.run(
            ["bash", "-e", "-c", step["run"]],
            cwd=repo,
            env={**env, **{k: str(v) for k, v in step.get("env", {}).items()}},
            capture_output=True,
            text=True,
            timeout=300,
        )
        done.append(proc)
        if proc.returncode != 0:
            break
    return done


def test_run_steps_execute_on_a_data_repository(tmp_path: Path) -> None:
    flow = load()
    repo = tmp_path / "data"
    spec = {
        **experiment("Copa", "temp05_topp10_gpt4o", TEMP, 0.5, 1.0),
        **link(TEMP, "Copa", "temp05_topp10_gpt4o"),
        **link(TOPP, "Copa", "temp05_topp10_gpt4o"),
    }
    make_tree(repo / STORE, spec)
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "store", cwd=repo)
    env = _runner_env(tmp_path, flow)

    install, check = _run_steps(flow, repo, env)
    assert install.returncode == 0, install.stderr
    assert (tmp_path / "pip.log").read_text("utf-8").startswith("batchcheck[hydra] @ git+")
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout == "0 errors, 0 warnings in 1 experiment, 2 links\n"
    assert (tmp_path / "summary.md").read_text("utf-8").startswith("## batchcheck\n")
    assert (repo / flow["env"]["BATCHCHECK_CACHE_DIR"]).is_dir()  # what actions/cache keeps

    # a link to an experiment that was never stored: an annotation on it, and the job fails
    make_tree(repo / STORE, link(TOPP, "Copa", "temp09_topp10_gpt4o"))
    git("add", "-A", cwd=repo)
    _, broken = _run_steps(flow, repo, env)
    assert broken.returncode == 1
    assert broken.stdout.startswith(
        f"::error file={STORE}/{TOPP}/Copa/temp09_topp10_gpt4o,title=BC101::dangling symlink"
    )
    assert "BC101" in (tmp_path / "summary.md").read_text("utf-8")
