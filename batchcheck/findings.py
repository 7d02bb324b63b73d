"""Findings and how a run of rules turns into a result: severity, select/ignore, exit code.

Selection and severity are decided here, once; rules only yield findings at their default
severity and formatters only format what comes out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any

from batchcheck.names import shown_path


class Severity(str, Enum):
    """How much a finding matters; warnings fail only under ``--strict``."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Finding:
    """One thing wrong with the store or a config, at ``path`` (absolute)."""

    path: Path
    code: str
    message: str
    severity: Severity = Severity.ERROR
    related: tuple[Path, ...] = ()
    line: int | None = None


@dataclass(frozen=True)
class Selection:
    """Which codes to report (``--select`` / ``--ignore``: codes or prefixes like ``BC1``)."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def wants(self, code: str) -> bool:
        """A code is kept when some select entry (or none given) matches and no ignore does.

        The longer matching prefix wins, so ``--select BC1 --ignore BC103`` keeps BC101.
        """
        chosen = max((len(p) for p in self.select if code.startswith(p)), default=-1)
        if self.select and chosen < 0:
            return False
        dropped = max((len(p) for p in self.ignore if code.startswith(p)), default=-1)
        return dropped < 0 or chosen > dropped


@dataclass(frozen=True)
class CheckResult:
    """The sorted findings of one run, with what was looked at (for the summary line)."""

    findings: tuple[Finding, ...]
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        """How many findings are errors."""
        return sum(f.severity is Severity.ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        """How many findings are warnings."""
        return sum(f.severity is Severity.WARNING for f in self.findings)

    def exit_code(self, strict: bool = False) -> int:
        """1 when an error was found (or a warning under ``strict``), else 0."""
        return 1 if self.errors or (strict and self.warnings) else 0

    def to_json(self, cwd: Path) -> dict[str, Any]:
        """``{"findings": [{"code", "severity", "path", "message", "related", "line"?}],
        "summary": {"errors", "warnings", ...counts}}``, paths shown from ``cwd``."""
        findings: list[dict[str, Any]] = []
        for f in self.findings:
            item: dict[str, Any] = {
                "code": f.code,
                "severity": f.severity.value,
                "path": shown_path(f.path, cwd),
                "message": f.message,
                "related": [shown_path(p, cwd) for p in f.related],
            }
            if f.line is not None:
                item["line"] = f.line
            findings.append(item)
        summary = {"errors": self.errors, "warnings": self.warnings, **self.counts}
        return {"findings": findings, "summary": summary}


def settle(
    findings: Iterable[Finding],
    selection: Selection,
    severity: Mapping[str, str],
    counts: Mapping[str, int] | None = None,
) -> CheckResult:
    """Drop unselected codes, stamp configured severities, sort once."""
    kept = []
    for finding in findings:
        if not selection.wants(finding.code):
            continue
        configured = severity.get(finding.code)
        if configured is not None and configured != finding.severity.value:
            finding = replace(finding, severity=Severity(configured))
        kept.append(finding)
    return CheckResult(tuple(sorted(set(kept), key=_place)), dict(counts or {}))


def _place(f: Finding) -> tuple[Any, ...]:
    """By file, then line (a config's findings read top to bottom), then code and message."""
    return (f.path, f.line or 0, f.code, f.message, f.severity, f.related)
