"""BC304 (error): the training data folder ``<experiment>/<Dataset>`` is missing or empty.

Training reads ``<batch>/<Dataset>/<experiment>/<Dataset>``, so every shared experiment needs a
non-empty folder named after its dataset (hidden files do not count). Also reported: that
entry is a file, a symlink (never followed) or cannot be read.

``--no-data`` skips this rule and does not look into the data folders at all: for CI clones
that hold the metadata but not the data.
"""

from __future__ import annotations

from collections.abc import Iterator

from batchcheck.findings import Finding, Severity
from batchcheck.index import StoreIndex
from batchcheck.model import DataState, Store
from batchcheck.names import display

CODE = "BC304"
SEVERITY = Severity.ERROR
SUMMARY = "training data folder (experiment/Dataset) missing or empty"
SCOPE = "any"
READS_DATA = True  # --no-data skips it (engine)

FINE = (DataState.OK, DataState.UNCHECKED)


def check(store: Store, index: StoreIndex) -> Iterator[Finding]:
    """Every experiment whose data folder was looked at and is not a non-empty folder."""
    for exp in store.experiments.values():
        if exp.data not in FINE:
            yield Finding(
                exp.path,
                CODE,
                f"training data folder {display(exp.dataset)}/ is {exp.data.value}",
                SEVERITY,
            )
