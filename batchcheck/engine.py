"""Run the rules over one scanned store and settle their findings into a result."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from itertools import chain
from pathlib import Path

from batchcheck.config import Settings
from batchcheck.findings import CheckResult, Finding, Selection, settle
from batchcheck.index import StoreIndex
from batchcheck.model import Store
from batchcheck.rules import RULES


def metadata_fields() -> frozenset[str]:
    """The metadata fields any rule reads (``FIELDS``); a full check keeps only these."""
    return frozenset(field for rule in RULES for field in getattr(rule, "FIELDS", ()))


def _applicable(store: Store, scope: str) -> bool:
    if scope == "shared":
        return store.shared_complete
    if scope == "batches":
        return store.batches_complete
    if scope == "all":
        return store.shared_complete and store.batches_complete
    return True


def run_check(
    store: Store,
    settings: Settings,
    selection: Selection | None = None,
    no_data: bool = False,
    index: StoreIndex | None = None,
) -> CheckResult:
    """Every selected rule whose scope the store covers; findings settled once.

    ``index`` lets a caller that needs the same derived facts (the report) share them.
    """
    selection = selection or Selection(settings.select, settings.ignore)
    index = index or StoreIndex(store, settings)
    runs: list[Iterator[Finding]] = [
        rule.check(store, index)
        for rule in RULES
        if selection.wants(rule.CODE)
        and _applicable(store, rule.SCOPE)
        and not (no_data and getattr(rule, "READS_DATA", False))
    ]
    counts = {
        "batches": len(store.batches),
        "experiments": len(store.experiments),
        "links": index.link_count,
    }
    return settle(chain.from_iterable(runs), selection, settings.severity, counts)


@dataclass(frozen=True)
class RuleInfo:
    """One rule as ``check --list-rules`` shows it, at the project's severity."""

    code: str
    severity: str
    summary: str
    description: str


@dataclass(frozen=True)
class RuleTable:
    """Every rule of the registry, in order."""

    rules: tuple[RuleInfo, ...]

    def to_json(self, cwd: Path) -> list[dict[str, str]]:
        """``[{"code", "severity", "summary", "description"}]``."""
        return [asdict(rule) for rule in self.rules]


def rule_table(settings: Settings) -> RuleTable:
    """The registry with the project's severities."""
    severities = settings.severity
    return RuleTable(
        tuple(
            RuleInfo(
                rule.CODE,
                severities.get(rule.CODE, rule.SEVERITY.value),
                rule.SUMMARY,
                (rule.__doc__ or "").strip(),
            )
            for rule in RULES
        )
    )
