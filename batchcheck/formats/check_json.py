"""``--format json``: ``{"findings": [...], "summary": {...}}``, the shape the README documents."""

from __future__ import annotations

import json
from typing import Any, TextIO

from batchcheck.findings import CheckResult
from batchcheck.formats.view import View


def write(result: CheckResult, out: TextIO, view: View) -> None:
    """One JSON document: every finding, then the counts."""
    findings: list[dict[str, Any]] = []
    for f in result.findings:
        item: dict[str, Any] = {
            "code": f.code,
            "severity": f.severity.value,
            "path": view.path(f.path),
            "message": f.message,
            "related": [view.path(p) for p in f.related],
        }
        if f.line is not None:
            item["line"] = f.line
        findings.append(item)
    summary = {"errors": result.errors, "warnings": result.warnings, **result.counts}
    json.dump({"findings": findings, "summary": summary}, out, indent=2, ensure_ascii=False)
    out.write("\n")
