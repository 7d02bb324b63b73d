"""``check --fix`` / ``--diff``: the safe repairs of batch links.

- BC103: an absolute link to an experiment of the store becomes relative;
- untidy target texts (``..//../_shared/./Copa/x/``: healthy, but not as written by hand) are
  tidied to ``../../_shared/<D>/<E>/`` (with BC103: they are the link text's other fix);
- BC104: a link named after another experiment than its target's is renamed after it;
- BC106: a destroyed symlink (a file holding the target text) is a link again.

Only a link whose target leads to an experiment of its dataset is touched: a dangling or
misplaced link, or a file holding such a path, is left alone and said so, and so is a rename
onto a name something already holds. Each step is atomic (a temporary link ``os.replace``d over
the entry; a rename that never replaces), so an entry is always whole; after its steps, each
entry is read back and judged again. Every look and write is made relative to the dataset
folder's descriptor, opened beneath the root (:mod:`batchcheck.scan.beneath`): a folder
swapped for a symlink after the scan makes the fix fail, never land outside the store.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from batchcheck.atomic import rename_noreplace, symlink_atomic
from batchcheck.config import Settings
from batchcheck.findings import CheckResult, Selection
from batchcheck.layout import link_target
from batchcheck.model import Link, LinkState, Store, Stray
from batchcheck.names import decoded, display, shown_path
from batchcheck.scan import ScanOptions, scan
from batchcheck.scan.beneath import MISSING, Beneath
from batchcheck.scan.links import resolve
from batchcheck.scan.listing import POINTER_FILE_MAX

TIDY = "tidy"  # not a rule: a healthy target text written the long way; goes with BC103


@dataclass(frozen=True)
class Fix:
    """One batch entry to repair: what it is, what it becomes, and what happened.

    ``status``: ``to fix``, ``fixed``, ``left alone`` (unsafe: ``detail`` says why) or
    ``failed`` (a write failed, the entry changed meanwhile, or it does not judge right after).
    """

    batch: str
    dataset: str
    name: str
    codes: tuple[str, ...]
    was: str  # the link's target text, or what the file holds (BC106)
    target: str  # the target it gets
    new_name: str  # the name it gets
    file: bool = False  # a destroyed symlink: a file holding ``was``
    status: str = "to fix"
    detail: str = ""

    def path(self, root: Path, name: str | None = None) -> Path:
        """The entry (under ``name``: its new one, say)."""
        return root / self.batch / self.dataset / (name or self.name)

    def to_json(self, root: Path, cwd: Path) -> dict[str, Any]:
        """``{"path", "codes", "kind", "was", "target", "new_path", "status", "detail"}``."""
        return {
            "path": shown_path(self.path(root), cwd),
            "codes": list(self.codes),
            "kind": "file" if self.file else "link",
            "was": decoded(self.was),
            "target": decoded(self.target),
            "new_path": shown_path(self.path(root, self.new_name), cwd),
            "status": self.status,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class FixRun:
    """The repairs of one ``check --fix`` (``write``) or ``check --diff``."""

    root: Path
    write: bool
    fixes: tuple[Fix, ...]
    check: CheckResult | None = None  # the check that follows ``--fix``

    def count(self, status: str) -> int:
        """How many fixes have ``status``."""
        return sum(fix.status == status for fix in self.fixes)

    def exit_code(self, strict: bool = False) -> int:
        """``--diff``: 1 when something is to fix; ``--fix``: the check's, or 1 when a fix
        failed."""
        if self.check is None:
            return 1 if self.count("to fix") else 0
        return max(self.check.exit_code(strict), 1 if self.count("failed") else 0)

    def to_json(self, cwd: Path) -> dict[str, Any]:
        """``{"fixes": [...]}`` and, after ``--fix``, the check's ``findings`` and
        ``summary``."""
        fixes = [fix.to_json(self.root, cwd) for fix in self.fixes]
        return {"fixes": fixes, **(self.check.to_json(cwd) if self.check else {})}


def _tidy(target: str, key: tuple[str, str]) -> bool:
    """The target text as links are written (the trailing slash is optional)."""
    return target.rstrip("/") + "/" == link_target(*key) and not target.endswith("//")


def _rename(
    layer: Beneath, folder: tuple[str, str], name: str, key: tuple[str, str], wants: Selection
) -> tuple[str, str]:
    """The name an entry of ``folder`` (batch, dataset) gets and, when it keeps a wrong one,
    why."""
    if name == key[1] or not wants.wants("BC104"):
        return name, ""
    if display(key[1]) != key[1]:  # mv and link refuse such a name too: it would spread
        return name, f"the name {display(key[1])} has control characters or bytes not UTF-8"
    try:
        free = layer.lookup(folder, key[1]) == MISSING
    except OSError:
        free = False
    if not free:
        return name, f"the name {display(key[1])} is taken"
    return key[1], ""


def _left_alone(
    entry: Link | Stray, codes: tuple[str, ...], was: str, why: str, file: bool = False
) -> Fix:
    """A repair not made because it is unsafe (``why``)."""
    assert entry.dataset is not None  # links and destroyed links lie in dataset folders
    return Fix(
        entry.batch, entry.dataset, entry.name, codes, was, was, entry.name, file, "left alone", why
    )


def _link_fix(layer: Beneath, link: Link, wants: Selection) -> Fix | None:
    codes = []
    key = link.key
    if link.state is not LinkState.OK or key is None:
        if link.absolute and wants.wants("BC103"):
            codes.append("BC103")
        if key is not None and key[1] != link.name and wants.wants("BC104"):
            codes.append("BC104")
        if not codes:
            return None
        why = f"the link is {link.state.value}" + (f" ({link.detail})" if link.detail else "")
        return _left_alone(link, tuple(codes), link.target, f"{why}: fix its target by hand")
    target = link.target
    if not _tidy(link.target, key) and wants.wants("BC103"):
        codes.append("BC103" if link.absolute else TIDY)
        target = link_target(*key)
    name, why = _rename(layer, (link.batch, link.dataset), link.name, key, wants)
    if name != link.name or why:
        codes.append("BC104")
    if not codes:
        return None
    if why and codes == ["BC104"]:
        return _left_alone(link, ("BC104",), link.target, why)
    detail = f"name kept: {why}" if why else ""
    return Fix(
        link.batch, link.dataset, link.name, tuple(codes), link.target, target, name, detail=detail
    )


def _file_fix(layer: Beneath, stray: Stray, wants: Selection) -> Fix | None:
    if not stray.destroyed_link or stray.pointer is None or not wants.wants("BC106"):
        return None
    held = stray.pointer
    assert stray.dataset is not None  # a destroyed link lies in a dataset folder
    folder = (stray.batch, stray.dataset)
    state, key, detail = resolve(layer, folder, stray.dataset, held)
    if state is not LinkState.OK or key is None:
        why = f"the path it holds is {state.value}" + (f" ({detail})" if detail else "")
        return _left_alone(stray, ("BC106",), held, f"{why}: restore the link by hand", True)
    target = held if _tidy(held, key) else link_target(*key)
    name, why = _rename(layer, folder, stray.name, key, wants)
    codes = ("BC106", "BC104") if name != stray.name or why else ("BC106",)
    detail = f"name kept: {why}" if why else ""
    return Fix(
        stray.batch, stray.dataset, stray.name, codes, held, target, name, True, "to fix", detail
    )


def plan_fixes(store: Store, wants: Selection) -> list[Fix]:
    """Every repair the scanned batches need, in the order of their paths."""
    fixes: list[Fix] = []
    with Beneath(store.root) as layer:
        for name in sorted(store.batches):
            batch = store.batches[name]
            found = [_link_fix(layer, link, wants) for link in batch.links]
            found += [_file_fix(layer, stray, wants) for stray in batch.strays]
            fixes.extend(fix for fix in found if fix is not None)
    return sorted(fixes, key=lambda fix: (fix.batch, fix.dataset, fix.name))


_GONE = (errno.ENOENT, errno.ENOTDIR, errno.ELOOP)  # the entry or its folder is not there


def _unchanged(fd: int, fix: Fix) -> bool:
    """Whether the entry is still what was judged (a link with that target, or that file).
    Raises OSError when it cannot be looked at."""
    st = os.stat(fix.name, dir_fd=fd, follow_symlinks=False)
    if not fix.file:
        return stat.S_ISLNK(st.st_mode) and os.readlink(fix.name, dir_fd=fd) == fix.was
    if not stat.S_ISREG(st.st_mode) or st.st_size > POINTER_FILE_MAX:
        return False
    handle = os.open(fix.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
    try:
        held = os.read(handle, POINTER_FILE_MAX + 1)
    finally:
        os.close(handle)
    try:
        return held.decode("utf-8").strip() == fix.was
    except UnicodeDecodeError:
        return False


def _judged(layer: Beneath, fd: int, fix: Fix) -> str:
    """The entry read back after its fix: ``""`` when it is a link to its experiment."""
    try:
        target = os.readlink(fix.new_name, dir_fd=fd)
    except OSError as exc:
        return f"read back: {exc.strerror or exc}"
    state, _, detail = resolve(layer, (fix.batch, fix.dataset), fix.dataset, target)
    return "" if state is LinkState.OK else f"read back: {state.value} {detail}".strip()


def _apply(layer: Beneath, fix: Fix) -> Fix:
    """The fix's steps, each atomic and in the dataset folder opened beneath the root; then
    the entry judged again."""
    changed = replace(fix, status="failed", detail="it changed since it was read")
    try:
        with layer.folder((fix.batch, fix.dataset)) as fd:
            if not _unchanged(fd, fix):
                return changed
            try:
                if fix.file or fix.target != fix.was:
                    symlink_atomic(fix.target, fix.name, dir_fd=fd)
                if fix.new_name != fix.name:
                    rename_noreplace(fix.name, fix.new_name, dir_fd=fd)
            except FileExistsError:  # the name was taken since the scan
                taken = f"the name {display(fix.new_name)} was taken meanwhile"
                if not fix.file and fix.target == fix.was:  # the rename was the whole fix
                    return replace(fix, new_name=fix.name, status="left alone", detail=taken)
                fix = replace(fix, new_name=fix.name, detail=f"name kept: {taken}")
            problem = _judged(layer, fd, fix)
    except OSError as exc:
        if exc.errno in _GONE:
            return changed
        return replace(fix, status="failed", detail=exc.strerror or str(exc))
    return replace(fix, status="failed" if problem else "fixed", detail=problem or fix.detail)


def apply_fixes(root: Path, fixes: list[Fix]) -> Iterator[Fix]:
    """Carry out every fix still to do, in order; each result as it is done."""
    with Beneath(root) as layer:
        for fix in fixes:
            yield _apply(layer, fix) if fix.status == "to fix" else fix


def fix_store(settings: Settings, wants: Selection, write: bool) -> FixRun:
    """Scan every batch (links judged, no metadata read), plan the repairs and, when ``write``,
    make them."""
    options = ScanOptions.from_settings(settings, shared="none", metadata=False, data=False)
    store = scan(settings.root, options)
    fixes = plan_fixes(store, wants)
    if write:
        fixes = list(apply_fixes(settings.root, fixes))
    return FixRun(settings.root, write, tuple(fixes))
