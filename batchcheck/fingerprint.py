"""The parameter fingerprint (SPEC section 3): MD5 of a canonical JSON form of the parameters.

Kept free of I/O and third-party imports so a generation pipeline can import it cheaply and
compute the value before it generates anything.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

FINGERPRINT_VERSION = 1
SUPPORTED_VERSIONS = frozenset({1})
DEFAULT_FIELDS = ("dataset", "generation", "validation")
SHORT = 12


class FingerprintError(ValueError):
    """The parameters cannot be fingerprinted (NaN, infinity, a value JSON has no form for)."""


class _Unhashable(Exception):
    """Raised deep in a value; the path to it is collected on the way out (cheaper than
    building a path string for every key of every document that hashes fine)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: list[str] = []


# Made once: building an encoder costs as much as encoding a document's parameters.
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
_AS_IS = frozenset({str, int, bool, type(None)})  # exact types: the common case in one lookup


def _canonical_value(value: Any) -> Any:
    if type(value) in _AS_IS or isinstance(value, (bool, str, int)) or value is None:
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Unhashable(f"{value!r} is not a finite number")
        # json writes other floats with repr(), which is the canonical form.
        return int(value) if value.is_integer() else value
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Unhashable(f"key {key!r} is not a string")
            if type(item) in _AS_IS:
                out[key] = item
                continue
            try:
                out[key] = _canonical_value(item)
            except _Unhashable as exc:
                exc.path.append(f".{key}")
                raise
        return out
    if isinstance(value, (list, tuple)):
        items = []
        for i, item in enumerate(value):
            try:
                items.append(_canonical_value(item))
            except _Unhashable as exc:
                exc.path.append(f"[{i}]")
                raise
        return items
    raise _Unhashable(f"{type(value).__name__} has no JSON form")


def canonical_json(
    params: Mapping[str, Any], fields: Iterable[str] = DEFAULT_FIELDS, *, plain: bool = False
) -> str:
    """The exact text that is hashed: chosen top-level keys, sorted, compact, UTF-8 as is.

    ``plain``: ``params`` was just parsed from JSON that held no float with an integral value
    and no non-finite number (``metadata`` knows this from its parser), so every value already
    has its canonical form and the walk that rewrites them is skipped.
    """
    picked = {key: params[key] for key in fields if key in params}
    try:
        canonical = picked if plain else _canonical_value(picked)
    except _Unhashable as exc:
        where = "".join(reversed(exc.path)).lstrip(".") or "value"
        raise FingerprintError(f"{where}: {exc.reason}") from None
    return _ENCODER.encode(canonical)


def fingerprint(
    params: Mapping[str, Any],
    fields: Iterable[str] = DEFAULT_FIELDS,
    version: object = FINGERPRINT_VERSION,
    *,
    plain: bool = False,
) -> str:
    """The 32-digit lowercase MD5 fingerprint of ``params`` (version 1 of the algorithm);
    ``plain`` as for :func:`canonical_json`."""
    if isinstance(version, float) and version.is_integer():
        version = int(version)  # "fingerprint_version": 1.0 is version 1, as check reads it
    if (
        isinstance(version, bool)
        or not isinstance(version, int)
        or version not in SUPPORTED_VERSIONS
    ):
        raise FingerprintError(f"fingerprint_version {version!r} is not supported")
    try:
        text = canonical_json(params, fields, plain=plain)
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        raise FingerprintError("a string holds a lone UTF-16 surrogate (no UTF-8 form)") from None
    except RecursionError:
        raise FingerprintError("the parameters are nested too deeply") from None
    return hashlib.md5(data, usedforsecurity=False).hexdigest()
