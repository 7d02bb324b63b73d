"""Reading ``experiment_metadata.json`` and judging it against the JSON Schema.

Reading never raises: a file that is missing, unreadable, too large or not JSON comes back as
a :class:`Metadata` whose ``state`` says so, so one broken experiment never hides the rest.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import stat
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from batchcheck.errors import UsageError
from batchcheck.fingerprint import (
    DEFAULT_FIELDS,
    FINGERPRINT_VERSION,
    SUPPORTED_VERSIONS,
    FingerprintError,
    fingerprint,
)
from batchcheck.names import display, dotted

SCHEMA_RESOURCE = "metadata_schema.json"


@dataclass(frozen=True, slots=True)
class Metadata:
    """A metadata file as read; ``state``: ok, missing, unreadable, too_large, invalid, unread."""

    state: str
    data: Any = None
    error: str = ""
    size: int = -1
    mtime_ns: int = 0
    # Judged where the file was parsed (see Judge), so no later step needs the whole document.
    violations: tuple[str, ...] = ()
    fingerprint: str | None = None

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
        data = self.data
        return data if self.state == "ok" and isinstance(data, dict) else _NO_FIELDS

    def get(self, dotted: str) -> Any:
        """The value at ``a.b.c``, or None when any step is missing or not an object."""
        value: Any = self.data if self.state == "ok" else None
        for part in _steps(dotted):
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value


_NO_FIELDS: Mapping[str, Any] = MappingProxyType({})


@lru_cache(maxsize=256)
def _steps(dotted: str) -> tuple[str, ...]:
    return tuple(dotted.split("."))


def _larger(size: int, limit: int) -> str:
    """A size past ``limit`` that rounds to the same text shown in bytes ("1.0 MiB, over the
    1.0 MiB limit" says nothing)."""
    shown = human_size(size)
    return f"{size:,} bytes" if shown == human_size(limit) else shown


def human_size(size: int) -> str:
    """``512 bytes``, ``7.8 KiB``, ``64.0 MiB``."""
    if size < 1024:
        return f"{size} bytes"
    scaled = float(size)
    for unit in ("KiB", "MiB", "GiB"):
        scaled /= 1024
        if scaled < 1024 or unit == "GiB":
            break
    return f"{scaled:.1f} {unit}"


def unsupported_version(version: object) -> bool:
    """A ``fingerprint_version`` this package cannot recompute (any type, never raises)."""
    if isinstance(version, bool) or not isinstance(version, (int, float)):
        return True
    return version not in SUPPORTED_VERSIONS


@dataclass(frozen=True)
class Judge:
    """What to conclude from a parsed document: schema violations, the recomputed fingerprint,
    and which fields to keep (``keep``: dotted paths; None keeps the whole document).

    Judging where the file is parsed lets a large scan keep only the few fields its rules read.
    """

    schema: Path | None = None
    fields: tuple[str, ...] = DEFAULT_FIELDS
    keep: frozenset[str] | None = None

    @cached_property
    def _kept(self) -> Tree | None:
        return _tree(self.keep) if self.keep is not None else None

    def __call__(self, meta: Metadata, finite: bool = False, plain: bool = False) -> Metadata:
        """``meta`` with violations and fingerprint filled in and its data trimmed to ``keep``.

        ``finite`` and ``plain``, what the parser saw (see :class:`Numbers`), let the walks for
        odd numbers be skipped.
        """
        data = meta.data
        violations = schema_violations(data, self.schema, finite=finite)
        value = None
        if isinstance(data, dict):
            version = data.get("fingerprint_version", FINGERPRINT_VERSION)
            if unsupported_version(version):
                if not any(v.startswith("fingerprint_version:") for v in violations):
                    known = ", ".join(map(str, sorted(SUPPORTED_VERSIONS)))
                    violations.append(
                        f"fingerprint_version: {version!r} is unknown (known: {known})"
                    )
            else:
                try:
                    value = fingerprint(data, self.fields, int(version), plain=plain)
                except (FingerprintError, TypeError, RecursionError):
                    value = None
            kept = self._kept
            data = _interned(data) if kept is None else _project(data, kept)
        return Metadata(
            meta.state, data, meta.error, meta.size, meta.mtime_ns, tuple(violations), value
        )


def _interned(value: Any) -> Any:
    """``value`` with its keys and strings interned.

    The same keys and many of the same strings recur in every document (``generation``,
    ``gpt-4o``, a shared prompt template). Interned where a file is parsed, a worker's chunk
    pickles each of them once, and the scanning process holds one copy per chunk instead of one
    per document: about a third less memory for the metadata of a large store.
    """
    kind = type(value)
    if kind is dict:
        return {sys.intern(k): _interned(v) for k, v in value.items()}
    if kind is list:
        return [_interned(v) for v in value]
    if kind is str:
        return sys.intern(value)
    return value


# ``keep`` as a tree: {"generation": {"model": None}, "dataset": None}; None marks a kept leaf.
Tree = dict[str, "Tree | None"]


def _tree(keep: frozenset[str]) -> Tree:
    tree: Tree = {}
    for key_path in sorted(keep, key=len):  # a shorter path keeps all below it: it wins
        node = tree
        *heads, last = key_path.split(".")
        for head in heads:
            child = node.setdefault(sys.intern(head), {})
            if child is None:
                break
            node = child
        else:
            node[sys.intern(last)] = None
    return tree


def _project(data: dict[str, Any], tree: Tree) -> dict[str, Any]:
    """The parts of ``data`` that ``tree`` names, interned like :func:`_interned`.

    A kept name whose value is not an object is kept whole even when only fields inside it
    were asked for, so a rule sees the wrong type instead of a missing field.
    """
    out: dict[str, Any] = {}
    for key, below in tree.items():
        if key in data:
            value = data[key]
            if below is None or type(value) is not dict:
                out[key] = _interned(value)
            else:
                inner = _project(value, below)
                if inner:
                    out[key] = inner
    return out


def read_metadata(path: str, limit: int, judge: Judge) -> Metadata:
    """Read, parse and judge one metadata file, reading at most ``limit`` bytes of it."""
    name = os.path.basename(path)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return Metadata.failed("missing", f"{name} is missing")
    except OSError as exc:
        return Metadata.failed("unreadable", f"cannot read {name}: {exc.strerror}")
    return read_open_metadata(fd, name, limit, judge)[0]


def read_open_metadata(
    fd: int, name: str, limit: int, judge: Judge
) -> tuple[Metadata, os.stat_result | None]:
    """:func:`read_metadata` of a file already opened as ``fd`` (closed here), with the
    ``fstat`` it took (None if that failed): the scan keeps it as the file's stamp."""
    st = None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return Metadata.failed("unreadable", f"{name} is not a regular file"), st
        if st.st_size > limit:
            return Metadata.failed(
                "too_large",
                f"{name} is {_larger(st.st_size, limit)}, over the {human_size(limit)} limit",
            ), st
        raw = _read_upto(fd, st.st_size, limit)
    except OSError as exc:
        return Metadata.failed("unreadable", f"cannot read {name}: {exc.strerror}"), st
    finally:
        os.close(fd)
    if len(raw) > limit:
        return Metadata.failed("too_large", f"{name} is over the {human_size(limit)} limit"), st
    meta = parse_metadata(raw, st.st_size, st.st_mtime_ns)
    if not meta.ok:
        return meta, st
    numbers = _PARSER.numbers
    return judge(meta, finite=not numbers.non_finite, plain=numbers.plain), st


def _read_upto(fd: int, size: int, limit: int) -> bytes:
    """The file's bytes, at most ``limit + 1`` of them (one more than allowed says "too large").

    Asking for the size the file had, not for the limit, spares allocating a megabyte for every
    small file; a file that grew since then is read on until it ends or passes the limit.
    """
    chunks = [os.read(fd, min(size, limit) + 1)]
    got = len(chunks[0])
    while got > size and got <= limit:
        more = os.read(fd, limit + 1 - got)
        if not more:
            break
        chunks.append(more)
        got += len(more)
    return b"".join(chunks) if len(chunks) > 1 else chunks[0]


class Numbers:
    """What the JSON parser saw of a document's numbers, noted as it parses.

    Few documents hold a non-finite number (NaN, Infinity, a literal too large for a float) or
    a float with an integral value (which the fingerprint writes as an integer); for the rest,
    the walks that look for them are skipped. Exact, unlike guessing from the raw text.
    """

    __slots__ = ("integral", "non_finite")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget the last document (before parsing the next)."""
        self.non_finite = False
        self.integral = False

    @property
    def plain(self) -> bool:
        """Every number already has its canonical form (see ``fingerprint.canonical_json``)."""
        return not (self.non_finite or self.integral)

    def parse_float(self, text: str) -> float:
        """``json``'s float hook."""
        value = float(text)
        if value.is_integer():
            self.integral = True
        elif not math.isfinite(value):
            self.non_finite = True
        return value

    def parse_constant(self, text: str) -> float:
        """``json``'s hook for NaN, Infinity and -Infinity."""
        self.non_finite = True
        return float(text)


class _GivenTwice(ValueError):
    """A key given twice in one JSON object (the json module keeps the last silently)."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's pairs as a dict, refused when a key repeats: readers that keep the first
    one (or YAML's, which refuses) would see other parameters and another fingerprint. About
    1 us a file."""
    made = dict(pairs)
    if len(made) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _GivenTwice(f"key {display(key)!r} is given twice")
            seen.add(key)
    return made


# One decoder for every parse of this process (making one per file costs as much as parsing
# a small file); ``numbers`` describes the document it parsed last. One per thread: the scan
# reads metadata on several threads of a network filesystem, and a hook of one parse must not
# note the numbers of another.
class _Parser(threading.local):
    def __init__(self) -> None:
        self.numbers = Numbers()
        self.decoder = json.JSONDecoder(
            object_pairs_hook=_unique,
            parse_float=self.numbers.parse_float,
            parse_constant=self.numbers.parse_constant,
        )


_PARSER = _Parser()


MAX_DEPTH = 100  # SPEC section 8: deeper JSON or YAML is refused
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def out_of_bounds(doc: Any, max_alias_nodes: int | None = None) -> str | None:
    """Why a parsed document is past SPEC section 8's limits, or None: nested deeper than
    ``MAX_DEPTH``, a lone UTF-16 surrogate in a key or a string, or (YAML) aliases that expand
    past ``max_alias_nodes`` nodes.

    Nodes are counted as they would be expanded: a container met a second time is an alias,
    and once one has been met the walk stops past the limit (a plain document of any size is
    never refused for its size here).
    """
    seen: set[int] = set()
    aliased = False
    count = 0
    pending: list[tuple[Any, int]] = [(doc, 0)]
    while pending:
        value, depth = pending.pop()
        count += 1
        if aliased and max_alias_nodes is not None and count > max_alias_nodes:
            return f"YAML aliases expand past {max_alias_nodes:,} nodes"
        if isinstance(value, str):
            if not value.isascii():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    return "a lone UTF-16 surrogate in a string"
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth >= MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        if max_alias_nodes is not None:
            aliased = aliased or id(value) in seen
            seen.add(id(value))
        items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
        pending.extend((item, depth + 1) for item in items)
    return None


def decode_json(raw: bytes) -> Any:
    """The one way a metadata JSON document is decoded, by the scan and by ``fingerprint
    FILE`` alike: UTF-8 (a BOM allowed), UTF-16 or UTF-32 as JSON itself detects, then the
    limits of SPEC section 8. Raises ValueError (a one-line reason) for anything refused.

    The limits are looked for only where the text could break them (enough brackets for the
    depth, a non-ASCII character or a ``\\uD8..`` escape for a surrogate): the common
    document costs two string scans in C, not a walk.
    """
    try:
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    if text[:1] == "\ufeff":
        text = text[1:]
    try:
        data = _PARSER.decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    except RecursionError:
        raise ValueError("not JSON: nested too deeply") from None
    except _GivenTwice as exc:
        raise ValueError(f"refused: {exc}") from None
    except ValueError as exc:  # valid JSON Python will not read: an integer of 4300+ digits
        raise ValueError(f"unreadable JSON: {str(exc).split(';')[0]}") from None
    deep = text.count("{") + text.count("[") > MAX_DEPTH
    if deep or not text.isascii() or _ESCAPED_SURROGATE.search(text):
        problem = out_of_bounds(data)
        if problem:
            raise ValueError(f"refused: {problem}")
    return data


def parse_metadata(raw: bytes, size: int, mtime_ns: int) -> Metadata:
    """Parse metadata bytes with :func:`decode_json`; anything refused becomes an ``invalid``
    state. Afterwards ``_PARSER.numbers`` says what the document's numbers were."""
    _PARSER.numbers.reset()
    try:
        data = decode_json(raw)
    except ValueError as exc:
        return Metadata("invalid", error=str(exc), size=size, mtime_ns=mtime_ns)
    return Metadata("ok", data=data, size=size, mtime_ns=mtime_ns)


MAX_INPUT_BYTES = 16 * 1024 * 1024  # a sweep, a schema, a config: far past any real one


class Unreadable(Exception):
    """Why a file was not read, in one line."""


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of a regular file, at most ``limit``: a FIFO, a device or a folder is refused
    before anything is read (opening is non-blocking, so a FIFO never hangs the command).

    Raises :class:`Unreadable`.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket: said as the scan says it of metadata
            raise Unreadable("not a regular file") from exc
        raise Unreadable(f"cannot read: {exc.strerror or exc}") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Unreadable("not a regular file")
        if st.st_size > limit:
            raise Unreadable(f"over the {human_size(limit)} limit")
        raw = _read_upto(fd, st.st_size, limit)
    except OSError as exc:
        raise Unreadable(f"cannot read: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    if len(raw) > limit:
        raise Unreadable(f"over the {human_size(limit)} limit")
    return raw


@lru_cache(maxsize=4)
def load_schema(path: Path | None = None) -> dict[str, Any]:
    """The shipped schema, or a project's own (``[tool.batchcheck] metadata_schema``)."""
    try:
        if path is None:
            text = resources.files("batchcheck").joinpath(SCHEMA_RESOURCE).read_text("utf-8")
        else:
            # A regular file only: a FIFO would hang every command, /dev/zero fill the memory.
            text = read_regular(path, MAX_INPUT_BYTES).decode("utf-8")
        schema = json.loads(text)
    except (OSError, ValueError, Unreadable) as exc:
        raise UsageError(f"metadata schema {path or SCHEMA_RESOURCE}: cannot load: {exc}") from exc
    except RecursionError as exc:
        raise UsageError(f"metadata schema {path}: nested too deeply") from exc
    if not isinstance(schema, dict):
        raise UsageError(f"metadata schema {path}: not a JSON object")
    if path is None:
        return schema  # the shipped schema is valid (a test says so); skip importing jsonschema
    too_far = out_of_bounds(schema)
    if too_far:  # jsonschema walks a schema by recursion
        raise UsageError(f"metadata schema {path}: {too_far}")
    outside = _outside_refs(schema)
    if outside:
        raise UsageError(
            f"metadata schema {path}: $ref {outside!r} points outside the schema file "
            "(only '#...' references are followed: nothing is fetched or read elsewhere)"
        )
    from jsonschema import SchemaError, validators

    try:
        validators.validator_for(schema).check_schema(schema)
        # A $ref that leads back to itself before reaching any value loops on every document.
        next(validators.validator_for(schema)(schema).iter_errors({}), None)
    except SchemaError as exc:
        raise UsageError(f"metadata schema {path}: not a valid JSON Schema: {exc.message}") from exc
    except RecursionError as exc:
        raise UsageError(f"metadata schema {path}: a $ref leads back to itself") from exc
    return schema


def _outside_refs(schema: Any) -> str | None:
    """The first ``$ref`` (or ``$dynamicRef``) that is not a pointer into the schema itself."""
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                reference = key in ("$ref", "$dynamicRef", "$recursiveRef")
                if reference and isinstance(value, str) and not value.startswith("#"):
                    return value
                pending.append(value)
        elif isinstance(node, list):
            pending.extend(node)
    return None


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


@lru_cache(maxsize=4)
def _fast_validator(path: Path | None) -> Callable[[Any], bool] | None:
    """A compiled validator that only says valid or not; None when the schema is beyond it.

    jsonschema-rs (Rust) clears a document in about 2 us where fastjsonschema took 8 and
    jsonschema 110 (issue 12: a tenth of a cold check's CPU at 100k experiments). It only ever
    clears one: a document it finds invalid, or cannot take, is judged and worded by
    jsonschema, so every message stays jsonschema's.
    """
    import jsonschema_rs

    try:
        is_valid: Callable[[Any], bool] = jsonschema_rs.validator_for(load_schema(path)).is_valid
        return is_valid
    except Exception:  # any schema it cannot compile: jsonschema alone judges
        return None


def schema_violations(
    data: Any, schema_path: Path | None = None, *, finite: bool = False
) -> list[str]:
    """Every way ``data`` breaks the schema, each naming its field (``generation.top_p: missing``).

    NaN and infinities are checked here too: JSON Schema treats them as numbers. A compiled
    validator clears the (usual) valid document in microseconds; ``jsonschema`` then words the
    messages for the few that fail. ``finite``: the parser saw no non-finite number (see
    :class:`Numbers`), so the walk for them is skipped.
    """
    if not isinstance(data, dict):
        return [f"metadata is not a JSON object (it is {type(data).__name__})"]
    problems = [] if finite else list(_non_finite(data, ""))
    fast = _fast_validator(schema_path)
    if fast is not None and not problems:
        # A value it cannot take (a string with a lone surrogate) is judged by jsonschema too.
        with contextlib.suppress(Exception):
            if fast(data):
                return []
    try:
        errors = list(_validator(schema_path).iter_errors(data))
    except RecursionError:  # a $ref loop only some documents reach
        return [*problems, "metadata: the schema's $ref leads back to itself on this document"]
    for error in errors:
        where = dotted(error.absolute_path)
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


DEFAULT_JUDGE = Judge()


def number(value: Any) -> float | None:
    """A JSON number as a float; None for anything else (a bool is not a number here, nor an
    integer too large for a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return None
