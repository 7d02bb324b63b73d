"""A file a command is given as its own input (a sweep, a metadata file for ``add``), read
strictly and within the limits of SPEC section 8.

JSON (by the ``.json`` suffix) is decoded exactly as metadata in the store is; YAML with a
safe loader that also refuses a key given twice. Refused as well: anything but a regular file,
a file over the size limit, a document nested deeper than ``metadata.MAX_DEPTH``, YAML aliases
that expand past ``MAX_ALIAS_NODES`` nodes, an integer of 4300+ digits and a lone UTF-16
surrogate. Every failure is one :class:`UsageError` line naming the file (exit 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from batchcheck.errors import UsageError
from batchcheck.metadata import (
    MAX_INPUT_BYTES,
    Unreadable,
    decode_json,
    out_of_bounds,
    read_regular,
)

MAX_ALIAS_NODES = 10_000


def _yaml_problem(exc: Exception) -> str:
    """One line: PyYAML's problem and its line (its full text quotes the document)."""
    import yaml

    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        mark = exc.problem_mark
        return exc.problem + (f" (line {mark.line + 1})" if mark is not None else "")
    if isinstance(exc, yaml.reader.ReaderError):
        return str(exc).splitlines()[0]
    return " ".join(str(exc).split(";")[0].split())


def strict_yaml_loader() -> Any:
    """A yaml SafeLoader that refuses a key given twice (PyYAML keeps the last one silently)."""
    import yaml

    class Loader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:  # a list or a mapping as a key: SafeLoader's own refusal
                    break
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {key!r} is given twice", key_node.start_mark
                    )
                seen.add(key)
            return super().construct_mapping(node, deep)

    return Loader


def _read_regular(path: Path, shown: str, limit: int) -> bytes:
    """:func:`read_regular`, a refusal as the one-line error of a command's input file."""
    try:
        return read_regular(path, limit)
    except Unreadable as exc:
        raise UsageError(f"{shown}: {exc}") from exc


def read_document(path: Path, shown: str, limit: int = MAX_INPUT_BYTES) -> Any:
    """The parsed document (at most ``limit`` bytes); every failure a one-line error.

    JSON is decoded exactly as metadata in the store is (:func:`metadata.decode_json`), so
    ``fingerprint FILE`` and ``check`` accept and refuse the same bytes; a key given twice is
    refused on top of that in YAML (a typo in a hand-written file must not change a
    fingerprint).
    """
    import yaml

    raw = _read_regular(path, shown, limit)
    if path.suffix.lower() == ".json":
        try:
            return decode_json(raw)
        except ValueError as exc:
            raise UsageError(f"{shown}: {exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{shown}: cannot read: not UTF-8 text") from exc
    try:
        doc = yaml.load(text, Loader=strict_yaml_loader())  # a SafeLoader subclass
    except RecursionError as exc:
        raise UsageError(f"{shown}: not valid YAML: nested too deeply") from exc
    except (ValueError, yaml.YAMLError) as exc:  # ValueError: also an integer of 4300+ digits
        raise UsageError(f"{shown}: not valid YAML: {_yaml_problem(exc)}") from exc
    problem = out_of_bounds(doc, MAX_ALIAS_NODES)
    if problem:
        raise UsageError(f"{shown}: refused: {problem}")
    return doc
