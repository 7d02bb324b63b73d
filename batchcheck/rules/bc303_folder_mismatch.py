"""BC303 (error): ``dataset`` or ``experiment_name`` disagrees with the folders.

Both keys are optional, but when present they must equal the folder names of
``_shared/<dataset>/<experiment_name>/``: a mismatch means a folder was renamed or copied
without its metadata being updated. Each disagreeing key is one finding. A value that is not
a string is a schema matter (BC302).
"""

from __future__ import annotations

from collections.abc import Iterator

from batchcheck.findings import Finding, Severity
from batchcheck.index import StoreIndex
from batchcheck.model import Store
from batchcheck.names import quoted

CODE = "BC303"
SEVERITY = Severity.ERROR
SUMMARY = "dataset / experiment_name disagree with the folders"
SCOPE = "any"
FIELDS = (
    "dataset",
    "experiment_name",
)  # the metadata fields it reads (a full check keeps only these)


def check(store: Store, index: StoreIndex) -> Iterator[Finding]:
    """Every present ``dataset`` / ``experiment_name`` that is not its folder's name."""
    for exp in store.experiments.values():
        fields = exp.metadata.fields
        for key, folder, what in (
            ("dataset", exp.dataset, "dataset folder"),
            ("experiment_name", exp.name, "experiment folder"),
        ):
            value = fields.get(key)
            if isinstance(value, str) and value != folder:
                yield Finding(
                    exp.path,
                    CODE,
                    f"{key} is {quoted(value)} but the {what} is {quoted(folder)}",
                    SEVERITY,
                )
