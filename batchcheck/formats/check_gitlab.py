"""``--format gitlab``: GitLab Code Quality JSON (``artifacts: reports: codequality``).

One issue per finding: ``description``, ``check_name`` (the code), ``fingerprint`` (stable
across runs: md5 of code, path, line and message), ``severity`` (``major`` for an error,
``minor`` for a warning) and ``location.path`` / ``location.lines.begin`` (paths from the
repository's top; line 1 when a finding has none, as GitLab requires one).
"""

from __future__ import annotations

import hashlib
from typing import Any, TextIO

from batchcheck.findings import CheckResult, Finding, Severity
from batchcheck.formats.data import dump_json
from batchcheck.formats.view import View


def _issue(finding: Finding, view: View) -> dict[str, Any]:
    path = view.raw_path(finding.path)  # JSON: the very file, escaped by the JSON writer
    line = finding.line or 1
    message = finding.message
    if finding.related:
        message += " (see " + ", ".join(view.path(p) for p in finding.related) + ")"
    key = "\0".join((finding.code, path, str(line), finding.message))
    return {
        "description": f"{finding.code} {message}",
        "check_name": finding.code,
        "fingerprint": hashlib.md5(key.encode("utf-8", "surrogateescape")).hexdigest(),
        "severity": "major" if finding.severity is Severity.ERROR else "minor",
        "location": {"path": path, "lines": {"begin": line}},
    }


def write(result: CheckResult, out: TextIO, view: View) -> None:
    """A JSON array of Code Quality issues (``[]`` when nothing was found)."""
    dump_json([_issue(f, view) for f in result.findings], out)
