"""A file a command is given as its own input (a sweep, a metadata file for ``add``), read
strictly and within the limits of SPEC section 8.

JSON (by the ``.json`` suffix) or YAML, safe loaders only. A key given twice is refused (both
parsers would keep the last one silently, and a typo must not change a fingerprint), and so is
a document nested deeper than ``MAX_DEPTH``, YAML aliases that expand past
``MAX_ALIAS_NODES`` nodes, an integer of 4300+ digits and a lone UTF-16 surrogate. Every
failure is one :class:`UsageError` line naming the file (exit 2).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from batchcheck.errors import UsageError
from batchcheck.metadata import human_size

MAX_DEPTH = 100
MAX_ALIAS_NODES = 10_000


def strict_yaml_loader() -> Any:
    """A yaml SafeLoader that refuses a key given twice (PyYAML keeps the last one silently)."""
    import yaml

    class Loader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {key!r} is given twice", key_node.start_mark
                    )
                seen.add(key)
            return super().construct_mapping(node, deep)

    return Loader


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"key {key!r} is given twice")
        out[key] = value
    return out


def _bounded(doc: Any) -> str | None:
    """Why ``doc`` is past a limit (depth, alias expansion, a lone surrogate), or None.

    Counts nodes as they would be expanded: a container met a second time is an alias, and
    once one has been met the walk stops past ``MAX_ALIAS_NODES``.
    """
    seen: set[int] = set()
    aliased = False
    count = 0
    pending: list[tuple[Any, int]] = [(doc, 0)]
    while pending:
        value, depth = pending.pop()
        count += 1
        if aliased and count > MAX_ALIAS_NODES:
            return f"YAML aliases expand past {MAX_ALIAS_NODES:,} nodes"
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return "a lone UTF-16 surrogate in a string"
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth >= MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        if id(value) in seen:
            aliased = True
        seen.add(id(value))
        items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
        pending.extend((item, depth + 1) for item in items)
    return None


def read_document(path: Path, shown: str, limit: int | None = None) -> Any:
    """The parsed document (``limit``: most bytes allowed); every failure a one-line error."""
    import yaml

    try:
        with path.open("rb") as handle:
            raw = handle.read() if limit is None else handle.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"{shown}: cannot read: {exc.strerror or exc}") from exc
    if limit is not None and len(raw) > limit:
        raise UsageError(f"{shown}: over the {human_size(limit)} limit")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{shown}: cannot read: not UTF-8 text") from exc
    kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
    try:
        if kind == "JSON":
            doc = json.loads(text, object_pairs_hook=_unique_pairs)
        else:
            doc = yaml.load(text, Loader=strict_yaml_loader())  # a SafeLoader subclass
    except RecursionError as exc:
        raise UsageError(f"{shown}: not valid {kind}: nested too deeply") from exc
    except (ValueError, yaml.YAMLError) as exc:  # ValueError: also an integer of 4300+ digits
        first = " ".join(str(exc).split(";")[0].split())
        raise UsageError(f"{shown}: not valid {kind}: {first}") from exc
    problem = _bounded(doc)
    if problem:
        raise UsageError(f"{shown}: refused: {problem}")
    return doc
