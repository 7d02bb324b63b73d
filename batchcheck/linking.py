"""Adding shared experiments to a batch: validate every link first, then write, never overwrite.

A link into an existing dataset folder is one ``os.symlink`` call straight at its final name.
That call is atomic (the entry appears whole, with its target, or not at all) and fails with
``FileExistsError`` when anything already holds the name, so an entry that appears between the
check and the write is never replaced.

A folder the run makes, the batch itself or a dataset folder in an existing batch, must not
appear empty or half-filled (an empty batch is a finding, and a half-filled one looks like a
finished one). It is filled under a hidden name beside its final one (``.<name>.link-<random>``,
which every reader ignores) and renamed into place with ``renameat2(RENAME_NOREPLACE)``, the
same staging ``add`` uses: the folder appears whole or not at all, and never over one that
another run made meanwhile. A run killed while filling leaves only the hidden folder; the next
run for the batch removes it (its links only, never anything else) and makes its own.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Any

from batchcheck.atomic import rename_noreplace, stands_for, temporary_name
from batchcheck.config import Settings
from batchcheck.engine import run_check
from batchcheck.errors import NotFound, UsageError
from batchcheck.findings import CheckResult, Selection, Severity, settle
from batchcheck.index import StoreIndex
from batchcheck.layout import SHARED, link_target
from batchcheck.lookups.common import shared_key
from batchcheck.model import Batch, LinkState, Store
from batchcheck.names import display, shown_path
from batchcheck.rules import by_code
from batchcheck.rules.bc402_batch_name import name_problem
from batchcheck.scan import ScanOptions, load_experiments, scan
from batchcheck.scan.beneath import (
    FOLDER,
    FOLDER_KIND,
    HANDLE,
    MISSING,
    SYMLINK,
    Beneath,
    Parts,
    kind_at,
    listing,
    make_folder,
    open_folder,
)

STAGE = "link"  # the purpose in the hidden name of a folder being filled
# The rules that judge one experiment's metadata: an error from any of them refuses the target.
METADATA_RULES = ("BC202", "BC301", "BC302", "BC303")


class LinkError(NotFound):
    """A link cannot be made (a conflicting entry, an invalid target, a failed write): exit 1."""


class Action(str, Enum):
    """What happens to one link."""

    CREATE = "create"  # absent: will be (or, after apply, was) created
    PRESENT = "present"  # already linked: left alone
    CONFLICT = "conflict"  # something else holds the name: nothing is written
    REFUSED = "refused"  # the target is missing or its metadata invalid: nothing is written
    FAILED = "failed"  # the write itself failed (apply stops there)


@dataclass(frozen=True)
class LinkStep:
    """One experiment to have in the batch, and what is done about it."""

    batch: str
    dataset: str
    experiment: str
    action: Action
    detail: str = ""
    done: bool = False  # created by this run

    @property
    def target(self) -> str:
        """The relative target every link gets (SPEC section 1)."""
        return link_target(self.dataset, self.experiment)

    @property
    def rel(self) -> str:
        """``batch/Dataset/experiment``, relative to the root."""
        return display(f"{self.batch}/{self.dataset}/{self.experiment}")

    @property
    def blocked(self) -> bool:
        """Whether this step stops the whole run from writing anything."""
        return self.action in (Action.CONFLICT, Action.REFUSED)

    def to_json(self, root: Path, cwd: Path) -> dict[str, Any]:
        """``{"path", "target", "action", "created", "detail"}``, the path shown from ``cwd``."""
        return {
            "path": shown_path(root / self.batch / self.dataset / self.experiment, cwd),
            "target": self.target,
            "action": self.action.value,
            "created": self.done,
            "detail": self.detail,
        }


def check_batch_name(name: str) -> None:
    """``batch_YYYYMMDD_<purpose>`` with a real date (BC402's test), else a usage error."""
    problem = name_problem(name)
    if problem:
        raise UsageError(problem)


def target_problems(
    store: Store, settings: Settings, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[str]]:
    """Why each ``_shared/<key>`` may not be linked: not an experiment, or the errors the
    metadata rules (``METADATA_RULES``, at the project's severities) find in it."""
    keys = list(keys)
    targets = {key: store.experiments[key] for key in keys if key in store.experiments}
    only = Store(store.root, {}, targets)
    index = StoreIndex(only, settings)
    rules = by_code()
    found = settle(
        (f for code in METADATA_RULES for f in rules[code].check(only, index)),
        Selection(),
        settings.severity,
    )
    out: dict[tuple[str, str], list[str]] = {}
    for key in keys:
        exp = targets.get(key)
        if exp is None:
            out[key] = [f"{SHARED}/{display('/'.join(key))} is not an experiment folder"]
            continue
        out[key] = [
            f"{f.code} {f.message}"
            for f in found.findings
            if f.path == exp.path and f.severity is Severity.ERROR
        ]
    return out


def _blocker(batch: Batch | None, dataset: str) -> str | None:
    """Why nothing can be linked under ``batch/dataset`` at all, if anything."""
    if batch is None:
        return None
    for problem in batch.problems:
        if problem.path in (batch.path, batch.path / dataset):
            return problem.message
    for stray in batch.strays:
        if stray.dataset is None and stray.path in (batch.path, batch.path / dataset):
            return f"{display(stray.path.name)} is a {stray.kind}, not a folder"
    return None


def _step(batch: Batch | None, name: str, key: tuple[str, str], problems: list[str]) -> LinkStep:
    dataset, experiment = key
    if problems:
        return LinkStep(name, dataset, experiment, Action.REFUSED, "; ".join(problems))
    blocker = _blocker(batch, dataset)
    if blocker:
        return LinkStep(name, dataset, experiment, Action.CONFLICT, blocker)
    if batch is None:
        return LinkStep(name, dataset, experiment, Action.CREATE)
    links = batch.datasets.get(dataset, ())
    for link in links:
        if link.name == experiment:
            if link.key == key and link.state is LinkState.OK:
                return LinkStep(name, dataset, experiment, Action.PRESENT)
            return LinkStep(
                name,
                dataset,
                experiment,
                Action.CONFLICT,
                f"a link to {display(link.target)} ({link.state.value}) holds the name",
            )
    for stray in batch.strays:
        if stray.dataset == dataset and stray.name == experiment:
            return LinkStep(
                name, dataset, experiment, Action.CONFLICT, f"a real {stray.kind} holds the name"
            )
    for link in links:
        if link.key == key and link.state is LinkState.OK:
            return LinkStep(
                name, dataset, experiment, Action.PRESENT, f"linked as {display(link.name)}"
            )
    return LinkStep(name, dataset, experiment, Action.CREATE)


def link_steps(
    store: Store, settings: Settings, batch: str, keys: Iterable[tuple[str, str]]
) -> list[LinkStep]:
    """What linking each shared experiment into ``batch`` means, judged from one scan.

    ``store`` must hold the batch (if it exists) and the experiments named.
    """
    unique = list(dict.fromkeys(keys))
    problems = target_problems(store, settings, unique)
    scanned = store.batches.get(batch)
    return [_step(scanned, batch, key, problems[key]) for key in unique]


def refusal(batch: str, steps: Sequence[LinkStep]) -> str:
    """Why nothing may be written (a conflicting entry, an invalid target), or ``""``."""
    blocked = [step for step in steps if step.blocked]
    if not blocked:
        return ""
    return (
        f"{display(batch)}: {len(blocked)} of {len(steps)} experiments cannot be linked "
        f"(first: {blocked[0].rel}: {blocked[0].detail}); nothing was changed"
    )


def apply_steps(root: Path, batch: str, steps: Sequence[LinkStep]) -> tuple[list[LinkStep], str]:
    """Create every ``CREATE`` link (and its folders); nothing at all when a step is blocked.

    A folder the run makes (the batch, or a dataset folder in an existing batch) appears whole
    or not at all: it is filled under a hidden name beside its final one and renamed into place
    with a rename that never replaces (see the module docstring). A link into an existing
    dataset folder is one ``symlink`` call, whole by itself. Every write is made relative to a
    handle of its folder opened beneath the root without following a symlink
    (``scan.beneath``): a folder swapped for a symlink after the steps were judged fails the
    write instead of leading it out of the root. Hidden folders an interrupted run left for
    this batch are removed first.
    Returns the steps (``done`` set on those created) and an error text when a write failed:
    the run stops there, and every link made so far is whole and valid.
    """
    reason = refusal(batch, steps)
    if reason:
        raise LinkError(reason)
    out = list(steps)
    groups: dict[str, list[int]] = {}
    for i, step in enumerate(out):
        if step.action is Action.CREATE:
            groups.setdefault(step.dataset, []).append(i)
    if not groups:
        return out, ""
    with Beneath(root) as layer:
        _sweep(layer.fd, batch)
        if kind_at(layer.fd, batch) == MISSING:
            every = [i for group in groups.values() for i in group]
            error = _fill(out, layer.fd, batch, every, lambda step: (step.dataset,))
        else:
            error = _into_batch(layer.fd, batch, out, groups)
    if error is None:
        return out, ""
    failed = next(i for i, step in enumerate(out) if step.action is Action.FAILED)
    done = sum(step.done for step in out)
    before = (
        f"{done} link(s) were created before it, each complete" if done else "nothing was changed"
    )
    why = error.strerror or str(error)
    return out, f"cannot create {out[failed].rel}: {why}; {before}; run again once fixed"


def _into_batch(
    root_fd: int, batch: str, out: list[LinkStep], groups: dict[str, list[int]]
) -> OSError | None:
    """The links into an existing batch: a new dataset folder made whole (staged), a link into
    an existing one written straight."""
    try:
        batch_fd = open_folder(root_fd, batch, HANDLE)
    except OSError as exc:
        return _failed(out, next(iter(groups.values()))[0], exc)
    try:
        _sweep(batch_fd, None)
        for dataset, group in groups.items():
            if kind_at(batch_fd, dataset) == MISSING:
                error = _fill(out, batch_fd, dataset, group, lambda step: ())
            else:
                error = _straight(batch_fd, dataset, out, group)
            if error is not None:
                return error
    finally:
        os.close(batch_fd)
    return None


def _failed(out: list[LinkStep], i: int, error: OSError) -> OSError:
    """Mark step ``i`` as the one the run stopped at."""
    out[i] = replace(out[i], action=Action.FAILED, detail=error.strerror or str(error))
    return error


def _straight(batch_fd: int, dataset: str, out: list[LinkStep], group: list[int]) -> OSError | None:
    """Links into an existing dataset folder, one ``symlink`` call each."""
    try:
        fd = open_folder(batch_fd, dataset, HANDLE)
    except OSError as exc:
        return _failed(out, group[0], exc)
    try:
        for i in group:
            try:
                os.symlink(out[i].target, out[i].experiment, dir_fd=fd)
            except OSError as exc:
                return _failed(out, i, exc)
            out[i] = replace(out[i], done=True)
    finally:
        os.close(fd)
    return None


def _fill(
    out: list[LinkStep],
    parent: int,
    name: str,
    group: list[int],
    folders: Callable[[LinkStep], Parts],
) -> OSError | None:
    """Make folder ``name`` in ``parent`` whole, holding the links of the steps ``group`` (each
    in the folders ``folders(step)`` below it): filled under a hidden name, then renamed into
    place, never over anything. A failure removes the hidden folder again and marks the step
    it stopped at."""
    hidden = temporary_name(Path(name), STAGE).name
    at = group[0]
    try:
        fd, _ = make_folder(parent, hidden)
        try:
            for at in group:
                _link_below(fd, folders(out[at]), out[at])
        finally:
            os.close(fd)
    except OSError as exc:
        _clear(parent, hidden)
        return _failed(out, at, exc)
    try:
        rename_noreplace(hidden, name, parent)
    except OSError as exc:
        _clear(parent, hidden)
        if isinstance(exc, FileExistsError):
            exc = FileExistsError(exc.errno, f"another run made {display(name)} meanwhile")
        return _failed(out, group[0], exc)
    for i in group:
        out[i] = replace(out[i], done=True)
    return None


def _link_below(fd: int, folders: Parts, step: LinkStep) -> None:
    """The link of ``step`` in the folders ``folders`` below ``fd`` (made as needed)."""
    opened = []
    try:
        for name in folders:
            fd, _ = make_folder(fd, name)
            opened.append(fd)
        os.symlink(step.target, step.experiment, dir_fd=fd)
    finally:
        for handle in opened:
            os.close(handle)


def _sweep(fd: int, name: str | None) -> None:
    """Remove the hidden folders a killed run left while staging in a folder: those standing
    for ``name``, or for any name when None. They are never completed: their links were judged
    by that run, so this run makes its own."""
    try:
        listed = os.open(".", FOLDER, dir_fd=fd)
    except OSError:
        return
    try:
        entries = listing(listed, hidden=True)
    finally:
        os.close(listed)
    for entry, kind in entries:
        meant = stands_for(entry, STAGE)
        if kind == FOLDER_KIND and meant is not None and name in (None, meant):
            _clear(fd, entry)


def _clear(parent: int, name: str, depth: int = 1) -> None:
    """Remove a hidden folder this module staged: its links and the folders holding them
    (``depth`` levels down), nothing else; anything else in it stays, and so does the folder."""
    try:
        fd = open_folder(parent, name)
    except OSError:
        return
    try:
        for entry, kind in listing(fd, hidden=True):
            with contextlib.suppress(OSError):
                if kind == SYMLINK:
                    os.unlink(entry, dir_fd=fd)
                elif kind == FOLDER_KIND and depth:
                    _clear(fd, entry, depth - 1)
    finally:
        os.close(fd)
    with contextlib.suppress(OSError):
        os.rmdir(name, dir_fd=parent)


def touched(steps: Sequence[LinkStep], write: bool, error: str) -> bool:
    """Whether the run wrote the batch as asked and the batch holds links: check it then."""
    if not write or error or refusal("", steps):
        return False
    return any(step.done or step.action is Action.PRESENT for step in steps)


@dataclass(frozen=True)
class LinkRun:
    """What one ``link`` (or the linking part of ``plan --apply``) did: every step, a write
    error, and the check of the batch when the run wrote it."""

    root: Path
    batch: str
    dry_run: bool
    steps: tuple[LinkStep, ...]
    error: str = ""
    check: CheckResult | None = None

    @property
    def failure(self) -> str:
        """Why the run failed (blocked steps or a failed write), or ``""``."""
        return refusal(self.batch, self.steps) or self.error

    def exit_code(self) -> int:
        """The check's exit code; a failure is raised by :meth:`finish` instead."""
        return self.check.exit_code() if self.check is not None else 0

    def finish(self) -> None:
        """After the result is shown: a failure ends the run (``LinkError``, exit 1)."""
        if self.failure:
            raise LinkError(self.failure)

    def check_json(self, cwd: Path) -> dict[str, Any] | None:
        """The check of the batch as ``check --format json`` shows it, or None."""
        return self.check.to_json(cwd) if self.check is not None else None

    def to_json(self, cwd: Path) -> dict[str, Any]:
        """``{"batch", "dry_run", "links": [...], "check"}``."""
        return {
            "batch": self.batch,
            "dry_run": self.dry_run,
            "links": [step.to_json(self.root, cwd) for step in self.steps],
            "check": self.check_json(cwd),
        }


def check_batch(settings: Settings, batch: str) -> CheckResult:
    """The store check of one batch and the experiments it links."""
    return check_part(settings, (batch,))


def check_part(
    settings: Settings, batches: Iterable[str], keys: Iterable[tuple[str, str]] = ()
) -> CheckResult:
    """The store check of some batches, the experiments they link and the experiments ``keys``
    (what an operation touched)."""
    root = settings.root
    store = scan(root, ScanOptions.from_settings(settings, batches=tuple(batches), shared="linked"))
    more = [key for key in keys if key not in store.experiments]
    if more:
        read = load_experiments(root, more, ScanOptions.from_settings(settings, shared="linked"))
        store = replace(store, experiments={**store.experiments, **read.experiments})
    return run_check(store, settings)


def carry_out(settings: Settings, batch: str, steps: list[LinkStep], dry_run: bool) -> LinkRun:
    """Write the steps unless ``dry_run`` or a step blocks them; check the batch if written."""
    write = not dry_run
    error = ""
    if write and not refusal(batch, steps):
        steps, error = apply_steps(settings.root, batch, steps)
    check = check_batch(settings, batch) if touched(steps, write, error) else None
    return LinkRun(settings.root, batch, dry_run, tuple(steps), error, check)


def parse_keys(texts: Iterable[str]) -> list[tuple[str, str]]:
    """``DATASET/EXPERIMENT`` arguments as keys (a malformed one: a usage error, exit 2)."""
    return [shared_key(text) for text in texts]


def link_experiments(
    settings: Settings, batch: str, keys: Sequence[tuple[str, str]], dry_run: bool
) -> LinkRun:
    """``batchcheck link``: validate every link against one scan, write them, check the batch."""
    check_batch_name(batch)
    root = settings.root
    only_batch = ScanOptions.from_settings(
        settings, batches=(batch,), shared="linked", metadata=False, data=False
    )
    targets = load_experiments(
        root, keys, ScanOptions.from_settings(settings, batches=(), shared="linked", data=False)
    )
    merged = Store(root, scan(root, only_batch).batches, targets.experiments)
    return carry_out(settings, batch, link_steps(merged, settings, batch, keys), dry_run)
