"""BC104 (warning): a link whose name differs from the experiment its target names.

``batch_x/Copa/temp07_topp10_gpt4o -> ../../_shared/Copa/temp05_topp10_gpt4o/`` shows one
configuration under the name of another: whoever trains on the batch path reads the wrong name.
Judged from the target text on its own, also for a link that is otherwise broken.
"""

from __future__ import annotations

from collections.abc import Iterator

from batchcheck.findings import Finding, Severity
from batchcheck.index import StoreIndex
from batchcheck.layout import SHARED
from batchcheck.model import Store
from batchcheck.names import quoted

CODE = "BC104"
SEVERITY = Severity.WARNING
SUMMARY = "link name differs from its target experiment's name"
SCOPE = "any"


def check(store: Store, index: StoreIndex) -> Iterator[Finding]:
    """Every link whose target text names an experiment of another name."""
    for link in store.links():
        if link.key is None or link.key[1] == link.name:
            continue
        dataset, name = link.key
        yield Finding(
            link.path,
            CODE,
            f"link name {quoted(link.name)} differs from its target experiment {quoted(name)}",
            SEVERITY,
            (store.root / SHARED / dataset / name,),
        )
