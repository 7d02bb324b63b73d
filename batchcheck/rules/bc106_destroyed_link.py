"""BC106 (error): a destroyed symlink, a small file holding a link's target text.

``git clone -c core.symlinks=false`` (the default on Windows), some archivers and copies that do
not keep symlinks write each link as a plain file whose content is its target
(``../../_shared/Copa/temp07_topp10_gpt4o/``). Every reader of the batch path then finds a file
instead of the data, so the store is broken for all of them and the gate fails. Reported for a
file of at most 1 KiB, one line holding a ``/``, in a batch dataset folder (where a link
belongs); the message shows the path it holds. ``batchcheck check --fix`` restores the link
when that path leads to an experiment of the dataset. The same file at the dataset level is
BC105.
"""

from __future__ import annotations

from collections.abc import Iterator

from batchcheck.findings import Finding, Severity
from batchcheck.index import StoreIndex
from batchcheck.layout import SHARED
from batchcheck.model import Store
from batchcheck.names import quoted

CODE = "BC106"
SEVERITY = Severity.ERROR
SUMMARY = "destroyed symlink: a file holding a link target (core.symlinks=false checkout)"
SCOPE = "any"


def check(store: Store, index: StoreIndex) -> Iterator[Finding]:
    """Every file in a batch dataset folder whose content is a link target text."""
    for batch in store.batches.values():
        for stray in batch.strays:
            if not stray.destroyed_link or stray.pointer is None:
                continue
            key = index.pointed(stray)
            related = (store.root.joinpath(SHARED, *key),) if key else ()
            yield Finding(
                stray.path,
                CODE,
                f"a destroyed symlink: a file holding the path {quoted(stray.pointer)} where a "
                "link belongs ('batchcheck check --fix' restores it)",
                SEVERITY,
                related,
            )
