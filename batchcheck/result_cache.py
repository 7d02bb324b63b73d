"""The check-result cache: the findings of the last full ``check`` of a store with the same
settings, used only when nothing a rule reads can have changed since.

It sits above the scan (only ``check`` uses it): it is held against the stamps the scan took
as it read (``stamps.Stamps``: every folder it listed, every experiment's signature), and
``scan.unchanged`` takes them again, beneath the root and in parallel, before it answers.
"""

from __future__ import annotations

import time
from pathlib import Path

from batchcheck.findings import CheckResult, Finding, Severity
from batchcheck.model import Store
from batchcheck.records import DAMAGED, FORMAT, digest, read_records, write_records
from batchcheck.scan import ScanOptions
from batchcheck.scan.cache import RACY_NS, cache_key
from batchcheck.scan.experiments import ReadOptions
from batchcheck.scan.unchanged import unchanged
from batchcheck.stamps import Stamps


class ResultCache:
    """The result of the last full check of this store with these settings.

    Used only when every stamp the scan took is unchanged (then nothing a rule reads can have
    changed); otherwise the check runs in full.
    """

    def __init__(self, directory: Path, root: Path, options: ReadOptions, settings: str) -> None:
        self.root = root
        self.path = directory / f"{cache_key(root, options)}-{digest(settings)}.check.marshal"
        self.started_ns = time.time_ns()

    def lookup(self, options: ScanOptions) -> CheckResult | None:
        """The cached result if the store is exactly as it was, else None (also when the file
        is missing or damaged: every use of its content is inside the ``try``)."""
        try:
            [data] = read_records(self.path)  # exactly one record, its checksum verified
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                return None
            stamps = Stamps(
                tuple((tuple(parts), seen) for parts, seen in data["tree"]),
                tuple((dataset, tuple(names.split("\0"))) for dataset, names in data["runs"]),
                tuple(data["digests"]),
                0,
            )
            if not unchanged(self.root, stamps, options):
                return None
            findings = tuple(
                Finding(Path(p), code, msg, Severity(sev), tuple(Path(r) for r in rel), line)
                for p, code, msg, sev, rel, line in data["findings"]
            )
            return CheckResult(findings, data["counts"])
        except DAMAGED:
            return None

    def save(self, store: Store, stamps: Stamps | None, result: CheckResult) -> None:
        """Remember the result, unless part of the store changed too recently to trust."""
        if stamps is None:
            return  # some experiment was not stamped (unreadable): always check in full
        if stamps.newest_ns >= self.started_ns - RACY_NS:
            return
        data = {
            "format": FORMAT,
            "tree": [(list(parts), seen) for parts, seen in stamps.tree],
            "runs": [(dataset, "\0".join(names)) for dataset, names in stamps.runs],
            "digests": list(stamps.digests),
            "findings": [
                (
                    str(f.path),
                    f.code,
                    f.message,
                    f.severity.value,
                    tuple(str(r) for r in f.related),
                    f.line,
                )
                for f in result.findings
            ],
            "counts": dict(result.counts),
        }
        write_records(self.path, [data])
