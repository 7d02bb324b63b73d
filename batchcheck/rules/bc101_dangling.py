"""BC101 (error): a dangling symlink in a batch.

A link in ``<batch>/<Dataset>/`` whose target does not exist: training code that reads the
batch path fails. Usually an experiment was renamed, moved or deleted under ``_shared``, or
never stored. A dangling link gets BC101 only, whatever else its target text says (another
dataset, a deeper path): fix the target first. An absolute target (BC103) or a name that differs
from the experiment it names (BC104) are still reported on their own.

The finding's path is the link; the related path is where its target text points, when that
lies inside the store.
"""

from __future__ import annotations

from collections.abc import Iterator

from batchcheck.findings import Finding, Severity
from batchcheck.index import StoreIndex
from batchcheck.model import LinkState, Store
from batchcheck.names import display

CODE = "BC101"
SEVERITY = Severity.ERROR
SUMMARY = "dangling symlink in a batch (target missing)"
SCOPE = "any"


def check(store: Store, index: StoreIndex) -> Iterator[Finding]:
    """Every batch link whose target does not exist."""
    for link in store.links():
        if link.state is LinkState.DANGLING:
            target = index.target_path(link)
            yield Finding(
                link.path,
                CODE,
                f"dangling symlink -> {display(link.target)}: the target does not exist",
                SEVERITY,
                (target,) if target else (),
            )
