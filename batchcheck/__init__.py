"""batchcheck: list, resolve, compare, check and report experiment stores (Batch Scheme 3++).

The public API (``docs/api.md``): ``open_store()`` and the :class:`Store` it returns, the frozen
results its methods return, ``fingerprint`` and ``canonical_json``, and the two errors. The API
module is imported on first use: a command-line run never pays for building its dataclasses,
and ``import batchcheck`` stays cheap (no YAML, JSON Schema or deepdiff). Every other module of
the package is private and may change.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from batchcheck.fingerprint import canonical_json, fingerprint

if TYPE_CHECKING:
    from batchcheck.api import (
        AddResult,
        Batch,
        CheckResult,
        Configuration,
        DataPath,
        Experiment,
        Finding,
        LinkResult,
        NearMiss,
        NotFound,
        Plan,
        Resolution,
        Store,
        UsageError,
        open_store,
    )

__all__ = [
    "AddResult",
    "Batch",
    "CheckResult",
    "Configuration",
    "DataPath",
    "Experiment",
    "Finding",
    "LinkResult",
    "NearMiss",
    "NotFound",
    "Plan",
    "Resolution",
    "Store",
    "UsageError",
    "canonical_json",
    "fingerprint",
    "open_store",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """A name of the API (``batchcheck.api``), imported when first asked for."""
    if name not in __all__:
        raise AttributeError(f"module 'batchcheck' has no attribute {name!r}")
    value = getattr(import_module("batchcheck.api"), name)
    globals()[name] = value
    return value
