"""Where the store is and how to judge it: root discovery and ``[tool.batchcheck]``, validated once.

Order for the root (SPEC section 1): ``--root``, ``BATCHCHECK_ROOT``, ``root`` in the
``[tool.batchcheck]`` table of the nearest ``pyproject.toml`` that has one, then
``Data_v2/synthetic`` under the current directory.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batchcheck.errors import UsageError
from batchcheck.fingerprint import DEFAULT_FIELDS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

DEFAULT_ROOT = Path("Data_v2") / "synthetic"
DEFAULT_MAX_METADATA_BYTES = 1024 * 1024
# Requests in flight on a filesystem that makes each call wait (see README, io_threads).
DEFAULT_IO_THREADS = 64
DEFAULT_MAX_SWEEP_CONFIGURATIONS = 10_000
SEVERITIES = ("error", "warning")


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know about the store besides its contents."""

    root: Path
    root_source: str
    project_file: Path | None = None
    metadata_schema: Path | None = None
    fingerprint_fields: tuple[str, ...] = DEFAULT_FIELDS
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: Mapping[str, str] = field(default_factory=dict)
    naming_convention: bool = True
    max_metadata_bytes: int = DEFAULT_MAX_METADATA_BYTES
    io_threads: int = DEFAULT_IO_THREADS
    # Globs of training config files (absolute: made relative to the pyproject.toml's folder).
    configs: tuple[str, ...] = ()
    # Glob over a path (relative to the root, or to the project's folder) -> codes it ignores.
    per_path_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # check --git: judge what the commit holds (BC107).
    git: bool = False
    # A sweep that expands past this many configurations is refused (SPEC section 8).
    max_sweep_configurations: int = DEFAULT_MAX_SWEEP_CONFIGURATIONS
    # What the settings search passed by and the user should hear of (one line each).
    warnings: tuple[str, ...] = ()


def untrusted(path: Path) -> str | None:
    """Why a ``pyproject.toml`` may have been planted by someone else (SPEC section 8): not
    owned by the current user or root, or writable by others, or in a folder others may
    write. None when it is trusted."""
    try:
        own, folder = path.stat(), path.parent.stat()
    except OSError as exc:
        return f"cannot be examined ({exc.strerror})"
    if own.st_uid not in (os.getuid(), 0):
        return "is owned by another user"
    if own.st_mode & stat.S_IWOTH:
        return "is writable by anyone"
    if folder.st_mode & stat.S_IWOTH:
        return "is in a folder anyone may write"
    return None


def find_project_file(
    start: Path, skipped: list[str] | None = None
) -> tuple[Path, dict[str, Any]] | None:
    """The nearest trusted ``pyproject.toml`` upward from ``start`` with a ``[tool.batchcheck]``
    table. The search never passes the repository boundary (the first folder holding
    ``.git``), and an untrusted file is skipped, and said so in ``skipped``."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            why = untrusted(candidate)
            found = _table(candidate) if why is None else None
            if found is not None:
                return found
            if why is not None and skipped is not None:
                skipped.append(f"{candidate} {why}: ignored")
        if (folder / ".git").exists():
            return None
    return None


def _table(candidate: Path) -> tuple[Path, dict[str, Any]] | None:
    try:
        with candidate.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{candidate}: cannot read: {exc}") from exc
    table = data.get("tool", {}).get("batchcheck")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise UsageError(f"{candidate}: [tool.batchcheck] must be a table")
    return candidate, table


def _strings(value: Any, key: str, where: Path) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise UsageError(f"{where}: [tool.batchcheck] {key} must be a list of strings")
    return tuple(item.strip() for item in value)


def _settings_from_table(table: Mapping[str, Any], where: Path) -> dict[str, Any]:
    """Validate the table and turn it into keyword arguments for :class:`Settings`."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key == "root":
            if not isinstance(value, str):
                raise UsageError(f"{where}: [tool.batchcheck] root must be a string")
        elif key == "metadata_schema":
            if not isinstance(value, str):
                raise UsageError(f"{where}: [tool.batchcheck] metadata_schema must be a string")
            out[key] = (where.parent / value).resolve()
        elif key in ("select", "ignore", "fingerprint_fields"):
            out[key] = _strings(value, key, where)
        elif key == "severity":
            if not isinstance(value, dict) or not all(v in SEVERITIES for v in value.values()):
                raise UsageError(
                    f"{where}: [tool.batchcheck.severity] maps codes to 'error' or 'warning'"
                )
            out[key] = dict(value)
        elif key == "naming_convention":
            if not isinstance(value, bool):
                raise UsageError(f"{where}: [tool.batchcheck] naming_convention must be true/false")
            out[key] = value
        elif key == "io_threads":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1024:
                raise UsageError(f"{where}: [tool.batchcheck] io_threads must be from 1 to 1024")
            out[key] = value
        elif key == "max_sweep_configurations":
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise UsageError(
                    f"{where}: [tool.batchcheck] max_sweep_configurations must be a positive "
                    "integer"
                )
            out[key] = value
        elif key == "max_metadata_bytes":
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise UsageError(
                    f"{where}: [tool.batchcheck] max_metadata_bytes must be a positive integer"
                )
            out[key] = value
        elif key == "configs":
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise UsageError(
                    f"{where}: [tool.batchcheck] configs must be a list of globs (strings)"
                )
            out[key] = tuple(os.path.join(where.parent, glob) for glob in value)
        elif key == "per_path_ignores":
            if not isinstance(value, dict):
                raise UsageError(
                    f"{where}: [tool.batchcheck] per_path_ignores maps globs to lists of codes"
                )
            out[key] = tuple(
                (
                    glob,
                    tuple(
                        code.upper()
                        for code in _strings(codes, f"per_path_ignores {glob!r}", where)
                    ),
                )
                for glob, codes in value.items()
            )
        else:
            raise UsageError(f"{where}: [tool.batchcheck] has an unknown key {key!r}")
    return out


def load_settings(
    root_arg: str | None, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Find the root and the project's settings; the root must be a readable directory."""
    cwd = cwd or Path.cwd()
    env = os.environ if env is None else env
    skipped: list[str] = []
    found = find_project_file(cwd, skipped)
    kwargs: dict[str, Any] = {"warnings": tuple(skipped)}
    project_file = None
    if found:
        project_file, table = found
        kwargs.update(_settings_from_table(table, project_file))
    if root_arg:
        root, source = cwd / root_arg, "--root"
    elif env.get("BATCHCHECK_ROOT"):
        root, source = cwd / env["BATCHCHECK_ROOT"], "BATCHCHECK_ROOT"
    elif found and "root" in found[1]:
        root, source = project_file.parent / found[1]["root"], str(project_file)  # type: ignore[union-attr]
    else:
        root, source = cwd / DEFAULT_ROOT, "the default"
    root = Path(os.path.abspath(root))
    if not root.is_dir():
        raise UsageError(f"store root {root} (from {source}) is not a directory")
    if not os.access(root, os.R_OK | os.X_OK):
        raise UsageError(f"store root {root} (from {source}) is not readable")
    return Settings(root=root, root_source=source, project_file=project_file, **kwargs)
