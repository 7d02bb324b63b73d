"""``--format text``: findings grouped by batch/dataset (or config file), then a summary line."""

from __future__ import annotations

from itertools import groupby
from typing import TextIO

from batchcheck.engine import RuleTable
from batchcheck.findings import CheckResult, Finding, Severity
from batchcheck.formats.view import View, summary_line


def _line(finding: Finding, rest: str, view: View) -> str:
    marker = view.symbols.error if finding.severity is Severity.ERROR else view.symbols.warn
    where = rest
    if finding.line is not None:
        where = f"{rest}:{finding.line}" if rest else f"line {finding.line}"
    text = (
        f"  {marker} {finding.code} {where}: {finding.message}"
        if where
        else f"  {marker} {finding.code} {finding.message}"
    )
    if finding.related:
        text += " (see " + ", ".join(view.path(p) for p in finding.related) + ")"
    return text


def write(result: CheckResult, out: TextIO, view: View) -> None:
    """Write the findings grouped by where they are, and the summary line."""
    keyed = sorted(((view.group(f.path), f) for f in result.findings), key=lambda kf: kf[0])
    for group, items in groupby(keyed, key=lambda kf: kf[0][0]):
        out.write(f"{group}\n")
        for (_, rest), finding in items:
            out.write(_line(finding, rest, view) + "\n")
        out.write("\n")
    mark = view.symbols.ok if not result.findings else ""
    line = summary_line(result.errors, result.warnings, result.counts)
    out.write(f"{mark} {line}\n" if mark else f"{line}\n")


def write_rules(table: RuleTable, out: TextIO, view: View) -> None:
    """``check --list-rules``: code, severity and summary of every rule."""
    out.write(f"{'code':<7} {'severity':<9} summary\n")
    for rule in table.rules:
        out.write(f"{rule.code:<7} {rule.severity:<9} {rule.summary}\n")
