"""``--format text`` of the commands that change a store: ``mv``, ``gc`` and ``check --fix`` /
``--diff``. Each shows every step with its mark, done or to do, and why a step was left alone."""

from __future__ import annotations

from itertools import groupby
from typing import TextIO

from batchcheck.collecting import GcRun
from batchcheck.fixing import Fix, FixRun
from batchcheck.formats import check_text
from batchcheck.formats.seed import RULE
from batchcheck.formats.view import View
from batchcheck.layout import SHARED
from batchcheck.metadata import human_size
from batchcheck.moving import MoveRun
from batchcheck.names import display


def banner(out: TextIO, *lines: str) -> None:
    """The seed's banner around ``lines``."""
    out.write(RULE + "\n" + "".join(line + "\n" for line in lines if line) + RULE + "\n\n")


def move(run: MoveRun, out: TextIO, view: View) -> None:
    """The folder, each link, the metadata, the configs naming the old path, then the check of
    what the move touched."""
    how = (
        "dry run, nothing written"
        if run.dry_run
        else "already moved: finishing what is left"
        if run.resumed
        else ""
    )
    banner(
        out,
        f"Move: {display(run.dataset)}/{display(run.old)} -> {display(run.dataset)}/"
        f"{display(run.new)}",
        f"({how})" if how else "",
    )
    steps = _move_steps(run, view)
    out.write("".join(f"  {line}\n" for line in steps))
    if run.configs or run.config_errors:
        out.write("\n" if steps else "")
        _configs(run, out, view)
    if run.check is not None:
        out.write(f"\n{RULE}\nCheck of what the move touched\n{RULE}\n\n")
        check_text.write(run.check, out, view)


def _move_steps(run: MoveRun, view: View) -> list[str]:
    """A line per step in the store, marked done or to do."""
    sym = view.symbols
    shared = f"{SHARED}/{display(run.dataset)}"

    def mark(done: bool) -> str:
        return sym.ok if done else sym.folder

    lines = []
    if run.nothing_left:
        lines.append(f"{sym.ok} Nothing left to do: the move is complete")
    if not run.resumed:
        state = "moved" if run.moved else "to move"
        lines.append(
            f"{mark(run.moved)} {shared}/{display(run.old)} -> {shared}/{display(run.new)}"
            f"  ({state})"
        )
    for relink in run.links:
        what = ["relinked" if relink.done else "to relink"]
        if relink.new_name != relink.name:
            what.append(f"was {display(relink.name)} -> {display(relink.target)}")
        elif relink.detail:
            what.append(f"name kept: {relink.detail}")
        lines.append(
            f"{mark(relink.done)} {relink.rel(relink.new_name)} -> "
            f"{display(relink.new_target)}  ({'; '.join(what)})"
        )
    if run.renames_metadata:
        state = "rewritten" if run.metadata_done else "to rewrite"
        lines.append(
            f"{mark(run.metadata_done)} experiment_name: {display(run.old)} -> "
            f"{display(run.new)}  ({state})"
        )
    return lines


def _configs(run: MoveRun, out: TextIO, view: View) -> None:
    sym = view.symbols
    out.write(f"Training configs naming the old path: {len(run.configs)}\n")
    for use in run.configs:
        if use.rewritten:
            mark, state = sym.ok, "rewritten"
        elif use.new_text is None or use.detail:
            mark, state = sym.error, use.detail
        else:
            mark = sym.warn
            state = "to rewrite" if run.dry_run else "run again with --configs to rewrite"
        new = f" -> {display(use.new_text)}" if use.new_text is not None else ""
        out.write(
            f"  {mark} {view.path(use.config)} line {use.line}: {display(use.text)}{new}"
            f"  ({state})\n"
        )
    for path, error in run.config_errors:
        out.write(f"  {sym.error} {view.path(path)}: {display(error)} (not searched)\n")


_GC_DONE = {"archived": "archived", "deleted": "deleted"}


def collect(run: GcRun, out: TextIO, view: View) -> None:
    """Each orphan with its size and what happened to it, those kept, what killed runs left,
    and the total."""
    sym = view.symbols
    head = {
        "list": "dry run, nothing changed",
        "archive": f"moved to {view.path(run.archive)}" if run.archive else "",
        "delete": "deleted",
    }[run.mode]
    banner(out, f"Orphans in {SHARED}: {len(run.orphans)} ({head})")
    for orphan in run.orphans:
        size = human_size(orphan.size) + ("" if orphan.size_complete else "+")
        if orphan.action == "failed":
            mark, state = sym.error, f"failed: {orphan.detail}"
        elif orphan.action in _GC_DONE:
            mark, state = sym.ok, _GC_DONE[orphan.action]
        else:
            mark, state = sym.shared, "orphan"
        out.write(f"  {mark} {orphan.rel}  {size}  ({state})\n")
    if not run.orphans:
        out.write(f"  {sym.ok} No orphan: every shared experiment is linked by a batch\n")
    for orphan in run.kept:
        out.write(f"  {sym.warn} {orphan.rel}  (kept: {orphan.detail})\n")
    for orphan in run.unfinished:
        shown = view.path(orphan.leftover) if orphan.leftover else orphan.rel
        if orphan.action in _GC_DONE:
            out.write(f"  {sym.ok} {shown}  (an interrupted gc: {_GC_DONE[orphan.action]})\n")
        elif orphan.action == "failed":
            out.write(f"  {sym.error} {shown}  (an interrupted gc: failed: {orphan.detail})\n")
        else:
            how = "--delete --yes" if orphan.action == "gc-delete" else "--archive DIR"
            out.write(f"  {sym.warn} {shown}  (left by an interrupted gc: run gc {how})\n")
    out.write(f"\nTotal: {len(run.orphans)} orphan(s), {human_size(run.total)}")
    if run.mode == "list" and run.orphans:
        out.write(" (--archive DIR moves them out of the store, --delete --yes removes them)")
    out.write("\n")


def _fix_line(fix: Fix, rest: str, view: View) -> list[str]:
    sym = view.symbols
    codes = " ".join(fix.codes)
    if fix.status in ("left alone", "failed"):
        mark = sym.warn if fix.status == "left alone" else sym.error
        return [f"  {mark} {codes} {rest}: {fix.status}: {display(fix.detail)}"]
    mark = sym.ok if fix.status == "fixed" else sym.folder
    head = f"  {mark} {codes} {rest}" + (f" ({display(fix.detail)})" if fix.detail else "")
    was = (
        f"{display(fix.name)}: a file holding {display(fix.was)}"
        if fix.file
        else f"{display(fix.name)} -> {display(fix.was)}"
    )
    return [head, f"    - {was}", f"    + {display(fix.new_name)} -> {display(fix.target)}"]


def fixes(run: FixRun, out: TextIO, view: View) -> None:
    """``check --fix`` / ``--diff``: each repair grouped by batch/dataset, as a diff of the
    entry (``-`` before, ``+`` after), and the counts; the check follows separately."""
    todo, done = run.count("to fix"), run.count("fixed")
    alone, failed = run.count("left alone"), run.count("failed")
    counts = f"{done} fixed" if run.write else f"{todo} to fix"
    counts += f", {alone} left alone" + (f", {failed} failed" if failed else "")
    banner(out, f"Fixes: {counts}" + ("" if run.write else " (--diff: nothing written)"))
    grouped = groupby(run.fixes, key=lambda fix: view.group(fix.path(run.root)))
    for group, items in groupby(grouped, key=lambda pair: pair[0][0]):
        out.write(f"{group}\n")
        for (_, rest), same in items:
            for fix in same:
                out.write("".join(line + "\n" for line in _fix_line(fix, rest, view)))
        out.write("\n")
    if not run.fixes:
        out.write(f"{view.symbols.ok} Nothing to fix\n\n")
