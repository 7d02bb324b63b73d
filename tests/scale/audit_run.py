"""Run the batchcheck CLI and record every file system call it makes from Python, by path.

    python audit_run.py LOG -- <batchcheck arguments>

The log gets one line per call, ``<call> <absolute path>``: ``open`` (a file), ``opendir`` (a
folder opened to be listed), ``handle`` (a folder opened for ``*at`` calls only), ``scandir``,
``stat`` (stat, lstat, fstatat), ``fstat`` and ``readlink``. The read layer works relative to
folder descriptors, so a call's path is its descriptor's path (from ``/proc/self/fd``) joined
with the name it was given: the folder the kernel really looked in. An audit hook adds what
Python opens by path (``open()``: settings, cache files). Worker processes and threads inherit
the wrappers and the log's ``O_APPEND`` descriptor, so their calls are logged too. Tests read
the log to assert which files a command touched and how many calls it made, which says more
about scale than any wall time, and that nothing outside the root was touched.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from typing import Any

_ORIGINAL = {
    name: getattr(os, name)
    for name in ("open", "stat", "lstat", "fstat", "readlink", "scandir", "listdir")
}
_READLINK = _ORIGINAL["readlink"]


def _where(dir_fd: int | None) -> str:
    if dir_fd is None:
        return os.getcwd()
    return str(_READLINK(f"/proc/self/fd/{dir_fd}"))


def _path(path: Any, dir_fd: int | None = None) -> str:
    """The absolute path a call names (a descriptor: its folder)."""
    if isinstance(path, int):
        return _where(path)
    text = os.fsdecode(path)
    if text.startswith("/"):
        return os.path.normpath(text)
    return os.path.normpath(os.path.join(_where(dir_fd), text))


def main() -> int:
    """Install the wrappers and the hook, run the CLI, write the log."""
    log_path, rest = sys.argv[1], sys.argv[3:]
    # One O_APPEND descriptor, written with os.write (which raises no audit event): worker
    # processes forked by the scan inherit it, so their reads are logged too.
    fd = _ORIGINAL["open"](log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)

    def log(call: str, where: str) -> None:
        os.write(fd, f"{call} {where}\n".encode("utf-8", "surrogateescape"))

    def wrap(name: str, call: Callable[[tuple[Any, ...], dict[str, Any]], str]) -> None:
        original = _ORIGINAL[name]

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with contextlib.suppress(OSError):  # a closed descriptor: the call will say so
                log(call(args, kwargs), _path(args[0] if args else ".", kwargs.get("dir_fd")))
            return original(*args, **kwargs)

        setattr(os, name, wrapper)

    def opened(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        flags = args[1] if len(args) > 1 else kwargs.get("flags", 0)
        if flags & getattr(os, "O_PATH", 0):
            return "handle"
        return "opendir" if flags & os.O_DIRECTORY else "open"

    wrap("open", opened)
    for name in ("stat", "lstat"):
        wrap(name, lambda args, kwargs: "stat")
    wrap("fstat", lambda args, kwargs: "fstat")
    wrap("readlink", lambda args, kwargs: "readlink")
    wrap("scandir", lambda args, kwargs: "scandir")
    wrap("listdir", lambda args, kwargs: "scandir")

    def hook(event: str, args: tuple[Any, ...]) -> None:
        # open() by path; os.open (mode None) is logged by its wrapper, with its folder.
        by_path = args and isinstance(args[0], (str, bytes, os.PathLike))
        if event == "open" and by_path and args[1] is not None:
            log("open", _path(args[0]))

    sys.addaudithook(hook)
    from batchcheck.cli import main as cli_main

    return cli_main(rest)


if __name__ == "__main__":
    raise SystemExit(main())
