"""One report of a store, end to end: scan it once, check it while other processes measure
its folders, and build the views (what ``batchcheck report`` renders)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from batchcheck.config import Settings
from batchcheck.engine import metadata_fields, run_check
from batchcheck.findings import Selection
from batchcheck.index import StoreIndex
from batchcheck.report.build import METADATA_FIELDS, build
from batchcheck.report.since import changes, read_revision
from batchcheck.report.sizes import measuring
from batchcheck.report.views import Report
from batchcheck.rules import RULES
from batchcheck.scan import ScanOptions, scan

if TYPE_CHECKING:
    from batchcheck.progress import Progress


def report_fields(settings: Settings) -> frozenset[str]:
    """The metadata the rules and the pages read: a large store's documents are never all
    held whole."""
    return metadata_fields() | METADATA_FIELDS | frozenset(settings.fingerprint_fields)


def store_report(
    settings: Settings,
    options: ScanOptions,
    shown_root: str,
    workers: int,
    progress: Progress,
    rev: str | None = None,
) -> Report:
    """The report of the whole store (``options`` must keep :func:`report_fields` and ask for
    sizes); ``shown_root`` is the root as the pages name it; ``rev``, a git revision to show
    what changed since."""
    before = None
    if rev is not None:
        # Read first: a revision git does not know is a usage error before any work.
        before = read_revision(settings, options, rev)
    store = scan(settings.root, options, progress)
    selection = Selection(settings.select, settings.ignore)
    index = StoreIndex(store, settings)
    rules = sum(selection.wants(rule.CODE) for rule in RULES)
    # Other processes measure the experiment folders while this one runs check.
    with measuring(store, workers) as sizes:
        result = run_check(store, settings, selection, index=index)
        since = None if before is None else partial(changes, before, rev=str(rev))
        return build(store, index, result, rules, shown_root, sizes, since)
