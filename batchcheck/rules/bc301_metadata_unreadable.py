"""BC301 (error): ``experiment_metadata.json`` missing, unreadable, too large or not JSON.

Without readable metadata nothing else about an experiment can be checked. Reported when the
file is missing, is not a regular file (a fifo, a folder, a symlink: never followed), cannot be
read, is not valid UTF-8 JSON, or is larger than ``max_metadata_bytes`` (default 1 MiB, set in
``[tool.batchcheck]``; such a file is never read whole).

Folders under ``_shared`` that cannot be read are reported here too, at the folder: an
experiment folder, a ``_shared/<Dataset>`` folder or ``_shared`` itself ("cannot read").
"""

from __future__ import annotations

from collections.abc import Iterator

from batchcheck.findings import Finding, Severity
from batchcheck.index import StoreIndex
from batchcheck.layout import METADATA_FILE
from batchcheck.model import Store
from batchcheck.names import display

CODE = "BC301"
SEVERITY = Severity.ERROR
SUMMARY = "experiment_metadata.json missing, unreadable, over the size limit, or not JSON"
SCOPE = "any"

FAILED = ("missing", "unreadable", "too_large", "invalid")


def check(store: Store, index: StoreIndex) -> Iterator[Finding]:
    """Every experiment whose metadata could not be read, and every unreadable shared folder."""
    for exp in store.experiments.values():
        meta = exp.metadata
        if meta.state not in FAILED:
            continue
        message = display(meta.error)
        if meta.state == "invalid":
            message = f"{METADATA_FILE}: {message}"
        yield Finding(exp.path, CODE, message, SEVERITY)
    for problem in store.problems:
        yield Finding(problem.path, CODE, display(problem.message), SEVERITY)
