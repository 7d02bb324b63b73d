"""``--format github``: workflow commands that GitHub Actions shows as annotations on files.

Each line is ``::error file=...,line=...,title=BC101::message``. The runner splits a line at
the first ``::`` after the command's properties, properties at ``,`` and ``=``; so a message
escapes ``%``, ``\\r`` and ``\\n`` and a property value also ``:`` and ``,`` (the runner's
``ActionCommand`` escaping). ``file=`` holds the path as it is on disk, so that the
annotation lands on that very file; a path in a message is shown as text output shows it
(control characters escaped), since only people read it. A step shows ten errors and ten
warnings at most: errors come first, and more than ten findings close with a ``::notice``
holding the totals.
"""

from __future__ import annotations

from typing import TextIO

from batchcheck.findings import CheckResult
from batchcheck.formats.view import View, summary_line

# GitHub shows this many annotations of a kind per step.
SHOWN = 10


def escape_data(text: str) -> str:
    """A command's message as the runner reads it back."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value as the runner reads it back."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def write(result: CheckResult, out: TextIO, view: View) -> None:
    """``::error file=...,title=BC101::message`` per finding, then the summary line."""
    for f in result.findings:
        props = f"file={escape_property(view.raw_path(f.path))}"
        if f.line is not None:
            props += f",line={f.line}"
        props += f",title={escape_property(f.code)}"
        message = f.message
        if f.related:
            message += " (see " + ", ".join(view.path(p) for p in f.related) + ")"
        out.write(f"::{f.severity.value} {props}::{escape_data(message)}\n")
    line = summary_line(result.errors, result.warnings, result.counts)
    if len(result.findings) > SHOWN:
        out.write(
            f"::notice title=batchcheck::{escape_data(line)} (GitHub shows {SHOWN} of each)\n"
        )
    out.write(line + "\n")
