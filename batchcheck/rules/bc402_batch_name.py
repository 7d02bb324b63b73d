"""BC402 (warning): a batch folder not named ``batch_YYYYMMDD_<purpose>``, or an empty batch.

Batches sort by date and say what they were for: ``batch_20241229_temperature``. The date must
be a real calendar date and the purpose letters, digits, ``_`` or ``-``. An empty batch (no
link, no other entry) is reported too: it was created and never filled, or everything in it was
removed. The path is the batch folder.

This is the store's layout (SPEC section 1), not the experiment naming convention: it stays
on with ``naming_convention = false``; ignore BC402 to silence it.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator

from batchcheck.findings import Finding, Severity
from batchcheck.index import StoreIndex
from batchcheck.model import Batch, Store
from batchcheck.names import quoted

CODE = "BC402"
SEVERITY = Severity.WARNING
SUMMARY = "batch folder name not batch_YYYYMMDD_purpose, or an empty batch"
SCOPE = "any"

PATTERN = re.compile(r"batch_([0-9]{4})([0-9]{2})([0-9]{2})_([\w-]+)")


def name_problem(name: str) -> str | None:
    """Why a batch name breaks ``batch_YYYYMMDD_<purpose>``, or None when it does not."""
    match = PATTERN.fullmatch(name)
    if match is None:
        return (
            f"batch name {quoted(name)} is not batch_YYYYMMDD_<purpose> "
            "(purpose: letters, digits, '_', '-')"
        )
    year, month, day = (int(part) for part in match.groups()[:3])
    try:
        datetime.date(year, month, day)
    except ValueError:
        return f"batch name {quoted(name)}: {year:04d}{month:02d}{day:02d} is not a real date"
    return None


def _empty(batch: Batch) -> bool:
    return not (any(batch.datasets.values()) or batch.strays or batch.problems)


def check(store: Store, index: StoreIndex) -> Iterator[Finding]:
    """Every scanned batch with a bad name, and every empty one."""
    for batch in store.batches.values():
        problem = name_problem(batch.name)
        if problem:
            yield Finding(batch.path, CODE, problem, SEVERITY)
        if _empty(batch):
            yield Finding(batch.path, CODE, "empty batch: it links no experiment", SEVERITY)
