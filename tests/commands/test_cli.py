"""The command table: every command is reachable, and a run imports only its own module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLE_ROOT, generated

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


@pytest.fixture(scope="module")
def large_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough links that a JSON listing is far larger than a pipe's buffer."""
    return generated(tmp_path_factory.mktemp("cli") / "store", 600, 6, 100)


def _listing(root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    argv = [sys.executable, "-m", "batchcheck", "--root", str(root), "--no-cache"]
    return subprocess.run(
        [*argv, "list-batches", "--verbose", "--format", "json"],
        capture_output=True,
        env={**os.environ, **env},
        timeout=120,
    )


def test_unbuffered_output_is_whole_and_the_same(large_store: Path) -> None:
    """PYTHONUNBUFFERED (common in containers) must not change a byte of the output."""
    buffered = _listing(large_store, {"PYTHONUNBUFFERED": ""})
    unbuffered = _listing(large_store, {"PYTHONUNBUFFERED": "1"})
    assert buffered.returncode == unbuffered.returncode == 0
    assert len(buffered.stdout) > 1 << 17
    assert unbuffered.stdout == buffered.stdout
    assert json.loads(unbuffered.stdout)["batches"]


@pytest.mark.parametrize("unbuffered", ["", "1"])
@pytest.mark.parametrize("size", ["large", "small"])
def test_a_reader_that_goes_away_is_not_an_error(
    large_store: Path, unbuffered: str, size: str
) -> None:
    """``batchcheck ... | head``: exit 0 and nothing on stderr, not a BrokenPipeError, whether
    the reader leaves mid-way (large) or before a small output is written at all."""
    root, verbose = (large_store, ["--verbose"]) if size == "large" else (EXAMPLE_ROOT, [])
    argv = [sys.executable, "-m", "batchcheck", "--root", str(root), "--no-cache"]
    proc = subprocess.Popen(
        [*argv, "list-batches", *verbose, "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": unbuffered},
    )
    with proc:
        assert proc.stdout is not None and proc.stderr is not None
        if size == "large":
            assert proc.stdout.read(100).startswith(b"{")
        proc.stdout.close()
        assert proc.wait(timeout=120) == 0
        assert proc.stderr.read() == b""
