"""Counts per code (``--statistics``) and the Markdown job summary (``GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

from collections import Counter
from typing import Any, TextIO

from batchcheck.findings import CheckResult, Finding
from batchcheck.formats.data import dump_json
from batchcheck.formats.view import View, summary_line


def statistics(result: CheckResult) -> dict[str, int]:
    """``{code: count}``, most frequent first, then by code."""
    counted = Counter(f.code for f in result.findings)
    return dict(sorted(counted.items(), key=lambda item: (-item[1], item[0])))


def _severities(result: CheckResult) -> dict[str, str]:
    return {f.code: f.severity.value for f in result.findings}


def write_statistics_text(result: CheckResult, out: TextIO, view: View) -> None:
    """``count code severity`` per code, then the summary line."""
    severity = _severities(result)
    for code, count in statistics(result).items():
        out.write(f"{count:>7}  {code}  {severity[code]}\n")
    out.write(summary_line(result.errors, result.warnings, result.counts) + "\n")


def write_statistics_json(result: CheckResult, out: TextIO, view: View) -> None:
    """The usual JSON shape with ``summary.statistics``: ``{code: count}``."""
    data: dict[str, Any] = result.to_json(view.cwd)
    data["summary"]["statistics"] = statistics(result)
    dump_json(data, out)


STATISTICS = {"text": write_statistics_text, "json": write_statistics_json}


def _cell(text: str) -> str:
    """Text in a Markdown table cell: no line breaks, pipes and markup escaped."""
    out = " ".join(text.split())
    for ch in "\\`*_[]<>|#":
        out = out.replace(ch, "\\" + ch)
    return out


def _row(finding: Finding, view: View) -> str:
    where = view.path(finding.path) + (f":{finding.line}" if finding.line else "")
    return (
        f"| {finding.severity.value} | {finding.code} | {_cell(where)} | "
        f"{_cell(finding.message)[:500]} |\n"
    )


def markdown(result: CheckResult, view: View, limit: int) -> str:
    """A heading, the summary line, counts per code and the findings, in at most ``limit``
    UTF-8 bytes (the findings that do not fit are counted, not listed)."""
    head = [
        "## batchcheck\n\n",
        f"**{_cell(summary_line(result.errors, result.warnings, result.counts))}**\n\n",
    ]
    if result.findings:
        head.append("| code | findings |\n| --- | ---: |\n")
        head.extend(f"| {code} | {count} |\n" for code, count in statistics(result).items())
        head.append("\n| severity | code | where | message |\n| --- | --- | --- | --- |\n")
    text = "".join(head)
    size = len(text.encode("utf-8"))
    rows = []
    for shown, finding in enumerate(result.findings):
        row = _row(finding, view)
        size += len(row.encode("utf-8"))
        if size > limit - 200:
            rows.append(f"\n{len(result.findings) - shown} more findings not listed.\n")
            break
        rows.append(row)
    return text + "".join(rows) + "\n"
