"""What the lookups share: how a link, an experiment and a batch are described, the reuse status
(SPEC section 4), parameter paths, and the parsing of the names a user gives.

Every lookup reads a :class:`~batchcheck.model.Store` (never the disk) and returns a frozen
result whose ``to_json(cwd)`` is the stable JSON shape documented in the README (paths
relative to ``cwd`` when under it, as printed). A broken link or unreadable metadata never
stops a listing: the entry is kept and carries its problem.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batchcheck.errors import NotFound, UsageError
from batchcheck.layout import BATCH_PREFIX, SHARED
from batchcheck.model import Batch, Experiment, Link, LinkState, Store, Stray
from batchcheck.names import decoded, display, dotted, quoted, shown_path

# Metadata keys that listings show and put in their JSON, in the seed's order.
SHOWN_FIELDS = (
    "created_at",
    "original_batch",
    "parameter_fingerprint",
    "generation",
    "validation",
    "experiment_purpose",
    "experiment_description",
)


# What text layouts show of an experiment besides those, by dotted key.
SHOWN_KEYS = (*SHOWN_FIELDS, "generation.model", "generation.temperature", "generation.top_p")
Json = dict[str, Any]


def rel(*parts: str) -> str:
    """A store path relative to the root, as the seed's "Batch view" lines show it (decoded:
    the very path in JSON; text layouts escape it)."""
    return decoded("/".join(parts))


def under_root(root: Path, path: Path) -> str:
    """A path the scan met, relative to the root (messages about the store's own folders)."""
    try:
        return display(str(path.relative_to(root)))
    except ValueError:
        return display(str(path))


def data_path(folder: Path | str, dataset: str) -> str:
    """The training data path ``<experiment>/<Dataset>`` (SPEC section 1), as text: listings
    show hundreds of thousands of them, and a Path each costs more than the rest of a line."""
    return f"{os.fspath(folder)}{os.sep}{dataset}"


def link_problem(link: Link) -> str | None:
    """Why a link does not lead to its shared experiment, or None when it does."""
    if link.state is LinkState.OK:
        return None
    detail = f": {link.detail}" if link.detail else ""
    return f"link {link.state.value}{detail} ({display(link.target)})"


def metadata_problem(exp: Experiment | None) -> str | None:
    """Why an experiment's metadata cannot be shown, or None (also when it was not read)."""
    if exp is None or exp.metadata.state == "unread":
        return None
    if not exp.metadata.ok:
        return f"metadata: {exp.metadata.error}"
    if not isinstance(exp.metadata.data, dict):
        return f"metadata: not a JSON object (it is {type(exp.metadata.data).__name__})"
    return None


LONGEST = 160  # a schema violation quotes the offending value, which may be huge


def metadata_problems(exp: Experiment | None) -> tuple[str, ...]:
    """The ``❌`` lines of an experiment's metadata in a listing: unreadable, or breaking the
    schema (BC302), or holding a stale fingerprint (BC202), as ``check`` would report them."""
    unreadable = metadata_problem(exp)
    if unreadable or exp is None:
        return (unreadable,) if unreadable else ()
    meta = exp.metadata
    out = []
    if meta.violations:
        shown = (display(v) for v in meta.violations)
        out.append(
            "metadata breaks the schema: "
            + "; ".join(v if len(v) <= LONGEST else v[: LONGEST - 3] + "..." for v in shown)
        )
    stored = meta.fields.get("parameter_fingerprint")
    if isinstance(stored, str) and meta.fingerprint and stored.lower() != meta.fingerprint:
        out.append(
            f"stale fingerprint: stored {quoted(stored)}, the parameters give {meta.fingerprint}"
        )
    return tuple(out)


def stray_problem(stray: Stray) -> str:
    """What a non-link entry in a batch is (copied data, a symlink checked out as a file)."""
    text = f"not a symlink: a {stray.kind}"
    if stray.pointer:
        text += f" holding the path {display(stray.pointer)}"
    return text


def link_json(link: Link) -> Json:
    return {
        "target": decoded(link.target),
        "state": link.state.value,
        "detail": link.detail,
    }


def metadata_json(exp: Experiment | None) -> Json:
    """The shown metadata fields (null when absent) plus how the file was read."""
    out: Json = {name: exp.metadata.fields.get(name) if exp else None for name in SHOWN_FIELDS}
    out["metadata"] = {"state": exp.metadata.state, "error": exp.metadata.error} if exp else None
    return out


@dataclass(frozen=True)
class ReuseStatus:
    """SPEC section 4: new in the batch its ``original_batch`` names, reused elsewhere."""

    status: str  # "new", "reused" or "unknown" (no metadata to tell)
    original_batch: str | None

    def to_json(self) -> Json:
        """``{"status", "original_batch"}``."""
        return {"status": self.status, "original_batch": self.original_batch}


def reuse_status(batch: str, exp: Experiment | None) -> ReuseStatus:
    """How ``batch`` holds ``exp``; an original batch that no longer exists is still named."""
    original = exp.metadata.fields.get("original_batch") if exp else None
    if not isinstance(original, str):
        return ReuseStatus("unknown", None)
    return ReuseStatus("new" if original == batch else "reused", display(original))


def shown_fields(exp: Experiment) -> dict[str, Any]:
    """The metadata values a listing shows, by dotted key (None where absent or unreadable)."""
    meta = exp.metadata
    return {key: meta.get(key) for key in SHOWN_KEYS}


def check_dataset(dataset: str | None, known: Iterable[str], where: str) -> None:
    """NotFound naming an unknown ``--dataset`` and the datasets that exist there."""
    names = sorted(set(known))
    if dataset is not None and dataset not in names:
        listed = ", ".join(display(n) for n in names) or "none"
        raise NotFound(f"unknown dataset {display(dataset)!r} in {where} (known: {listed})")


def find_batch(store: Store, name: str) -> Batch:
    """The scanned batch ``name`` as a folder; NotFound when the store has no such batch."""
    batch = store.batches.get(name)
    if batch is None or not_a_folder(batch):
        raise NotFound(
            f"unknown batch {display(name)!r} in {shown_path(store.root)} "
            "(see 'batchcheck list-batches')"
        )
    return batch


def not_a_folder(batch: Batch) -> bool:
    """A ``batch_*`` entry that is a file or a symlink: the scan keeps it as its own stray."""
    return any(stray.path == batch.path for stray in batch.strays)


def batch_name(text: str, root: Path, cwd: Path) -> str:
    """A batch given by name (``batch_x``, ``batch_x/``) or by its path; NotFound otherwise."""
    name = text.rstrip("/")
    if "/" in name:
        path = Path(os.path.abspath(cwd / name))
        name = path.name if path.parent == root else ""
    if not name.startswith(BATCH_PREFIX):
        raise NotFound(f"unknown batch {display(text)!r}: a batch is a batch_* folder of the store")
    return name


def shared_key(text: str) -> tuple[str, str]:
    """``Dataset/experiment`` (``_shared/`` in front and a trailing ``/`` are accepted); a
    malformed one is a usage error (exit 2), whichever command reads it."""
    parts = [p for p in text.split("/") if p]
    if parts[:1] == [SHARED]:
        parts = parts[1:]
    if len(parts) != 2 or any(p in (".", "..") for p in parts):
        raise UsageError(
            f"{display(text)}: expected Dataset/experiment, e.g. Copa/temp07_topp10_gpt4o"
        )
    return parts[0], parts[1]


class _Missing:
    """A key one side lacks (deepdiff's ``notpresent``), shown as ``(missing)``, null in JSON."""

    def __repr__(self) -> str:
        return "(missing)"


MISSING: Any = _Missing()


def json_value(value: Any) -> Any:
    return None if value is MISSING else value


def parameters(exp: Experiment, fields: Iterable[str]) -> dict[str, Any]:
    """The fingerprinted top-level keys of the metadata: what makes data differ."""
    data = exp.metadata.fields
    return {key: data[key] for key in fields if key in data}


def flatten(value: Any, prefix: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], Any]:
    """Leaves of nested dicts and lists keyed by their path (the paths deepdiff reports)."""
    if isinstance(value, dict) and value:
        out: dict[tuple[Any, ...], Any] = {}
        for key, item in value.items():
            out.update(flatten(item, (*prefix, key)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for i, item in enumerate(value):
            out.update(flatten(item, (*prefix, i)))
        return out
    return {prefix: value}


def dotted_path(path: Iterable[Any]) -> str:
    """``generation.stop[1]`` from ``("generation", "stop", 1)``, printable."""
    return display(dotted(path))


def sort_values(values: Iterable[Any]) -> tuple[Any, ...]:
    """Distinct values, numbers in order before everything else (compared as text)."""
    unique = {repr(v): v for v in values}.values()

    def key(v: Any) -> tuple[int, float, str]:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return (1, 0.0, repr(v))
        try:
            return (0, float(v), "")
        except OverflowError:  # an integer of 310+ digits: past every float, in its direction
            return (0, math.inf if v > 0 else -math.inf, repr(v))

    return tuple(sorted(unique, key=key))
