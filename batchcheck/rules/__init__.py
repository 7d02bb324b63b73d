"""The rule registry. Each rule is one module: CODE, SEVERITY, SUMMARY, SCOPE and ``check``.

The module docstring is the rule's documentation (``batchcheck check --list-rules`` prints its
first line). ``SCOPE`` says which part of the store a rule needs complete: ``"batches"`` (every
batch was scanned), ``"shared"`` (all of ``_shared``) or ``"any"`` (judges what it is given).
"""

from __future__ import annotations

from types import ModuleType

RULES: tuple[ModuleType, ...] = ()


def by_code() -> dict[str, ModuleType]:
    """Rule modules keyed by their code."""
    return {rule.CODE: rule for rule in RULES}
