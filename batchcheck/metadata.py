"""Reading ``experiment_metadata.json`` and judging it against the JSON Schema.

Reading never raises: a file that is missing, unreadable, too large or not JSON comes back as
a :class:`Metadata` whose ``state`` says so, so one broken experiment never hides the rest.
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from batchcheck.errors import UsageError

SCHEMA_RESOURCE = "metadata_schema.json"


@dataclass(frozen=True)
class Metadata:
    """A metadata file as read; ``state``: ok, missing, unreadable, too_large, invalid, unread."""

    state: str
    data: Any = None
    error: str = ""
    size: int = -1
    mtime_ns: int = 0

    @classmethod
    def failed(cls, state: str, error: str) -> Metadata:
        """A metadata file that could not be read or parsed."""
        return cls(state=state, error=error)

    @property
    def ok(self) -> bool:
        """Parsed as JSON (it may still break the schema)."""
        return self.state == "ok"

    @property
    def fields(self) -> Mapping[str, Any]:
        """The top-level object, or an empty mapping when there is none to read from."""
        return self.data if self.ok and isinstance(self.data, dict) else {}

    def get(self, dotted: str) -> Any:
        """The value at ``a.b.c``, or None when any step is missing or not an object."""
        value: Any = self.fields
        for part in dotted.split("."):
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return value


def _human(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    scaled = float(size)
    for unit in ("KiB", "MiB", "GiB"):
        scaled /= 1024
        if scaled < 1024 or unit == "GiB":
            break
    return f"{scaled:.1f} {unit}"


def read_metadata(path: Path, st: os.stat_result | None, limit: int) -> Metadata:
    """Read and parse one metadata file, reading at most ``limit`` bytes of it."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return Metadata.failed("missing", f"{path.name} is missing")
    except OSError as exc:
        return Metadata.failed("unreadable", f"cannot read {path.name}: {exc.strerror}")
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return Metadata.failed("unreadable", f"{path.name} is not a regular file")
        if st.st_size > limit:
            return Metadata.failed(
                "too_large", f"{path.name} is {_human(st.st_size)}, over the {_human(limit)} limit"
            )
        raw = os.read(fd, limit + 1)
    except OSError as exc:
        return Metadata.failed("unreadable", f"cannot read {path.name}: {exc.strerror}")
    finally:
        os.close(fd)
    if len(raw) > limit:
        return Metadata.failed("too_large", f"{path.name} is over the {_human(limit)} limit")
    return parse_metadata(raw, st.st_size, st.st_mtime_ns)


def parse_metadata(raw: bytes, size: int, mtime_ns: int) -> Metadata:
    """Parse metadata bytes; a decoding or JSON error becomes an ``invalid`` state."""
    try:
        data = json.loads(raw)
    except UnicodeDecodeError:
        return Metadata("invalid", error="not UTF-8 text", size=size, mtime_ns=mtime_ns)
    except json.JSONDecodeError as exc:
        return Metadata("invalid", error=f"not JSON: {exc}", size=size, mtime_ns=mtime_ns)
    except RecursionError:
        return Metadata(
            "invalid", error="not JSON: nested too deeply", size=size, mtime_ns=mtime_ns
        )
    return Metadata("ok", data=data, size=size, mtime_ns=mtime_ns)


@lru_cache(maxsize=4)
def load_schema(path: Path | None = None) -> dict[str, Any]:
    """The shipped schema, or a project's own (``[tool.batchcheck] metadata_schema``)."""
    try:
        if path is None:
            text = resources.files("batchcheck").joinpath(SCHEMA_RESOURCE).read_text("utf-8")
        else:
            text = path.read_text("utf-8")
        schema = json.loads(text)
    except (OSError, ValueError) as exc:
        raise UsageError(f"metadata schema {path or SCHEMA_RESOURCE}: cannot load: {exc}") from exc
    if not isinstance(schema, dict):
        raise UsageError(f"metadata schema {path}: not a JSON object")
    from jsonschema import SchemaError, validators

    try:
        validators.validator_for(schema).check_schema(schema)
    except SchemaError as exc:
        raise UsageError(f"metadata schema {path}: not a valid JSON Schema: {exc.message}") from exc
    return schema


@lru_cache(maxsize=4)
def _validator(path: Path | None) -> Any:
    from jsonschema import validators

    schema = load_schema(path)
    return validators.validator_for(schema)(schema)


def _non_finite(value: Any, where: str) -> Iterator[str]:
    if isinstance(value, float) and not math.isfinite(value):
        yield f"{where}: {value} is not a finite number"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _non_finite(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _non_finite(item, f"{where}[{i}]")


def _dotted(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def schema_violations(data: Any, schema_path: Path | None = None) -> list[str]:
    """Every way ``data`` breaks the schema, each naming its field (``generation.top_p: missing``).

    NaN and infinities are checked here too: JSON Schema treats them as numbers.
    """
    if not isinstance(data, dict):
        return [f"metadata is not a JSON object (it is {type(data).__name__})"]
    problems = list(_non_finite(data, ""))
    for error in _validator(schema_path).iter_errors(data):
        where = _dotted(error.absolute_path)
        if error.validator == "required":
            missing = [
                name
                for name in error.validator_value
                if isinstance(error.instance, dict) and name not in error.instance
            ]
            problems.extend(f"{where}.{m}: missing" if where else f"{m}: missing" for m in missing)
        else:
            problems.append(f"{where or 'metadata'}: {error.message}")
    return sorted(set(problems))
