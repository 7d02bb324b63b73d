"""BC105 (warning): something in a batch that is not a dataset folder of symlinks.

A batch holds dataset folders, and those hold only symlinks into ``_shared``. Reported here:

- a real folder where a link belongs: copied data, which wastes space and drifts from
  ``_shared``;
- a small plain file holding a path at the dataset level (where a dataset folder belongs): a
  symlink checked out by git with ``core.symlinks=false``; the message shows the path it holds
  (the same file where a link belongs is BC106, a destroyed symlink);
- any other file, fifo or device where a link belongs, and a file or symlink at the dataset
  level (where only dataset folders belong);
- a ``batch_*`` entry that is not a folder;
- a batch or dataset folder that cannot be read ("cannot read"): nothing in it was checked.
"""

from __future__ import annotations

from collections.abc import Iterator

from batchcheck.findings import Finding, Severity
from batchcheck.index import StoreIndex
from batchcheck.model import Batch, Store, Stray
from batchcheck.names import display, quoted

CODE = "BC105"
SEVERITY = Severity.WARNING
SUMMARY = (
    "not a symlink in a dataset folder: copied folder, file, fifo; a file at the dataset level"
)
SCOPE = "any"


def _message(batch: Batch, stray: Stray) -> str:
    if stray.path == batch.path:
        return f"a {stray.kind} named like a batch: a batch must be a folder (not followed)"
    if stray.pointer is not None:
        return (
            f"a file holding the path {quoted(stray.pointer)}: a symlink checked out with "
            "core.symlinks=false (enable symlinks and check out again)"
        )
    if stray.dataset is None:
        return f"a {stray.kind} at the dataset level: a batch holds only dataset folders"
    if stray.kind == "folder":
        return "a real folder where a symlink belongs (copied data?): link into _shared instead"
    return f"a {stray.kind} where a symlink belongs"


def check(store: Store, index: StoreIndex) -> Iterator[Finding]:
    """Strays and unreadable folders of every scanned batch."""
    for batch in store.batches.values():
        for stray in batch.strays:
            if not stray.destroyed_link:  # BC106
                yield Finding(stray.path, CODE, _message(batch, stray), SEVERITY)
        for problem in batch.problems:
            yield Finding(problem.path, CODE, display(problem.message), SEVERITY)
