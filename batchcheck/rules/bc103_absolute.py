"""BC103 (warning): an absolute symlink in a batch.

An absolute target (``/data/store/_shared/Copa/x``) breaks as soon as the store is moved,
copied or mounted elsewhere. Judged on its own, whatever else is wrong with the link. When the
target lies inside the store, the message names the relative target to use instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from batchcheck.findings import Finding, Severity
from batchcheck.index import StoreIndex
from batchcheck.model import Store
from batchcheck.names import display

CODE = "BC103"
SEVERITY = Severity.WARNING
SUMMARY = "absolute symlink (breaks when the store moves)"
SCOPE = "any"


def check(store: Store, index: StoreIndex) -> Iterator[Finding]:
    """Every batch link whose target text is an absolute path."""
    for link in store.links():
        if not link.absolute:
            continue
        target = index.target_path(link)
        message = f"absolute symlink -> {display(link.target)} breaks when the store moves"
        if target is not None:
            relative = os.path.relpath(target, link.path.parent)
            message += f"; use the relative target {display(relative)}/"
        yield Finding(link.path, CODE, message, SEVERITY, (target,) if target else ())
