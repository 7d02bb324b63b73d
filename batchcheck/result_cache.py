"""The check-result cache: the findings of the last full ``check`` of a store with the same
settings, used only when nothing a rule reads can have changed since.

It sits above the scan (only ``check`` uses it): it is held against the folder stamps of the
tree and the experiments' signatures that the scan summed up (``stamps.Stamps``).
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from batchcheck.findings import CheckResult, Finding, Severity
from batchcheck.layout import SHARED
from batchcheck.model import Store
from batchcheck.records import DAMAGED, FORMAT, digest, read_records, write_records
from batchcheck.scan.cache import RACY_NS, cache_key
from batchcheck.scan.experiments import ReadOptions
from batchcheck.scan.listing import is_real_dir
from batchcheck.stamps import Stamps, all_unchanged, stamp


def _tree(store: Store) -> list[str]:
    """The folders and files whose stamps change when anything a check looks at changes.

    A folder's mtime moves when an entry is added, removed or renamed in it; a changed link is
    a removed and re-added entry. Experiments carry their own signatures.
    """
    root = str(store.root)
    shared = os.path.join(root, SHARED)
    paths = [root, shared]
    # Every dataset folder, also one with no experiment yet (its first one moves only its mtime).
    if is_real_dir(shared):
        with contextlib.suppress(OSError), os.scandir(shared) as entries:
            paths.extend(entry.path for entry in entries)
    for batch in store.batches.values():
        paths.append(str(batch.path))
        paths.extend(os.path.join(batch.path, ds) for ds in batch.datasets)
        paths.extend(str(stray.path) for stray in batch.strays)
    paths.extend(str(problem.path) for problem in store.problems)
    return sorted(set(paths))


class ResultCache:
    """The result of the last full check of this store with these settings.

    Used only when every folder stamp of the tree and every experiment signature is unchanged
    (then nothing a rule reads can have changed); otherwise the check runs in full.
    """

    def __init__(self, directory: Path, root: Path, options: ReadOptions, settings: str) -> None:
        self.root = root
        self.path = directory / f"{cache_key(root, options)}-{digest(settings)}.check.marshal"
        self.started_ns = time.time_ns()

    def lookup(self, workers: int) -> CheckResult | None:
        """The cached result if the store is exactly as it was, else None (also when the file
        is missing or damaged: every use of its content is inside the ``try``)."""
        try:
            [data] = read_records(self.path)  # exactly one record, its checksum verified
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                return None
            if any(stamp(path) != seen for path, seen in data["tree"]):
                return None
            folders = data["folders"].split("\0") if data["folders"] else []
            if not all_unchanged(folders, data["digests"], workers):
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
        limit = self.started_ns - RACY_NS
        tree = [(path, stamp(path)) for path in _tree(store)]
        if stamps is None:
            return  # some experiment was not stamped (unreadable): always check in full
        newest = max((max(s[0], s[1]) for _, s in tree if s is not None), default=0)
        if max(newest, stamps.newest_ns) >= limit:
            return
        data = {
            "format": FORMAT,
            "tree": tree,
            "folders": "\0".join(stamps.folders),
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
