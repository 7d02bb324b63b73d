"""BC401 (warning): a shared experiment that no batch references (an orphan).

Physical storage nobody can reach through a batch: either a batch was deleted (keep the data
and link it from a batch, or delete it on purpose) or a link was renamed away from it. A link
counts whatever its state, as long as its target text names the experiment. Needs the whole
store to have been scanned.
"""

from __future__ import annotations

from collections.abc import Iterator

from batchcheck.findings import Finding, Severity
from batchcheck.index import StoreIndex
from batchcheck.model import Store

CODE = "BC401"
SEVERITY = Severity.WARNING
SUMMARY = "shared experiment that no batch references (orphan)"
SCOPE = "all"


def check(store: Store, index: StoreIndex) -> Iterator[Finding]:
    """Every shared experiment that no batch link names."""
    for key, exp in store.experiments.items():
        if key not in index.links_to:
            yield Finding(exp.path, CODE, "no batch links this experiment (orphan)", SEVERITY)
