"""The README's walk-through (``make walkthrough``, examples/walkthrough.sh) on a copy of the
example store: each command it shows is the one the script runs, each output what it prints."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import PROJECT, README

BATCH = "batch_20250106_topp_sweep"


def section() -> str:
    text = README.read_text("utf-8")
    start = text.index("## From a sweep to training data: the whole loop")
    return text[start : text.index("\n## ", start + 3)]


def test_the_walkthrough_runs_as_the_readme_shows_it(tmp_path: Path) -> None:
    shutil.copytree(PROJECT / "examples", tmp_path / "examples", symlinks=True)
    env = {k: v for k, v in os.environ.items() if k != "BATCHCHECK_ROOT"}
    env.update(BATCHCHECK=f"{sys.executable} -m batchcheck", PYTHON=sys.executable)
    proc = subprocess.run(
        ["sh", "examples/walkthrough.sh"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    readme = section()
    commands = [
        line
        for block in re.findall(r"```sh\n(.*?)```", readme, re.S)
        for line in block.splitlines()
        if line.startswith(("batchcheck ", "python "))
    ]
    assert len(commands) == 8
    for command in commands:
        assert f"\n$ {command}\n" in out, command
    shown = re.findall(r"```text\n(.*?)```", readme, re.S)
    assert len(shown) == 4
    for block in shown:
        assert block in out, block
    store = tmp_path / "build" / "walkthrough" / "Data_v2" / "synthetic"
    assert sorted(os.listdir(store / BATCH / "Copa")) == [
        "temp07_topp06_gpt4o",
        "temp07_topp07_gpt4o",
        "temp07_topp08_gpt4o",
        "temp07_topp09_gpt4o",
    ]
    assert (tmp_path / "build" / "walkthrough" / "reports" / "index.html").is_file()
    assert os.listdir(tmp_path / "build" / "walkthrough" / "generated" / "Copa") == []  # moved in
