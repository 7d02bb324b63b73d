"""batchcheck: list, resolve, compare, check and report experiment stores (Batch Scheme 3++)."""

from __future__ import annotations

from batchcheck.fingerprint import canonical_json, fingerprint

__all__ = ["canonical_json", "fingerprint"]
__version__ = "0.1.0"
