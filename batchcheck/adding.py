"""Registering a freshly generated experiment: ``batchcheck add DATASET/EXPERIMENT --from DIR``.

Everything is judged before anything is written, and a refusal changes nothing:

- the names (not empty, not hidden, printable; a name that states parameters must state those
  of the metadata, as BC306 judges it) and the batch name (BC402's test);
- the metadata (a metadata document, or an entry of a ``plan --format yaml`` file) is completed
  (``experiment_name``, ``dataset``, ``created_at``, ``original_batch`` from ``--batch``,
  ``parameter_fingerprint``, ``fingerprint_version``) and must then pass the schema; a stated
  fingerprint that is not the parameters' own, an unknown key that is a near spelling of a known
  one the metadata lacks (``temprature``), or values that contradict the folder names are
  refused (exit 2);
- the store: the name must be free and no experiment of the dataset may have the same
  recomputed fingerprint (a duplicate generation, exit 1, naming the experiment that has it);
  with ``--batch``, the link must be possible (nothing holds its name);
- the source: a real folder (a symlink only with ``--copy``), not empty, outside ``_shared``
  and the batches, on the store's file system when it is moved; every entry a folder, a file or
  a symlink (a symlink is kept as a symlink, never followed).

Then the experiment is assembled under a hidden name beside its final one
(``_shared/D/.E.add-<mode>-<fingerprint>-<random>``, which the scan ignores): the data is moved
in with one rename (or copied, with ``--copy``), the metadata is written last (atomically), and
the folder is renamed to ``_shared/D/E`` with a rename that never replaces. A crash at any point
leaves either no experiment or a complete one. Run again, ``add`` finishes a staged experiment
whose metadata is written, or whose data was moved in whole; removes a partial copy and starts
over; and says there is nothing to do when ``_shared/D/E`` holds the same parameters already.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import json
import os
import shutil
import stat
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from batchcheck.atomic import rename_noreplace, temporaries, temporary_name, write_atomic
from batchcheck.config import Settings
from batchcheck.documents import read_document
from batchcheck.errors import NotFound, UsageError
from batchcheck.findings import CheckResult
from batchcheck.fingerprint import FINGERPRINT_VERSION, SHORT, FingerprintError, fingerprint
from batchcheck.layout import BATCH_PREFIX, METADATA_FILE, SHARED
from batchcheck.linking import (
    LinkRun,
    check_batch_name,
    check_part,
    link_experiments,
    link_steps,
    refusal,
)
from batchcheck.lookups.common import data_path
from batchcheck.metadata import Judge, Metadata, load_schema, schema_violations, unsupported_version
from batchcheck.model import DataState, Experiment, Store
from batchcheck.names import decoded, display, is_hidden, shown_path
from batchcheck.rules.bc306_naming import disagreements
from batchcheck.scan import ScanOptions, scan

Key = tuple[str, str]
STAGE = "add"  # the purpose in a staged experiment's hidden name
MODES = ("move", "copy")
# What the completed metadata starts with (the seed's order); the rest follows as given.
FIRST = (
    "experiment_name",
    "dataset",
    "created_at",
    "original_batch",
    "parameter_fingerprint",
    "fingerprint_version",
)
PLAN_ENTRY = frozenset({"experiment", "shared_path", "metadata", "near_misses"})
PLAN_KEYS = frozenset({"batch", "generate", "check"})


class AddError(NotFound):
    """The store refuses the experiment (a duplicate, a taken name) or a write failed: exit 1."""


@dataclass(frozen=True)
class AddRun:
    """What one ``add`` did or, with ``dry_run``, would do."""

    root: Path
    dataset: str
    name: str
    fingerprint: str
    metadata: Mapping[str, Any]  # as written (when present already: as the store holds it)
    action: str  # "add", "finish" (an interrupted add), "present" (nothing to do)
    source: Path
    copy: bool = False
    files: int = 0  # entries of the data folder (files, folders, symlinks) taken in
    dry_run: bool = False
    done: bool = False  # written by this run
    links: LinkRun | None = None
    check: CheckResult | None = None  # of the experiment, when no batch was linked

    @property
    def folder(self) -> Path:
        """``_shared/<Dataset>/<experiment>``."""
        return self.root / SHARED / self.dataset / self.name

    def exit_code(self) -> int:
        """The check's exit code (of the batch when linked, else of the experiment)."""
        if self.links is not None:
            return self.links.exit_code()
        return self.check.exit_code() if self.check is not None else 0

    def finish(self) -> None:
        """After the result is shown: a failed link ends the run (exit 1)."""
        if self.links is not None:
            self.links.finish()

    def to_json(self, cwd: Path) -> dict[str, Any]:
        """``{"dataset", "experiment", "shared_path", "data_path", "source", "mode", "action",
        "done", "dry_run", "files", "parameter_fingerprint", "metadata", "link", "check"}``."""
        return {
            "dataset": decoded(self.dataset),
            "experiment": decoded(self.name),
            "shared_path": shown_path(self.folder, cwd),
            "data_path": shown_path(data_path(self.folder, self.dataset), cwd),
            "source": shown_path(self.source, cwd),
            "mode": "copy" if self.copy else "move",
            "action": self.action,
            "done": self.done,
            "dry_run": self.dry_run,
            "files": self.files,
            "parameter_fingerprint": self.fingerprint,
            "metadata": dict(self.metadata),
            "link": self.links.to_json(cwd) if self.links is not None else None,
            "check": self.check.to_json(cwd) if self.check is not None else None,
        }


# -- what is judged before anything is written -------------------------------------------------


def check_name(text: str, what: str) -> None:
    """A dataset or experiment folder name: not empty, not hidden, printable (else exit 2)."""
    if not text or text in (".", "..") or is_hidden(text) or display(text) != text:
        raise UsageError(
            f"{display(text)!r} is not a valid {what} name (not empty, no leading '.', no "
            "control characters)"
        )


def metadata_from(doc: Any, key: Key, shown: str) -> dict[str, Any]:
    """The metadata for ``key`` in what a metadata file held: a metadata document, an entry of
    ``plan --format yaml`` or that whole plan (the entry for ``key`` is taken)."""
    if not isinstance(doc, dict):
        raise UsageError(f"{shown}: expected a mapping (metadata, or a plan from --format yaml)")
    if "generate" in doc:
        unknown = sorted(map(str, set(doc) - PLAN_KEYS))
        if unknown:
            raise UsageError(f"{shown}: {display(unknown[0])}: unknown key in a plan")
        entries = doc["generate"] if isinstance(doc["generate"], list) else []
        wanted = f"{key[0]}/{key[1]}"
        found = [e for e in entries if isinstance(e, dict) and e.get("experiment") == wanted]
        if not found:
            listed = ", ".join(str(e.get("experiment")) for e in entries if isinstance(e, dict))
            raise UsageError(
                f"{shown}: the plan has no entry for {display(wanted)} (it has: {listed or 'none'})"
            )
        doc = found[0]
    if "metadata" in doc and isinstance(doc["metadata"], dict) and "experiment" in doc:
        unknown = sorted(map(str, set(doc) - PLAN_ENTRY))
        if unknown:
            raise UsageError(f"{shown}: {display(unknown[0])}: unknown key in a plan entry")
        doc = doc["metadata"]
    return dict(doc)


def read_metadata_file(path: Path, shown: str, key: Key, settings: Settings) -> dict[str, Any]:
    """``--metadata FILE`` (JSON or YAML, within the input limits and the metadata size limit):
    the metadata for ``key`` it holds (see :func:`metadata_from`)."""
    doc = read_document(path, shown, settings.max_metadata_bytes)
    return metadata_from(doc, key, shown)


def _jsonable(value: Any, where: str) -> Any:
    """YAML's dates as ISO text (``created_at: 2025-01-06 12:00:00`` unquoted); anything JSON
    has no form for is refused."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise UsageError(f"{where or 'metadata'}: key {k!r} is not a string")
            out[k] = _jsonable(v, f"{where}.{k}" if where else k)
        return out
    if isinstance(value, list):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise UsageError(f"{where}: a {type(value).__name__} has no JSON form")


def _typos(meta: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """Unknown keys that are a near spelling of a known key the metadata lacks: a typo would
    silently make another fingerprint. Other unknown keys are a pipeline's own and welcome."""
    out = []
    sections: list[tuple[str, Mapping[str, Any], Any]] = [("", meta, schema)]
    for name in ("generation", "validation"):
        if isinstance(meta.get(name), dict):
            sections.append((f"{name}.", meta[name], schema.get("properties", {}).get(name, {})))
    for where, given, part in sections:
        known = part.get("properties", {}) if isinstance(part, dict) else {}
        absent = [k for k in known if k not in given]
        for key in given:
            near = difflib.get_close_matches(key, absent, n=1, cutoff=0.8)
            if key not in known and near:
                out.append(f"{where}{display(key)}: unknown key (did you mean {near[0]!r}?)")
    return out


def complete_metadata(
    given: Mapping[str, Any], key: Key, batch: str | None, settings: Settings, now: str
) -> dict[str, Any]:
    """The metadata to write: ``given`` completed and judged; every problem a usage error."""
    dataset, name = key
    meta = _jsonable(dict(given), "")
    typos = _typos(meta, load_schema(settings.metadata_schema))
    if typos:  # first: a typo is why a fingerprint or a required field looks wrong
        raise UsageError(f"metadata: {'; '.join(typos)}")
    for field, wanted in (("experiment_name", name), ("dataset", dataset)):
        if meta.setdefault(field, wanted) != wanted:
            raise UsageError(
                f"metadata: {field} is {display(str(meta[field]))!r} but the experiment is "
                f"{display(dataset)}/{display(name)}"
            )
    original = meta.get("original_batch")
    if original is None and batch is None:
        raise UsageError(
            "metadata: original_batch is missing: give --batch BATCH (the batch the data was "
            "generated for)"
        )
    if original is not None and batch is not None and original != batch:
        raise UsageError(
            f"metadata: original_batch is {display(str(original))!r} but --batch is {batch!r}"
        )
    meta.setdefault("original_batch", batch)
    meta.setdefault("created_at", now)
    version = meta.setdefault("fingerprint_version", FINGERPRINT_VERSION)
    if unsupported_version(version):
        raise UsageError(f"metadata: fingerprint_version {version!r} is not supported")
    try:
        value = fingerprint(meta, settings.fingerprint_fields, int(version))
    except FingerprintError as exc:
        raise UsageError(f"metadata: {exc}") from exc
    stated = meta.setdefault("parameter_fingerprint", value)
    if stated != value:
        raise UsageError(
            f"metadata: parameter_fingerprint {display(str(stated))!r} is not the fingerprint "
            f"of these parameters ({value}): they changed since it was computed"
        )
    ordered = {field: meta[field] for field in FIRST}
    ordered.update(meta)
    problems = schema_violations(ordered, settings.metadata_schema)
    if problems:
        raise UsageError(f"metadata breaks the schema: {'; '.join(problems)}")
    return ordered


def _experiment(root: Path, key: Key, meta: Mapping[str, Any], settings: Settings) -> Experiment:
    """The experiment as the model will read it once added (judged as the scan judges)."""
    judge = Judge(settings.metadata_schema, settings.fingerprint_fields)
    read = judge(Metadata("ok", data=dict(meta)))
    return Experiment(key[0], key[1], str(root / SHARED / key[0]), read, DataState.OK)


def _check_convention(exp: Experiment, settings: Settings) -> None:
    """A name that states parameters must state those of the metadata (BC306's test)."""
    if settings.naming_convention:
        problems = disagreements(exp)
        if problems:
            raise UsageError(
                f"{display(exp.name)} is outside the naming convention: {'; '.join(problems)} "
                "(naming_convention = false in [tool.batchcheck] turns this off)"
            )


def _source_entries(source: Path, root: Path, copy: bool, shown: str) -> int:
    """Judge the source folder (see the module docstring); the number of entries under it."""
    try:
        st = os.lstat(source)
    except OSError as exc:
        raise UsageError(f"--from {shown}: {exc.strerror} (no data to add)") from exc
    if stat.S_ISLNK(st.st_mode) and not copy:
        raise UsageError(
            f"--from {shown} is a symlink: moving it would move the link, not the data "
            "(give the folder itself, or --copy)"
        )
    real = Path(os.path.realpath(source))
    if not real.is_dir():
        raise UsageError(f"--from {shown} is not a folder")
    store = Path(os.path.realpath(root))
    if real == store or store in real.parents or real in store.parents:
        where = real.relative_to(store).parts[:1] if store in real.parents else ()
        if not where or where[0] == SHARED or where[0].startswith(BATCH_PREFIX):
            raise UsageError(
                f"--from {shown} is inside {SHARED} or a batch of the store, or holds the store: "
                "give a folder outside them"
            )
    count = 0
    for folder, dirs, files in os.walk(real):  # never follows a symlinked folder
        for entry in (*dirs, *files):
            count += 1
            mode = os.lstat(os.path.join(folder, entry)).st_mode
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
                rel = os.path.relpath(os.path.join(folder, entry), real)
                raise UsageError(f"--from {shown}: {display(rel)} is not a file or a folder")
    if not count:
        raise UsageError(f"--from {shown} is empty: no data to add")
    return count


def _folder_problem(path: Path) -> str | None:
    """Why a store folder the add writes into cannot be used (a symlink, a file), or None."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        return f"{display(path.name)} is a symlink (never followed)"
    if not stat.S_ISDIR(st.st_mode):
        return f"{display(path.name)} is not a folder"
    return None


# -- staged experiments --------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """An experiment assembled under a hidden name by an earlier run that did not finish."""

    path: Path
    mode: str

    @property
    def complete(self) -> bool:
        """Its metadata is written: it was written last, so the data is whole."""
        return os.path.lexists(self.path / METADATA_FILE)

    def moved_in(self, dataset: str) -> bool:
        """The data was renamed in (one step, so it is whole); only the metadata is missing."""
        return self.mode == "move" and os.path.isdir(self.path / dataset)


def _purpose(mode: str, value: str) -> str:
    return f"{STAGE}-{mode}-{value[:SHORT]}"


def _stages(folder: Path, name: str, value: str) -> list[Stage]:
    return [
        Stage(path, mode)
        for mode in MODES
        for stands_for, path in temporaries(folder, _purpose(mode, value))
        if stands_for == name
    ]


def _remove(path: Path) -> None:
    """Remove a staged folder this program made (hidden; symlinks inside are not followed)."""
    shutil.rmtree(path, ignore_errors=True)


def _write_metadata(folder: Path, meta: Mapping[str, Any]) -> None:
    """The metadata file, written atomically, readable as the folder is (the umask's mode)."""
    text = json.dumps(meta, indent=2, ensure_ascii=False) + "\n"
    mode = os.stat(folder).st_mode & 0o666
    write_atomic(folder / METADATA_FILE, lambda h: _write(h, text), mode)


def _write(handle: BinaryIO, text: str) -> None:
    handle.write(text.encode("utf-8"))


def _mkdirs(*folders: Path) -> list[Path]:
    """Make the missing folders, in order; the ones made (to remove again on failure)."""
    made = []
    for folder in folders:
        try:
            os.mkdir(folder)
            made.append(folder)
        except FileExistsError:
            pass
    return made


def _assemble(run: AddRun, source: Path, stages: list[Stage]) -> Stage:
    """Stage the experiment: the data moved or copied in, then the metadata. On a failure
    that is not a crash, the source is put back and the stage removed before raising."""
    for stale in stages:  # partial copies, or stages the data never reached
        if not stale.complete and not stale.moved_in(run.dataset):
            _remove(stale.path)
    mode = "copy" if run.copy else "move"
    made = _mkdirs(run.root / SHARED, run.root / SHARED / run.dataset)
    stage = Stage(temporary_name(run.folder, _purpose(mode, run.fingerprint)), mode)
    data = stage.path / run.dataset
    try:
        os.mkdir(stage.path)
        if run.copy:
            shutil.copytree(source, data, symlinks=True)
        else:
            os.rename(source, data)
        _write_metadata(stage.path, run.metadata)
    except BaseException as exc:
        if not run.copy and os.path.isdir(data) and not os.path.lexists(source):
            os.rename(data, source)
        _remove(stage.path)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        if isinstance(exc, OSError) and exc.errno == errno.EXDEV:
            raise UsageError(
                f"--from {shown_path(source)} is on another file system than the store: it "
                "cannot be moved in one step (use --copy)"
            ) from exc
        if isinstance(exc, (OSError, shutil.Error)):
            raise AddError(f"cannot stage {run.name}: {exc}; nothing was changed") from exc
        raise
    return stage


def _commit(run: AddRun, stage: Stage, source: Path | None) -> None:
    """Rename the staged experiment into place; never over anything."""
    try:
        rename_noreplace(stage.path, run.folder)
    except OSError as exc:
        if source is not None and not run.copy and not os.path.lexists(source):
            os.rename(stage.path / run.dataset, source)  # give the data back
            _remove(stage.path)
        taken = isinstance(exc, FileExistsError)
        raise AddError(
            f"{SHARED}/{display(run.dataset)}/{display(run.name)}: "
            + ("another run took the name meanwhile" if taken else f"cannot rename: {exc}")
            + ("; nothing was changed" if source is not None else "")
        ) from exc


# -- the operation -------------------------------------------------------------------------------


def _present(run: AddRun, existing: Experiment | None) -> AddRun | None:
    """Nothing to do when ``_shared/D/E`` holds these parameters; refused when it holds others
    or is not an experiment folder."""
    if existing is None:
        problem = _folder_problem(run.folder)
        if os.path.lexists(run.folder):
            raise AddError(
                f"{SHARED}/{display(run.dataset)}/{display(run.name)} exists and is not an "
                f"experiment folder ({problem or 'unreadable'}); nothing was changed"
            )
        return None
    if existing.metadata.fingerprint == run.fingerprint:
        return replace(run, action="present", metadata=dict(existing.metadata.fields))
    held = existing.metadata.fingerprint
    raise AddError(
        f"{SHARED}/{display(run.dataset)}/{display(run.name)} already exists with other "
        f"parameters (fingerprint {held[:SHORT] if held else 'unknown'}, this one "
        f"{run.fingerprint[:SHORT]}); choose another name; nothing was changed"
    )


def _duplicate(store: Store, run: AddRun) -> None:
    """A duplicate generation: another experiment with the same recomputed fingerprint."""
    same = sorted(
        exp.name
        for exp in store.experiments.values()
        if exp.metadata.fingerprint == run.fingerprint and exp.name != run.name
    )
    if same:
        raise AddError(
            f"{display(run.dataset)}/{display(run.name)} duplicates "
            f"{display(run.dataset)}/{display(same[0])}: same parameters (fingerprint "
            f"{run.fingerprint[:SHORT]}); reuse it (batchcheck link) instead; nothing was changed"
        )


def add_experiment(
    settings: Settings,
    key: Key,
    source: Path,
    given: Mapping[str, Any],
    *,
    batch: str | None = None,
    copy: bool = False,
    dry_run: bool = False,
    shown_source: str | None = None,
) -> AddRun:
    """``batchcheck add``: judge everything, stage the experiment, rename it into place, link
    it into ``batch`` when given, and check what was touched. ``source`` is not needed (it may
    be gone) when an interrupted run left the experiment staged, or it is present already."""
    dataset, name = key
    check_name(dataset, "dataset")
    check_name(name, "experiment")
    if batch is not None:
        check_batch_name(batch)
    root = settings.root
    now = datetime.now().isoformat(timespec="seconds")
    meta = complete_metadata(given, key, batch, settings, now)
    planned = _experiment(root, key, meta, settings)
    _check_convention(planned, settings)
    for folder in (root / SHARED, root / SHARED / dataset):
        problem = _folder_problem(folder)
        if problem:
            raise AddError(f"{SHARED}/{display(dataset)}: {problem}; nothing was changed")
    value = str(meta["parameter_fingerprint"])
    run = AddRun(root, dataset, name, value, meta, "add", source, copy, dry_run=dry_run)
    fields = settings.fingerprint_fields
    options = ScanOptions.from_settings(
        settings,
        batches=(batch,) if batch is not None else (),
        shared="all",
        datasets=(dataset,) if "dataset" in fields else None,
        data=False,
    )
    store = scan(root, options)
    present = _present(run, store.experiments.get(key))
    if present is None:
        _duplicate(store, run)
        if batch is not None:  # the link must be possible before the data moves
            merged = Store(root, store.batches, {key: planned})
            reason = refusal(batch, link_steps(merged, settings, batch, [key]))
            if reason:
                raise AddError(reason)
        run = _add(run, shown_source)
    else:
        run = present
    if dry_run:
        return run
    if batch is not None:
        return replace(run, links=link_experiments(settings, batch, [key], dry_run=False))
    return replace(run, check=check_part(settings, (), [key]))


def _add(run: AddRun, shown: str | None) -> AddRun:
    """Finish a staged experiment, or stage and commit a new one (unless a dry run)."""
    stages = _stages(run.root / SHARED / run.dataset, run.name, run.fingerprint)
    resumable = [s for s in stages if s.complete] or [s for s in stages if s.moved_in(run.dataset)]
    if resumable:
        stage = resumable[0]
        if run.dry_run:
            return replace(run, action="finish")
        if not stage.complete:
            _write_metadata(stage.path, run.metadata)
        _commit(run, stage, None)
        return replace(run, action="finish", done=True)
    source = run.source
    shown = shown or shown_path(source)
    files = _source_entries(source, run.root, run.copy, shown)
    real = Path(os.path.realpath(source)) if run.copy else source
    if not run.copy:
        _same_file_system(real, run.root)
    run = replace(run, files=files)
    if run.dry_run:
        return run
    _commit(run, _assemble(run, real, stages), real)
    return replace(run, done=True)


def _same_file_system(source: Path, root: Path) -> None:
    """A move is one rename, which only works within one file system."""
    shared = root / SHARED
    where = shared if shared.is_dir() else root
    if os.stat(source).st_dev != os.stat(where).st_dev:
        raise UsageError(
            f"--from {shown_path(source)} is on another file system than the store: it cannot "
            "be moved in one step (use --copy)"
        )
