"""BC201 (error): two or more shared experiments with the same parameters.

The recomputed fingerprint (SPEC section 3) is equal for every experiment of the group: the
same configuration was generated twice, and the second copy should have been a link to the
first. Reported on each experiment of the group, naming all the others (related paths; past
50, the first 50 and how many more). Needs all of ``_shared`` (it is skipped when only part of
the store was scanned). Experiments whose fingerprint cannot be recomputed (unknown
``fingerprint_version``, NaN) take no part.
"""

from __future__ import annotations

from collections.abc import Iterator

from batchcheck.findings import Finding, Severity
from batchcheck.fingerprint import SHORT
from batchcheck.index import StoreIndex
from batchcheck.model import Store
from batchcheck.names import display

CODE = "BC201"
SEVERITY = Severity.ERROR
SUMMARY = "two or more shared experiments with the same recomputed fingerprint"
SCOPE = "shared"

# A group is named in full up to this size; a larger one (a pipeline that ignored the
# fingerprint thousands of times) would make every finding as long as the group.
MAX_NAMED = 50


def check(store: Store, index: StoreIndex) -> Iterator[Finding]:
    """One finding per experiment of every duplicate group."""
    for value, keys in index.duplicates.items():
        for key in keys:
            others = [other for other in keys if other != key][:MAX_NAMED]
            names = ", ".join(display(f"{d}/{n}") for d, n in others)
            if len(keys) - 1 > len(others):
                names += f" and {len(keys) - 1 - len(others)} more"
            yield Finding(
                store.experiments[key].path,
                CODE,
                f"same parameters (fingerprint {value[:SHORT]}) as {names}: duplicate "
                "generation; link to one copy instead",
                SEVERITY,
                tuple(store.experiments[other].path for other in others),
            )
