"""BC102 (error): a link that does not lead exactly to ``_shared/<its Dataset>/<experiment>/``.

A link in ``<batch>/<Dataset>/`` must point at an experiment folder of the same dataset in
``_shared``. This reports a link whose existing target is anything else: outside the store
(never followed, nothing behind it is read), another dataset, a folder deeper or shallower than
an experiment, a file, a path that only gets there through other links, and a link that loops.
A target the scan could not check because a folder on the way cannot be read is reported here
too ("cannot read ...").

Any symlink inside ``_shared`` (including ``_shared`` itself) is reported as well, at the
symlink: physical storage holds real folders, and batchcheck never follows such a link.
"""

from __future__ import annotations

from collections.abc import Iterator

from batchcheck.findings import Finding, Severity
from batchcheck.index import StoreIndex
from batchcheck.layout import SHARED
from batchcheck.model import LinkState, Store
from batchcheck.names import display

CODE = "BC102"
SEVERITY = Severity.ERROR
SUMMARY = "link leads elsewhere than an experiment of its dataset in _shared, or loops"
SCOPE = "any"

BAD = (LinkState.OUTSIDE, LinkState.MISPLACED, LinkState.LOOP, LinkState.UNREADABLE)


def check(store: Store, index: StoreIndex) -> Iterator[Finding]:
    """Links that exist but lead somewhere wrong, and every symlink met inside ``_shared``."""
    for link in store.links():
        if link.state in BAD:
            target = index.target_path(link)
            yield Finding(
                link.path,
                CODE,
                f"symlink -> {display(link.target)}: {display(link.detail)}",
                SEVERITY,
                (target,) if target else (),
            )
    for symlink in store.shared_symlinks:
        yield Finding(
            symlink.path,
            CODE,
            f"symlink inside {SHARED} -> {display(symlink.target)}: physical storage must be "
            "a real folder (never followed)",
            SEVERITY,
        )
