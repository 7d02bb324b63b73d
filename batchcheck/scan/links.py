"""How a batch link is judged (SPEC section 1), as functions of the root, the link and an
``exists`` callback that says whether ``_shared/<D>/<E>`` is a real experiment folder.

The scanner answers ``exists`` from its listings; nothing here keeps state. Only a target that
is not spelled the usual way is walked, component by component with ``lstat``, never leaving
the root.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

from batchcheck.layout import SHARED
from batchcheck.model import LinkState

MAX_HOPS = 40
# The usual link: ../../_shared/<Dataset>/<experiment>(/): resolved from the names alone.
USUAL_PREFIX = f"../../{SHARED}/"
_USUAL = re.compile(r"\.\./\.\./_shared/([^/]+)/([^/]+)/?")
OUTSIDE = "the target leaves the store"

Key = tuple[str, str]
# Whether _shared/<dataset>/<name> is a real experiment folder; None: not known without a walk.
Exists = Callable[[str, str], "bool | None"]


def reason(exc: OSError) -> str:
    """The short text of an OSError, for a problem or a link's detail."""
    return exc.strerror or type(exc).__name__


def resolve(
    root: Path, dataset: str, folder: str, target: str, exists: Exists
) -> tuple[LinkState, Key | None, str]:
    """Where a link in ``folder`` (of ``dataset``) leads: its state, the experiment its text
    names, and why."""
    usual = _USUAL.fullmatch(target)
    key: Key | None
    rel_parts: tuple[str, ...] | None
    if usual and usual[1] not in (".", "..") and usual[2] not in (".", ".."):
        key = (usual[1], usual[2])
        rel_parts = (SHARED, *key)
        is_plain = True
    else:
        rel_parts = lexical(root, folder, target)
        if rel_parts is None:
            return LinkState.OUTSIDE, None, OUTSIDE
        key = (
            (rel_parts[1], rel_parts[2]) if len(rel_parts) >= 3 and rel_parts[0] == SHARED else None
        )
        is_plain = plain(root, target, folder)
    if len(rel_parts) == 3 and key and is_plain and exists(*key):
        if key[0] != dataset:
            return LinkState.MISPLACED, key, f"the target is in dataset {key[0]!r}, not {dataset!r}"
        return LinkState.OK, key, ""
    state, detail = walk(root, Path(folder), target, dataset)
    return state, key, detail


def lexical(root: Path, base: str | Path, target: str) -> tuple[str, ...] | None:
    """The target's parts relative to the root, or None if its text leaves the root."""
    root_str = str(root)
    joined = os.path.normpath(os.path.join(base, target))
    if joined == root_str:
        return ()
    prefix = root_str.rstrip(os.sep) + os.sep
    if not joined.startswith(prefix):
        return None
    return tuple(joined[len(prefix) :].split(os.sep))


def plain(root: Path, target: str, folder: str) -> bool:
    """Leading ``..`` that stay inside the root, then plain names: lexical == physical."""
    parts = [p for p in target.split("/") if p not in ("", ".")]
    if os.path.isabs(target):
        return ".." not in parts
    ups = 0
    while ups < len(parts) and parts[ups] == "..":
        ups += 1
    depth = len(Path(folder).relative_to(root).parts)
    return ups <= depth and ".." not in parts[ups:]


def walk(root: Path, base: Path, target: str, dataset: str) -> tuple[LinkState, str]:
    """Follow a target component by component with lstat, never leaving the root."""
    outside = LinkState.OUTSIDE, OUTSIDE
    depth = len(root.parts)
    cur = list(base.parts)
    pending = _stack(root, target, cur)
    if pending is None:
        return outside
    hops = 0
    while pending:
        part = pending.pop()
        if part in ("", "."):
            continue
        if part == "..":
            if len(cur) <= depth:
                return outside
            cur.pop()
            continue
        nxt = Path(*cur, part)
        try:
            st = os.lstat(nxt)
        except (FileNotFoundError, NotADirectoryError):
            return LinkState.DANGLING, "the target does not exist"
        except OSError as exc:
            return LinkState.UNREADABLE, f"cannot read {nxt}: {reason(exc)}"
        if stat.S_ISLNK(st.st_mode):
            hops += 1
            if hops > MAX_HOPS:
                return LinkState.LOOP, "the link loops (too many levels of symlinks)"
            if [*cur, part][depth : depth + 1] == [SHARED]:
                return LinkState.MISPLACED, "the target goes through a symlink in _shared"
            more = _stack(root, os.readlink(nxt), cur)
            if more is None:
                return outside
            pending.extend(more)
            continue
        if any(p not in ("", ".") for p in pending) and not stat.S_ISDIR(st.st_mode):
            return LinkState.DANGLING, "the target does not exist"
        cur.append(part)
    return LinkState.MISPLACED, _why_misplaced(root, Path(*cur), dataset)


def _stack(root: Path, target: str, cur: list[str]) -> list[str] | None:
    """Components of ``target`` to walk, as a stack; an absolute one restarts at the root.

    None when an absolute target lies outside the root (it is never walked).
    """
    if os.path.isabs(target):
        rel = lexical(root, root, target)
        if rel is None:
            return None
        cur[:] = list(root.parts)
        return list(reversed(rel))
    return list(reversed(target.split("/")))


def _why_misplaced(root: Path, final: Path, dataset: str) -> str:
    rel = final.relative_to(root).parts
    where = "/".join(rel) or "the store root"
    if not final.is_dir():
        return f"the target {where} is not a folder"
    if rel[:1] != (SHARED,):
        return f"the target {where} is not under {SHARED}/"
    if len(rel) > 3:
        return f"the target {where} is inside an experiment, not the experiment"
    if len(rel) < 3:
        return f"the target {where} is above the experiment level"
    if rel[1] != dataset:
        return f"the target is in dataset {rel[1]!r}, not {dataset!r}"
    return f"the target reaches {where} only through other links or '..' detours"
