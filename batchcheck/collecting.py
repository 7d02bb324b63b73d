"""Orphans (BC401): listed with their sizes, moved out of the store, or deleted.

What keeps it safe:

- it refuses to run when ``check`` finds an error in a batch (a dangling link may be a rename
  in progress: the experiment it names would look orphaned), when a batch folder cannot be
  read, or when a configured training config cannot be read (it may name an orphan);
- an experiment that any batch link names (whatever the link's state) or any configured config
  names is never touched;
- an orphan first leaves the store in one rename to a hidden name beside it
  (``.<name>.gc-archive-<random>`` or ``.gc-delete-``; every reader ignores hidden entries), so
  the store shows it whole or not at all. It then moves into the archive in one rename (on
  another filesystem: copied under a hidden name there, renamed into place, and only then
  removed from the store) or is deleted. A rerun finds what a killed run left and finishes it
  (an orphan still hidden in the store while the archive holds its copy, entry for entry of the
  same sizes and times, is then removed from the store).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from batchcheck.atomic import rename_noreplace, temporaries, temporary_name
from batchcheck.config import Settings
from batchcheck.configs import configured_store_paths
from batchcheck.engine import run_check
from batchcheck.errors import NotFound, UsageError
from batchcheck.findings import Selection, Severity
from batchcheck.index import StoreIndex
from batchcheck.layout import BATCH_PREFIX, SHARED
from batchcheck.model import Store
from batchcheck.names import decoded, display, is_hidden, shown_path
from batchcheck.scan import ScanOptions, scan
from batchcheck.scan.listing import is_real_dir

Key = tuple[str, str]
# The hidden names an orphan takes on its way out (atomic.temporary_name purposes).
ARCHIVING, ARCHIVED, DELETING, COPYING = "gc-archive", "gc-archived", "gc-delete", "gc-copy"
ALREADY = "the archive holds that name already"


class GcError(NotFound):
    """gc refuses to run (errors in batches, an unreadable config): exit 1."""


@dataclass(frozen=True)
class Orphan:
    """A shared experiment no batch links, and what happened to it.

    ``action``: ``orphan`` (listed), ``archived``, ``deleted``, ``kept`` (a config names it)
    or ``failed`` (``detail`` says why, and where the orphan is). What a killed run left has
    its hidden name in ``leftover`` and, until finished, the purpose of that name as its
    action (``gc-archive``, ``gc-archived``, ``gc-delete``).
    """

    dataset: str
    name: str
    size: int = 0
    size_complete: bool = True
    action: str = "orphan"
    detail: str = ""
    destination: Path | None = None
    leftover: Path | None = None  # the hidden folder an interrupted run left in the store

    @property
    def rel(self) -> str:
        """``_shared/D/E``, relative to the root."""
        return display(f"{SHARED}/{self.dataset}/{self.name}")

    def to_json(self, cwd: Path) -> dict[str, Any]:
        """``{"dataset", "experiment", "path", "size", "size_complete", "action", "detail",
        "destination", "leftover"}``."""
        return {
            "dataset": decoded(self.dataset),
            "experiment": decoded(self.name),
            "path": self.rel,
            "size": self.size,
            "size_complete": self.size_complete,
            "action": self.action,
            "detail": self.detail,
            "destination": shown_path(self.destination, cwd) if self.destination else None,
            "leftover": shown_path(self.leftover, cwd) if self.leftover else None,
        }


@dataclass(frozen=True)
class GcRun:
    """What one ``gc`` found and did: ``mode`` is ``list`` (a dry run), ``archive`` or
    ``delete``."""

    root: Path
    mode: str
    archive: Path | None
    orphans: tuple[Orphan, ...]
    kept: tuple[Orphan, ...]
    unfinished: tuple[Orphan, ...]

    @property
    def total(self) -> int:
        """Bytes of the orphans (kept ones excluded)."""
        return sum(orphan.size for orphan in self.orphans)

    @property
    def failed(self) -> list[Orphan]:
        """Orphans and leftovers that could not be moved or deleted."""
        return [o for o in (*self.orphans, *self.unfinished) if o.action == "failed"]

    def exit_code(self) -> int:
        """0, or 1 when an orphan could not be moved or deleted (said in the listing)."""
        return 1 if self.failed else 0

    def to_json(self, cwd: Path) -> dict[str, Any]:
        """``{"mode", "archive", "orphans", "kept", "unfinished", "total_size"}``."""
        return {
            "mode": self.mode,
            "archive": shown_path(self.archive, cwd) if self.archive else None,
            "orphans": [orphan.to_json(cwd) for orphan in self.orphans],
            "kept": [orphan.to_json(cwd) for orphan in self.kept],
            "unfinished": [orphan.to_json(cwd) for orphan in self.unfinished],
            "total_size": self.total,
        }


def archive_folder(settings: Settings, cwd: Path, text: str) -> Path:
    """``--archive DIR`` as an absolute path outside the store; a usage error otherwise."""
    path = Path(os.path.abspath(cwd / text))
    real, roots = os.path.realpath(path), {str(settings.root), os.path.realpath(settings.root)}
    for root in roots:
        for spelling in {str(path), real}:
            if spelling == root or spelling.startswith(root.rstrip(os.sep) + os.sep):
                raise UsageError(
                    f"--archive {display(text)} is inside the store {shown_path(root, cwd)}: "
                    "choose a folder outside it"
                )
    if os.path.lexists(path) and not os.path.isdir(path):
        raise UsageError(f"--archive {display(text)} is not a folder")
    return path


def _refusal(store: Store, settings: Settings) -> str:
    """Why gc may not run on this store, or ``""``."""
    for batch in store.batches.values():
        for problem in batch.problems:
            return f"{display(str(problem.path))}: {problem.message}: gc cannot tell what it links"
    result = run_check(store, settings, Selection(("BC1",)))
    errors = [
        f
        for f in result.findings
        if f.severity is Severity.ERROR
        and f.path.relative_to(store.root).parts[0].startswith(BATCH_PREFIX)
    ]
    if errors:
        first = errors[0]
        where = display(str(first.path.relative_to(store.root)))
        return (
            f"check finds {len(errors)} error(s) in batches (first: {first.code} {where}); a "
            "broken link may be a rename in progress: fix them first ('batchcheck check')"
        )
    return ""


def _linked(store: Store, settings: Settings) -> set[Key]:
    """Experiments a batch entry names: a link in any state, or a destroyed link's text."""
    index = StoreIndex(store, settings)
    pointed = (index.pointed(s) for batch in store.batches.values() for s in batch.strays)
    return set(index.links_to) | {key for key in pointed if key is not None}


def _named_by_configs(settings: Settings, cwd: Path) -> dict[Key, str]:
    """Experiments the configured training configs name, with where (the first place)."""
    errors, named = configured_store_paths(settings, cwd)
    if errors:
        first = errors[0]
        raise GcError(
            f"{shown_path(first.path, cwd)}: {first.message}: gc cannot tell whether it names "
            "an orphan; nothing was changed"
        )
    out: dict[Key, str] = {}
    for item in named:
        if len(item.parts) >= 3 and item.parts[0] == SHARED:
            where = f"{shown_path(item.config, cwd)} line {item.string.line}"
            out.setdefault((item.parts[1], item.parts[2]), where)
    return out


def _unfinished(root: Path) -> list[Orphan]:
    """What killed runs left in ``_shared``: hidden orphans on their way out."""
    shared = root / SHARED
    out = []
    with contextlib.suppress(OSError):
        for entry in sorted(os.scandir(shared), key=lambda e: e.name):
            if is_hidden(entry.name) or not is_real_dir(entry.path):
                continue
            for purpose in (ARCHIVING, ARCHIVED, DELETING):
                for name, path in temporaries(Path(entry.path), purpose):
                    out.append(Orphan(entry.name, name, action=purpose, leftover=path))
    return out


def _into_archive(hidden: Path, home: Path, dest: Path) -> str:
    """Move a hidden orphan into the archive; ``""`` when done, else why not (the orphan then
    goes back to its name in the store, when that is free)."""
    os.makedirs(dest.parent, exist_ok=True)
    if os.path.lexists(dest):
        if _copied(hidden, dest):  # a killed run had copied it there, on another filesystem
            done = temporary_name(home, ARCHIVED)
            rename_noreplace(hidden, done)
            shutil.rmtree(done)
            return ""
        with contextlib.suppress(OSError):
            rename_noreplace(hidden, home)
        return f"{ALREADY}: put back in the store"
    try:
        rename_noreplace(hidden, dest)
        return ""
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    copy = temporary_name(dest, COPYING)
    shutil.copytree(hidden, copy, symlinks=True)
    rename_noreplace(copy, dest)
    done = temporary_name(home, ARCHIVED)
    rename_noreplace(hidden, done)
    shutil.rmtree(done)
    return ""


def _copied(source: Path, copy: Path) -> bool:
    """Whether ``copy`` is what ``copytree`` made of ``source``: the same entries, each file of
    the same size and modification time (the copy keeps them), each symlink the same target."""
    try:
        return _tree(source) == _tree(copy)
    except OSError:
        return False


def _tree(top: Path) -> dict[str, tuple[int, int, str]]:
    """Every entry under ``top`` (symlinks not followed): (type, size, mtime or link target)."""
    out: dict[str, tuple[int, int, str]] = {}
    pending = [""]
    while pending:
        rel = pending.pop()
        with os.scandir(top / rel) as entries:
            for entry in entries:
                name = f"{rel}/{entry.name}" if rel else entry.name
                if entry.is_symlink():
                    out[name] = (2, 0, os.readlink(entry.path))
                elif entry.is_dir(follow_symlinks=False):
                    out[name] = (1, 0, "")
                    pending.append(name)
                else:
                    st = entry.stat(follow_symlinks=False)
                    out[name] = (0, st.st_size, str(st.st_mtime_ns // 1_000_000_000))
    return out


def _remove_copies(archive: Path) -> None:
    """Half-made copies a killed run left in the archive (another filesystem only)."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(archive / SHARED):
            for _, path in temporaries(Path(entry.path), COPYING):
                shutil.rmtree(path, ignore_errors=True)


def _collect_one(root: Path, orphan: Orphan, archive: Path | None) -> Orphan:
    """Archive or delete one orphan (or finish one a killed run left); the result says how."""
    home = root / SHARED / orphan.dataset / orphan.name
    dest = archive / SHARED / orphan.dataset / orphan.name if archive else None
    try:
        if orphan.leftover is not None:  # a killed run's: finish what it was doing
            hidden = orphan.leftover
            if orphan.action in (ARCHIVED, DELETING):
                shutil.rmtree(hidden)
                return replace(
                    orphan, action="archived" if orphan.action == ARCHIVED else "deleted"
                )
        elif dest is not None and os.path.lexists(dest):
            return replace(orphan, action="failed", detail=f"{ALREADY}: left in the store")
        else:
            hidden = temporary_name(home, ARCHIVING if dest else DELETING)
            rename_noreplace(home, hidden)
        if dest is None:
            shutil.rmtree(hidden)
            return replace(orphan, action="deleted")
        failure = _into_archive(hidden, home, dest)
        if failure:
            return replace(orphan, action="failed", detail=failure)
        return replace(orphan, action="archived", destination=dest)
    except OSError as exc:
        where = f" ({display(str(exc.filename))})" if exc.filename else ""
        return replace(orphan, action="failed", detail=f"{exc.strerror or exc}{where}")


def _finishable(orphan: Orphan, archive: Path | None) -> bool:
    """Whether this run finishes a killed run's leftover: an archive run finishes archiving,
    a delete run deleting; a leftover already copied into an archive is removed by either."""
    if orphan.action == ARCHIVED:
        return True
    return orphan.action == (ARCHIVING if archive else DELETING)


def collect(
    settings: Settings, cwd: Path, archive: Path | None = None, delete: bool = False
) -> GcRun:
    """``batchcheck gc``: find the orphans against one scan; archive or delete them when
    asked (a dry run otherwise)."""
    root = settings.root
    options = ScanOptions.from_settings(settings, metadata=False, data=False, sizes=True)
    store = scan(root, options)
    reason = _refusal(store, settings)
    if reason:
        raise GcError(f"gc refused: {reason}; nothing was changed")
    named = _named_by_configs(settings, cwd)
    linked = _linked(store, settings)
    orphans, kept = [], []
    for key, exp in store.experiments.items():
        if key in linked:
            continue
        size, complete = exp.size or (0, False)
        orphan = Orphan(key[0], key[1], size, complete)
        if key in named:
            kept.append(replace(orphan, action="kept", detail=f"named by {named[key]}"))
        else:
            orphans.append(orphan)
    unfinished = _unfinished(root)
    mode = "archive" if archive else "delete" if delete else "list"
    if mode != "list":
        if archive is not None:
            _remove_copies(archive)
        unfinished = [
            _collect_one(root, o, archive) if _finishable(o, archive) else o for o in unfinished
        ]
        orphans = [_collect_one(root, orphan, archive) for orphan in orphans]
    return GcRun(root, mode, archive, tuple(orphans), tuple(kept), tuple(unfinished))


def parse_mode(
    settings: Settings, cwd: Path, archive: str | None, delete: bool, yes: bool
) -> Path | None:
    """Check the options (a usage error when they do not fit); the archive folder if any."""
    if archive is not None and delete:
        raise UsageError("--archive and --delete exclude each other")
    if delete and not yes:
        raise UsageError("--delete removes the orphans for good: add --yes to confirm")
    return archive_folder(settings, cwd, archive) if archive is not None else None
