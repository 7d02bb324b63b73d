"""``--format github``: workflow commands that GitHub Actions shows as annotations on files."""

from __future__ import annotations

from typing import TextIO

from batchcheck.findings import CheckResult
from batchcheck.formats.view import View, summary_line


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def write(result: CheckResult, out: TextIO, view: View) -> None:
    """``::error file=...,title=BC101::message`` per finding, then the summary line."""
    for f in result.findings:
        props = f"file={_prop(view.path(f.path))}"
        if f.line is not None:
            props += f",line={f.line}"
        props += f",title={_prop(f.code)}"
        message = f.message
        if f.related:
            message += " (see " + ", ".join(view.path(p) for p in f.related) + ")"
        out.write(f"::{f.severity.value} {props}::{_data(message)}\n")
    out.write(summary_line(result.errors, result.warnings, result.counts) + "\n")
