"""BC202 (error): the stored fingerprint differs from the one recomputed from the parameters.

``parameter_fingerprint`` must be the fingerprint of the experiment's own ``dataset``,
``generation`` and ``validation`` (or the project's ``fingerprint_fields``), computed with the
``fingerprint_version`` the file names (version 1 when it names none). A difference means the
parameters were edited after generation, or the pipeline hashed something else; reuse decisions
based on the stored value are then wrong. The message shows both values in full.

Skipped when there is nothing to compare: no stored string, an unknown ``fingerprint_version``
or parameters that cannot be hashed (NaN); BC302 reports those. Case is not judged here (BC302
wants lowercase).
"""

from __future__ import annotations

from collections.abc import Iterator

from batchcheck.findings import Finding, Severity
from batchcheck.index import StoreIndex
from batchcheck.model import Store
from batchcheck.names import quoted

CODE = "BC202"
SEVERITY = Severity.ERROR
SUMMARY = "stored fingerprint differs from the one recomputed from the parameters"
SCOPE = "any"
FIELDS = ("parameter_fingerprint",)  # metadata it reads


def check(store: Store, index: StoreIndex) -> Iterator[Finding]:
    """Every experiment whose stored fingerprint is not its recomputed one."""
    for exp in store.experiments.values():
        stored = exp.metadata.fields.get("parameter_fingerprint")
        recomputed = index.recomputed(exp)
        if not isinstance(stored, str) or recomputed is None:
            continue
        if stored.lower() != recomputed:
            yield Finding(
                exp.path,
                CODE,
                f"stored fingerprint {quoted(stored)} differs from the one recomputed from the "
                f"parameters: {recomputed}",
                SEVERITY,
            )
