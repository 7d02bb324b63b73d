"""Progress on stderr: on a terminal only, cleared before the output, silenced by ``--quiet``.

The real process runs with its stderr (or stdout and stderr) on a pseudo-terminal. The line
normally waits a second; the child shortens ``batchcheck.progress.DELAY`` to 0 so that the
first counted batch or chunk draws it, and no test depends on how long a scan takes.
"""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLE_ROOT, PROJECT

from batchcheck.progress import Progress

# The CLI as `python -m batchcheck` runs it, with no delay before the first progress line.
RUNNER = (
    "import sys, batchcheck.progress as p; p.DELAY = 0.0; "
    "from batchcheck.cli import main; raise SystemExit(main(sys.argv[1:]))"
)
CLEAR = "\r\033[K"
SHARED_PATH = str(EXAMPLE_ROOT / "_shared" / "Copa" / "temp05_topp10_gpt4o")
SWEEP = str(PROJECT / "examples" / "sweeps" / "topp_sweep.yaml")

# Every command that scans the whole store (or all of _shared, or every batch).
WHOLE_STORE = {
    "check": ["check"],
    "report": ["report", "--format", "md"],
    "list-batches": ["list-batches"],
    "list-shared-experiments": ["list-shared-experiments"],
    "list-data-paths": ["list-data-paths"],
    "resolve-data-path (shared path)": ["resolve-data-path", SHARED_PATH],
    "plan": ["plan", SWEEP, "--batch", "batch_20250106_topp_sweep"],
}


def command(*argv: str) -> list[str]:
    """The child's argv: the example store, no cache (a cached check would not scan at all)."""
    return [sys.executable, "-c", RUNNER, "--root", str(EXAMPLE_ROOT), "--no-cache", *argv]


def read_terminal(master: int) -> str:
    """Everything written to the terminal until every writer has closed it."""
    chunks = []
    while select.select([master], [], [], 120)[0]:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed its side
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode("utf-8")


def on_terminal(argv: list[str], cwd: Path, *, stdout_too: bool = False) -> tuple[int, str, str]:
    """Run ``argv`` with stderr (and stdout if asked) on a pseudo-terminal.

    Returns the exit code, what the terminal showed, and stdout when it went to a file.
    """
    master, slave = pty.openpty()
    out_path = cwd / "stdout.txt"
    with open(out_path, "wb") as out_file:
        try:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=slave if stdout_too else out_file,
                stderr=slave,
            )
        finally:
            os.close(slave)
        try:
            shown = read_terminal(master)
        finally:
            os.close(master)
        code = proc.wait(timeout=120)
    return code, shown, out_path.read_text(encoding="utf-8")


def piped(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` with stdout and stderr on pipes."""
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("argv", WHOLE_STORE.values(), ids=WHOLE_STORE.keys())
def test_a_terminal_shows_progress_and_clears_it(argv: list[str], tmp_path: Path) -> None:
    code, shown, out = on_terminal(command(*argv), tmp_path)
    quiet = piped(command(*argv), tmp_path)
    assert code == quiet.returncode
    assert "scanning: " in shown
    assert " experiments, " in shown
    assert " links ..." in shown
    assert shown.endswith(CLEAR)  # cleared: the next thing on the terminal starts clean
    assert out == quiet.stdout  # nothing of the progress leaks into the output


def test_the_line_is_cleared_before_the_output_starts(tmp_path: Path) -> None:
    code, shown, _ = on_terminal(command("list-batches"), tmp_path, stdout_too=True)
    assert code == 0
    progress, cleared, output = shown.rpartition(CLEAR)
    assert cleared
    assert progress.startswith("\rscanning: ")
    assert "batch_20241229_temperature" in output
    assert "scanning" not in output
    assert "batch_" not in progress


@pytest.mark.parametrize("argv", [["check"], ["list-shared-experiments"]])
def test_nothing_on_stderr_when_it_is_not_a_terminal(argv: list[str], tmp_path: Path) -> None:
    result = piped(command(*argv), tmp_path)
    assert result.returncode in (0, 1)
    assert result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_silences_it_on_a_terminal(where: str, tmp_path: Path) -> None:
    argv = ["--quiet", "check"] if where == "before" else ["check", "-q"]
    code, shown, out = on_terminal(command(*argv), tmp_path)
    assert code == piped(command("check"), tmp_path).returncode
    assert shown == ""
    assert "errors" in out


def test_progress_counts_and_waits_for_its_delay() -> None:
    stream = io.StringIO()
    progress = Progress(True, stream, delay=3600)
    progress.add(experiments=10, links=20)
    progress.done()
    assert stream.getvalue() == ""  # a quick run stays silent
    drawn = Progress(True, stream, delay=0)
    drawn.add_experiments(10)
    assert stream.getvalue() == "\rscanning: 10 experiments, 0 links ..."
    drawn.done()
    assert stream.getvalue().endswith(CLEAR)


def test_disabled_progress_writes_nothing() -> None:
    stream = io.StringIO()
    progress = Progress(False, stream, delay=0)
    progress.add(experiments=5, links=5)
    progress.done()
    assert stream.getvalue() == ""
    assert (progress.experiments, progress.links) == (5, 5)
