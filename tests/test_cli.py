"""The command table: every command is reachable, and a run imports only its own module."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLE_ROOT

from batchcheck.commands import COMMANDS, load


@pytest.mark.parametrize("name", COMMANDS)
def test_each_module_is_the_command_its_name_says(name: str) -> None:
    module = load(name)
    assert name == module.NAME
    assert callable(module.run) and callable(module.add_arguments) and module.HELP


@pytest.mark.parametrize(
    "argv",
    [
        ["list-batches"],
        ["--root", str(EXAMPLE_ROOT), "-q", "list-batch-experiments", "batch_20241229_temperature"],
        ["list-batches", "--root", str(EXAMPLE_ROOT), "--format", "json"],
    ],
)
def test_a_run_imports_only_the_module_of_its_command(argv: list[str], tmp_path: Path) -> None:
    code = (
        "import json, sys; from batchcheck.cli import main; rc = main(sys.argv[1:]); "
        "print(json.dumps([m for m in sys.modules if m.startswith('batchcheck.commands.')])); "
        "sys.exit(rc)"
    )
    command = next(a for a in argv if a in COMMANDS)
    proc = subprocess.run(
        [sys.executable, "-c", code, "--root", str(EXAMPLE_ROOT), *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    imported = set(json.loads(proc.stdout.splitlines()[-1])) - {"batchcheck.commands._lookup"}
    assert imported == {f"batchcheck.commands.{COMMANDS[command]}"}


def test_help_lists_every_command(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "batchcheck", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0
    for name in COMMANDS:
        assert f"    {name}" in proc.stdout
        assert load(name).HELP.split()[0] in proc.stdout
