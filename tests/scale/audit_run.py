"""Run the batchcheck CLI with an audit hook that records every file open and folder listing.

    python audit_run.py LOG -- <batchcheck arguments>

The log gets one line per event: ``open <path>`` or ``scandir <path>``. Tests read it to assert
which files a command touched, which says more about scale than any wall time.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def main() -> int:
    """Install the hook, run the CLI, write the log."""
    log_path, rest = sys.argv[1], sys.argv[3:]
    # One O_APPEND descriptor, written with os.write (which raises no audit event): worker
    # processes forked by the scan inherit it, so their reads are logged too.
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)

    def log(line: str) -> None:
        os.write(fd, (line + "\n").encode("utf-8", "surrogateescape"))

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            log(f"open {os.fsdecode(args[0])}")
        elif event in ("os.scandir", "os.listdir") and args:
            log(f"scandir {os.fsdecode(args[0])}")

    sys.addaudithook(hook)
    from batchcheck.cli import main as cli_main

    return cli_main(rest)


if __name__ == "__main__":
    raise SystemExit(main())
