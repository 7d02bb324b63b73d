"""Renaming a shared experiment: its folder, its ``experiment_name``, every batch link to it
and, when asked, the strings of the configured training configs that name it.

Every step is atomic and the order lets a rerun finish from wherever a crash stopped:

1. ``_shared/D/OLD`` is renamed to ``_shared/D/NEW`` (a rename that never replaces);
2. each batch link whose target names ``D/OLD`` gets the target ``../../_shared/D/NEW/`` (a
   temporary link ``os.replace``d over it) and, when it was named ``OLD``, is renamed to
   ``NEW`` (a rename that never replaces): a link is always whole, first dangling (after 1),
   then misnamed (BC104), then right;
3. with ``--configs``, each config naming the old path is rewritten (``write_atomic``);
4. last, ``experiment_name`` in the metadata: while it still says ``OLD`` the move is unfinished.

When ``_shared/D/OLD`` is gone and ``_shared/D/NEW`` is there, a run finishes what is left.
Nothing is written when a step is refused (the name taken, a batch that cannot be read).
"""

from __future__ import annotations

import codecs
import json
import os
import re
import stat
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from batchcheck.atomic import rename_noreplace, symlink_atomic, write_atomic
from batchcheck.config import Settings
from batchcheck.configs import NamedPath, configured_store_paths, parse_config
from batchcheck.errors import NotFound, UsageError
from batchcheck.findings import CheckResult
from batchcheck.index import StoreIndex
from batchcheck.layout import BATCH_PREFIX, METADATA_FILE, SHARED, link_target
from batchcheck.linking import check_part
from batchcheck.model import Experiment, Link, Store
from batchcheck.names import decoded, display, is_hidden, shown_path
from batchcheck.rules.bc306_naming import disagreements
from batchcheck.scan import ScanOptions, load_experiments, scan
from batchcheck.scan.beneath import Beneath

Key = tuple[str, str]
_NAME_VALUE = re.compile(r'"experiment_name"\s*:\s*("(?:[^"\\]|\\.)*")')


class MoveError(NotFound):
    """The move cannot be made (unknown experiment, a name taken) or a write failed: exit 1."""


@dataclass(frozen=True)
class Relink:
    """One batch link of the experiment: its new target and name."""

    batch: str
    dataset: str
    name: str
    target: str
    new_name: str
    new_target: str
    detail: str = ""  # why the name is kept although it was the old one
    done: bool = False

    def rel(self, name: str) -> str:
        """``batch/Dataset/name``, relative to the root."""
        return display(f"{self.batch}/{self.dataset}/{name}")

    def to_json(self) -> dict[str, Any]:
        """``{"path", "new_path", "target", "new_target", "done", "detail"}`` (root-relative)."""
        return {
            "path": self.rel(self.name),
            "new_path": self.rel(self.new_name),
            "target": decoded(self.target),
            "new_target": decoded(self.new_target),
            "done": self.done,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class ConfigUse:
    """A configured training config's string that names the old path, and its new text (None:
    not written the way the store spells it, so it is not rewritten)."""

    config: Path
    line: int
    text: str
    new_text: str | None
    rewritten: bool = False
    detail: str = ""

    def to_json(self, cwd: Path) -> dict[str, Any]:
        """``{"path", "line", "text", "new_text", "rewritten", "detail"}``."""
        return {
            "path": shown_path(self.config, cwd),
            "line": self.line,
            "text": decoded(self.text),
            "new_text": None if self.new_text is None else display(self.new_text),
            "rewritten": self.rewritten,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class MoveRun:
    """What one ``mv`` did or, with ``dry_run``, would do."""

    root: Path
    dataset: str
    old: str
    new: str
    dry_run: bool
    resumed: bool  # the folder was already moved: this run finishes an interrupted move
    experiment_name: str | None  # what the metadata said before this run
    links: tuple[Relink, ...]
    configs: tuple[ConfigUse, ...]
    config_errors: tuple[tuple[Path, str], ...] = ()  # configured configs that cannot be read
    rewrite_configs: bool = False
    moved: bool = False
    metadata_done: bool = False
    error: str = ""
    check: CheckResult | None = None

    @property
    def renames_metadata(self) -> bool:
        """Whether ``experiment_name`` is to be (or was) rewritten."""
        return self.experiment_name == self.old

    @property
    def nothing_left(self) -> bool:
        """A finished move run again: no step is left."""
        configs = self.rewrite_configs and any(use.new_text for use in self.configs)
        return self.resumed and not self.links and not self.renames_metadata and not configs

    def exit_code(self) -> int:
        """The check's exit code; a failed write is raised by :meth:`finish` instead."""
        return self.check.exit_code() if self.check is not None else 0

    def finish(self) -> None:
        """After the result is shown: a failed write ends the run (``MoveError``, exit 1)."""
        if self.error:
            raise MoveError(self.error)

    def to_json(self, cwd: Path) -> dict[str, Any]:
        """The run's JSON shape (documented in the README)."""
        shared = f"{SHARED}/{self.dataset}"
        return {
            "dataset": decoded(self.dataset),
            "experiment": decoded(self.old),
            "new_name": decoded(self.new),
            "dry_run": self.dry_run,
            "resumed": self.resumed,
            "folder": {
                "from": decoded(f"{shared}/{self.old}"),
                "to": decoded(f"{shared}/{self.new}"),
                "moved": self.moved,
            },
            "links": [relink.to_json() for relink in self.links],
            "metadata": {
                "path": decoded(f"{shared}/{self.new}/{METADATA_FILE}"),
                "experiment_name": self.experiment_name,
                "rewrite": self.renames_metadata,
                "done": self.metadata_done,
            },
            "configs": [use.to_json(cwd) for use in self.configs],
            "unreadable_configs": [
                {"path": shown_path(path, cwd), "error": error}
                for path, error in self.config_errors
            ],
            "error": self.error,
            "check": self.check.to_json(cwd) if self.check is not None else None,
        }


def new_name(dataset: str, text: str) -> str:
    """The new name from ``NEW`` or ``Dataset/NEW``; a usage error (exit 2) when it is no
    experiment name of this dataset."""
    name = text.rstrip("/")
    if "/" in name:
        where, _, name = name.partition("/")
        if where != dataset or "/" in name:
            raise UsageError(
                f"{display(text)}: the new name is a folder name (or {display(dataset)}/NAME): "
                "an experiment stays in its dataset"
            )
    if not name or name in (".", "..") or is_hidden(name) or not name.isprintable():
        raise UsageError(
            f"{display(text)!r} is not an experiment name (not empty, no leading '.', no "
            "control characters)"
        )
    return name


def _check_convention(settings: Settings, exp: Experiment, name: str) -> None:
    """A new name that states parameters must state those of the metadata (BC306)."""
    if not settings.naming_convention:
        return
    problems = disagreements(exp._replace(name=name))
    if problems:
        raise UsageError(
            f"{display(name)} breaks the naming convention: {'; '.join(problems)} "
            "(naming_convention = false in [tool.batchcheck] turns this off)"
        )


def _renamed_text(text: str, parts: Sequence[str], new: str) -> str | None:
    """``text`` with the path's third part (``_shared/D/OLD`` or ``batch/D/OLD``) renamed, when
    the text spells those three parts plainly; None otherwise."""
    plain = "/".join(parts[:3])
    at = text.rfind(plain)
    while at >= 0:
        end = at + len(plain)
        if (at == 0 or text[at - 1] == "/") and text[end : end + 1] in ("", "/"):
            return text[: end - len(parts[2])] + new + text[end:]
        at = text.rfind(plain, 0, at)
    return None


def _config_uses(
    named: Iterable[NamedPath], key: Key, new: str, folders: set[tuple[str, str]]
) -> list[ConfigUse]:
    """The config strings naming ``_shared/D/OLD`` or a renamed link ``batch/X/OLD``."""
    out = []
    for item in named:
        parts = item.parts
        if len(parts) < 3 or parts[2] != key[1]:
            continue
        if parts[:2] == (SHARED, key[0]) or (
            parts[0].startswith(BATCH_PREFIX) and (parts[0], parts[1]) in folders
        ):
            text = item.string.text
            new_text = _renamed_text(text, parts, new)
            detail = "" if new_text else "not spelled plainly: edit it by hand"
            out.append(ConfigUse(item.config, item.string.line, text, new_text, detail=detail))
    return out


def _relinks(store: Store, key: Key, new: str, resumed: bool) -> list[Relink]:
    """The links to repoint (their target names ``D/OLD``) or rename (named ``OLD`` and already
    pointing at ``D/NEW``: a run stopped between the two steps)."""
    old_key, new_key = key, (key[0], new)
    out = []
    problems = []
    for link in store.links():
        if link.key == old_key:
            new_target = link_target(*new_key)
        elif link.key == new_key and link.name == key[1] and resumed:
            new_target = link.target
        else:
            continue
        relink = _relink(link, key[1], new, new_target)
        if relink.detail and not resumed:
            problems.append(f"{relink.rel(relink.name)}: {relink.detail}")
        out.append(relink)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise MoveError(f"{problems[0]}{more}; nothing was changed")
    return out


def _relink(link: Link, old: str, new: str, new_target: str) -> Relink:
    name, detail = link.name, ""
    if link.name == old:
        if os.path.lexists(os.path.join(link.folder, new)):
            detail = f"the name {display(new)} is taken in {display(link.batch)}/{link.dataset}"
        else:
            name = new
    return Relink(link.batch, link.dataset, link.name, link.target, name, new_target, detail)


def _refuse_unreadable(store: Store, settings: Settings, key: Key) -> None:
    """Batches mv cannot judge: an unreadable folder, or a destroyed link to the experiment."""
    index = StoreIndex(store, settings)
    for batch in store.batches.values():
        for problem in batch.problems:
            raise MoveError(
                f"{display(str(problem.path.relative_to(store.root)))}: {problem.message}: mv "
                "cannot tell whether it links the experiment; nothing was changed"
            )
        for stray in batch.strays:
            if index.pointed(stray) == key:
                raise MoveError(
                    f"{display(str(stray.path.relative_to(store.root)))} is a destroyed symlink "
                    "to the experiment: run 'batchcheck check --fix' first; nothing was changed"
                )


def _experiments(settings: Settings, key: Key, new: str) -> tuple[Experiment, bool]:
    """The experiment (under its old name, or its new one after an interrupted move) and
    whether the move was already under way."""
    dataset, old = key
    folder = settings.root / SHARED / dataset
    found = load_experiments(
        settings.root,
        [key, (dataset, new)],
        ScanOptions.from_settings(settings, batches=(), shared="linked", data=False),
    ).experiments
    before, after = found.get(key), found.get((dataset, new))
    shown = display(f"{dataset}/{old}")
    if before is not None:
        if os.path.lexists(folder / new):
            raise MoveError(
                f"{SHARED}/{display(dataset)}/{display(new)} exists already: choose another "
                "name; nothing was changed"
            )
        exp, resumed = before, False
    elif after is not None and not os.path.lexists(folder / old):
        exp, resumed = after, True
    else:
        raise MoveError(
            f"unknown experiment {shown}: {SHARED}/{shown} is not an experiment folder "
            "(see 'batchcheck list-shared-experiments'); nothing was changed"
        )
    meta = exp.metadata
    if not meta.ok or not isinstance(meta.data, dict):
        raise MoveError(
            f"{SHARED}/{display(dataset)}/{display(exp.name)}: its metadata cannot be read "
            f"({meta.error or 'not a JSON object'}): fix it first; nothing was changed"
        )
    return exp, resumed


def plan_move(settings: Settings, key: Key, new: str, cwd: Path, rewrite_configs: bool) -> MoveRun:
    """What moving ``key`` to ``new`` means, judged from one scan; raises when it cannot be
    done (nothing written)."""
    dataset, old = key
    if new == old:
        raise UsageError(f"{display(dataset)}/{display(old)}: the new name is the old one")
    exp, resumed = _experiments(settings, key, new)
    if not resumed:
        _check_convention(settings, exp, new)
    batches = scan(
        settings.root, ScanOptions.from_settings(settings, shared="none", metadata=False)
    )
    if not resumed:
        _refuse_unreadable(batches, settings, key)
    relinks = _relinks(batches, key, new, resumed)
    folders = {(r.batch, r.dataset) for r in relinks if r.new_name == new}
    folders |= {
        (link.batch, link.dataset) for link in batches.links() if link.key == (dataset, new)
    }
    errors, named = configured_store_paths(settings, cwd)
    name = exp.metadata.fields.get("experiment_name")
    return MoveRun(
        root=settings.root,
        dataset=dataset,
        old=old,
        new=new,
        dry_run=True,
        resumed=resumed,
        experiment_name=name if isinstance(name, str) else None,
        links=tuple(relinks),
        configs=tuple(_config_uses(named, key, new, folders)),
        config_errors=tuple((f.path, f.message) for f in errors),
        rewrite_configs=rewrite_configs,
    )


def _renamed_metadata(raw: bytes, old: str, new: str) -> bytes:
    """The metadata file with ``experiment_name`` changed and every other byte kept (the whole
    document written again only if the value cannot be found as plain text)."""
    bom = codecs.BOM_UTF8 if raw.startswith(codecs.BOM_UTF8) else b""
    text = raw[len(bom) :].decode("utf-8")
    expected = json.loads(text)
    if not isinstance(expected, dict):
        raise ValueError("the metadata is no longer a JSON object")
    expected["experiment_name"] = new
    for match in _NAME_VALUE.finditer(text):
        if json.loads(match[1]) != old:
            continue
        candidate = (
            text[: match.start(1)] + json.dumps(new, ensure_ascii=False) + text[match.end(1) :]
        )
        if json.loads(candidate) == expected:
            return bom + candidate.encode("utf-8")
    return bom + (json.dumps(expected, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _rewrite_file(path: Path, make: Callable[[bytes], bytes], follow: bool = False) -> None:
    """Replace the regular file ``path`` with ``make(its bytes)``, atomically, keeping its
    permissions; ``follow``: a symlink (a config) is written where it really lives."""
    real = Path(os.path.realpath(path)) if follow else path
    data = make(real.read_bytes())
    mode = stat.S_IMODE(os.stat(real).st_mode)

    def fill(handle: BinaryIO) -> None:
        handle.write(data)

    write_atomic(real, fill, mode)


def _rewritten_config(raw: bytes, config: Path, uses: Sequence[ConfigUse]) -> bytes:
    """The config with each use's text replaced on its line, every other byte kept; ValueError
    when the result would not read back as the same config with just those strings changed."""
    bom = codecs.BOM_UTF8 if raw.startswith(codecs.BOM_UTF8) else b""
    text = raw[len(bom) :].decode("utf-8")
    lines = text.split("\n")
    by_line: dict[int, list[ConfigUse]] = defaultdict(list)
    for use in uses:
        by_line[use.line].append(use)
    for number, on_line in by_line.items():
        if number > len(lines):
            raise ValueError("the file changed since it was read")
        line, at = lines[number - 1], 0
        for use in on_line:
            at = line.find(use.text, at)
            if at < 0 or use.new_text is None:
                raise ValueError("the string is not written plainly on its line")
            line = line[:at] + use.new_text + line[at + len(use.text) :]
            at += len(use.new_text)
        lines[number - 1] = line
    new_text = "\n".join(lines)
    before, after = parse_config(config, text), parse_config(config, new_text)
    wanted = {(use.line, use.text): use.new_text for use in uses}
    expect = [wanted.get((s.line, s.text), s.text) for s in before.strings]
    if after.error is not None or [s.text for s in after.strings] != expect:
        raise ValueError("the rewritten file would not read back the same")
    return bom + new_text.encode("utf-8")


def _write_configs(uses: Sequence[ConfigUse]) -> list[ConfigUse]:
    """Rewrite every config that a use names; a config that cannot be rewritten safely keeps
    its bytes and each of its uses says why."""
    groups: dict[Path, list[ConfigUse]] = defaultdict(list)
    for use in uses:
        groups[use.config].append(use)
    out = []
    for config, group in groups.items():
        todo = [use for use in group if use.new_text is not None]
        detail = ""
        try:
            if todo:
                _rewrite_file(config, partial(_rewritten_config, config=config, uses=todo), True)
        except (OSError, ValueError) as exc:
            detail = f"not rewritten: {getattr(exc, 'strerror', None) or exc}"
        for use in group:
            done = use.new_text is not None and not detail
            out.append(replace(use, rewritten=done, detail=detail or use.detail))
    return out


def _apply(run: MoveRun) -> MoveRun:
    """Write every step in order; stop at the first failure, saying how to finish."""
    folder = run.root / SHARED / run.dataset
    links: list[Relink] = []
    run = replace(run, dry_run=False)
    at = folder / run.old  # what a failure names (a step's own error names one part)
    try:
        with Beneath(run.root) as layer:
            if not run.resumed:
                with layer.folder((SHARED, run.dataset)) as fd:
                    rename_noreplace(run.old, run.new, dir_fd=fd)
                run = replace(run, moved=True)
            for relink in run.links:
                at = run.root / relink.batch / relink.dataset / relink.name
                # Relative to the dataset folder opened beneath the root: a folder swapped
                # for a symlink meanwhile fails the step instead of leading outside.
                with layer.folder((relink.batch, relink.dataset)) as fd:
                    if relink.new_target != relink.target:
                        symlink_atomic(relink.new_target, relink.name, dir_fd=fd)
                    if relink.new_name != relink.name:
                        rename_noreplace(relink.name, relink.new_name, dir_fd=fd)
                links.append(replace(relink, done=True))
        run = replace(run, links=(*links, *run.links[len(links) :]))
        if run.rewrite_configs:
            run = replace(run, configs=tuple(_write_configs(run.configs)))
        if run.renames_metadata:
            meta = folder / run.new / METADATA_FILE
            _rewrite_file(meta, lambda raw: _renamed_metadata(raw, run.old, run.new))
            run = replace(run, metadata_done=True)
    except (OSError, ValueError) as exc:
        where = getattr(exc, "filename", None)
        if isinstance(where, str) and not os.path.isabs(where):
            where = str(at)
        why = getattr(exc, "strerror", None) or str(exc)
        shown = f"{display(str(where))}: {why}" if isinstance(where, str) else why
        return replace(
            run,
            links=(*links, *run.links[len(links) :]),
            error=f"cannot finish the move ({shown}); every step done is whole: run the same "
            "command again once fixed",
        )
    return run


def move_experiment(
    settings: Settings, key: Key, new: str, cwd: Path, dry_run: bool, rewrite_configs: bool
) -> MoveRun:
    """``batchcheck mv``: validate against one scan, write each step atomically, check what
    was touched."""
    run = plan_move(settings, key, new_name(key[0], new), cwd, rewrite_configs)
    if dry_run or run.nothing_left:
        return replace(run, dry_run=dry_run)
    run = _apply(run)
    if run.error or not (run.moved or run.links or run.metadata_done):
        return run  # a failed write, or only configs rewritten: nothing in the store to check
    touched = sorted({relink.batch for relink in run.links})
    return replace(run, check=check_part(settings, touched, [(run.dataset, run.new)]))
