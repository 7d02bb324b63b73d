"""BC302 (error): the metadata breaks the schema.

The metadata is checked with the JSON Schema shipped in the package (SPEC section 2), or the
project's own (``[tool.batchcheck] metadata_schema``): it must be an object; ``created_at``
(ISO 8601), ``original_batch``, ``parameter_fingerprint`` (32 lowercase hex digits),
``generation.model``, ``generation.temperature``, ``generation.top_p``,
``generation.max_tokens`` and ``validation.model`` are required with their types; unknown keys
are allowed. NaN and infinities are violations, and so is a ``fingerprint_version`` this
version of batchcheck does not know (its fingerprint cannot be recomputed, so BC202 is skipped).

One finding per experiment lists every violation, each naming its field
(``generation.top_p: missing``).
"""

from __future__ import annotations

from collections.abc import Iterator

from batchcheck.findings import Finding, Severity
from batchcheck.index import StoreIndex
from batchcheck.model import Store
from batchcheck.names import display

CODE = "BC302"
SEVERITY = Severity.ERROR
SUMMARY = "metadata breaks the schema (missing field, wrong type, NaN, unknown version)"
SCOPE = "any"

LONGEST = 160  # a violation quotes the offending value, which may be huge


def _short(text: str) -> str:
    text = display(text)
    return text if len(text) <= LONGEST else text[: LONGEST - 3] + "..."


def check(store: Store, index: StoreIndex) -> Iterator[Finding]:
    """One finding listing all violations, per experiment that has any."""
    for key, problems in index.schema_problems.items():
        if problems:
            yield Finding(
                store.experiments[key].path,
                CODE,
                "metadata breaks the schema: " + "; ".join(_short(p) for p in problems),
                SEVERITY,
            )
