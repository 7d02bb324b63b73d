"""BC305 (warning): ``original_batch`` names no batch, or a batch that does not link it.

The batch that generated an experiment should still show it: listings mark an experiment as
newly generated in its original batch and as reused everywhere else. Reported when the batch
``original_batch`` names does not exist (deleted, renamed, or a typo; the seed's own example
names a deleted ``batch_20241228_pilot``), or exists but none of its links names the experiment
(an absolute link counts, and so does a link that is broken in another way: BC1xx say what is
wrong with it). Needs every batch to have been scanned.
"""

from __future__ import annotations

from collections.abc import Iterator

from batchcheck.findings import Finding, Severity
from batchcheck.index import StoreIndex
from batchcheck.model import Store
from batchcheck.names import quoted

CODE = "BC305"
SEVERITY = Severity.WARNING
SUMMARY = "original_batch names no batch, or a batch that does not link the experiment"
SCOPE = "batches"
FIELDS = ("original_batch",)  # metadata it reads


def check(store: Store, index: StoreIndex) -> Iterator[Finding]:
    """Every experiment whose original batch is gone or does not link it."""
    for exp in store.experiments.values():
        origin = exp.metadata.fields.get("original_batch")
        if not isinstance(origin, str):
            continue  # missing or not a string: BC302
        batch = store.batches.get(origin)
        if batch is None:
            yield Finding(
                exp.path,
                CODE,
                f"original_batch {quoted(origin)} names no batch in the store",
                SEVERITY,
            )
        elif not any(link.batch == origin for link in index.links_to.get(exp.key, ())):
            yield Finding(
                exp.path,
                CODE,
                f"original_batch {quoted(origin)} does not link this experiment",
                SEVERITY,
                (batch.path,),
            )
