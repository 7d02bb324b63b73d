"""How a batch link is judged (SPEC section 1, "How a link is judged"), as a pure function of
the link's folder, its target text and a ``lookup`` callback that says what a name is in a
folder of the store (the scanner answers from its listings, or with one lstat beneath the
root; see ``scan.beneath``).

The target text is walked one component at a time from the link's folder, through real
folders only: empty components and ``.`` are skipped, ``..`` goes up (never above the root),
and an absolute target starts again at the root when it lies under either spelling of it. The
walk stops at the first symlink (BC102: never followed), at a name that is not there (BC101),
and where it would leave the root (BC102: nothing outside is looked at, not even whether it
exists). The link is healthy when the walk ends at a real folder ``_shared/<its Dataset>/<E>``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from batchcheck.layout import SHARED
from batchcheck.model import LinkState
from batchcheck.names import display, quoted
from batchcheck.scan.beneath import FOLDER_KIND, MISSING, SYMLINK, Beneath, Parts

# The usual link: ../../_shared/<Dataset>/<experiment>(/), resolved from the listings alone.
USUAL_PREFIX = f"../../{SHARED}/"
OUTSIDE = "the target leaves the store"

Key = tuple[str, str]
# What ``name`` is in the folder ``parts`` (a kind of scan.beneath, or MISSING); raises
# OSError when the folder cannot be looked into.
Lookup = Callable[[Parts, str], str]
# The parts of an absolute target below the root, or None when it lies outside (Beneath.inside).
Inside = Callable[[str], "Parts | None"]


def reason(exc: OSError) -> str:
    """The short text of an OSError, for a problem or a link's detail."""
    return exc.strerror or type(exc).__name__


def _steps(folder: Parts, target: str, inside: Inside) -> tuple[Parts, Sequence[str]] | None:
    """Where the walk starts and the components it takes; None when an absolute target lies
    outside the root."""
    if target.startswith("/"):
        rest = inside(target)
        return None if rest is None else ((), rest)
    return folder, target.split("/")


def named(folder: Parts, target: str, inside: Inside) -> Key | None:
    """The (dataset, experiment) the target text names, read lexically (what BC101 and BC104
    speak of), when it lies right under ``_shared``."""
    start = _steps(folder, target, inside)
    if start is None:
        return None
    cur = list(start[0])
    for part in start[1]:
        if part in ("", "."):
            continue
        if part == "..":
            if not cur:
                return None
            cur.pop()
        else:
            cur.append(part)
    return (cur[1], cur[2]) if len(cur) == 3 and cur[0] == SHARED else None


def judge(
    folder: Parts, name: str, dataset: str, target: str, lookup: Lookup, inside: Inside
) -> tuple[LinkState, Key | None, str]:
    """The state of link ``name`` in the batch dataset folder ``folder`` (of ``dataset``), the
    experiment its text names, and why."""
    key = named(folder, target, inside)
    start = _steps(folder, target, inside)
    if start is None:
        return LinkState.OUTSIDE, key, OUTSIDE
    cur = list(start[0])
    kind = FOLDER_KIND
    for part in start[1]:
        if part in ("", "."):
            continue
        if kind != FOLDER_KIND:  # a file with more after it: the kernel would say ENOTDIR
            return LinkState.DANGLING, key, "the target does not exist"
        if part == "..":
            if not cur:
                return LinkState.OUTSIDE, key, OUTSIDE
            cur.pop()
            continue
        where = "/".join((*cur, part))
        try:
            kind = lookup(tuple(cur), part)
        except OSError as exc:
            return (
                LinkState.UNREADABLE,
                key,
                f"cannot read {display('/'.join(cur)) or '.'}: {reason(exc)}",
            )
        if kind == MISSING:
            return LinkState.DANGLING, key, "the target does not exist"
        if kind == SYMLINK:
            if tuple(cur) == folder and part == name:
                return LinkState.LOOP, key, "the link loops (its target is the link itself)"
            return LinkState.MISPLACED, key, _why_symlink(cur, where)
        cur.append(part)
    return _end(tuple(cur), kind, dataset, key)


def _why_symlink(cur: list[str], where: str) -> str:
    where = display(where)  # a detail is read by people
    if cur[:1] == [SHARED]:
        return f"the target goes through a symlink in {SHARED} ({where}, never followed)"
    return f"the target goes through the symlink {where} (never followed)"


def _end(rel: Parts, kind: str, dataset: str, key: Key | None) -> tuple[LinkState, Key | None, str]:
    """Where a walk through real folders ended: the experiment, or why it is not one."""
    where = display("/".join(rel)) or "the store root"
    if kind != FOLDER_KIND:
        return LinkState.MISPLACED, key, f"the target {where} is not a folder"
    if rel[:1] != (SHARED,):
        return LinkState.MISPLACED, key, f"the target {where} is not under {SHARED}/"
    if len(rel) > 3:
        return (
            LinkState.MISPLACED,
            key,
            f"the target {where} is inside an experiment, not the experiment",
        )
    if len(rel) < 3:
        return LinkState.MISPLACED, key, f"the target {where} is above the experiment level"
    if rel[1] != dataset:
        return (
            LinkState.MISPLACED,
            key,
            f"the target is in dataset {quoted(rel[1])}, not {quoted(dataset)}",
        )
    return LinkState.OK, (rel[1], rel[2]), ""


def resolve(
    layer: Beneath, parts: Parts, dataset: str, target: str
) -> tuple[LinkState, Key | None, str]:
    """One link in the folder ``parts`` below the root judged on its own (the scan judges many
    against its listings): :func:`judge` with every lookup made beneath the root."""
    return judge(parts, "", dataset, target, layer.lookup, layer.inside)
