"""``--format junit``: JUnit XML, which GitLab, Jenkins and most CI services show as tests.

One test suite ``batchcheck``; each finding is a failing test case named by its code and path
(a warning too: CI services have no warning state, and its ``type`` says ``warning``); with
no finding, one passing case, so the report is never empty.
"""

from __future__ import annotations

import re
from typing import TextIO
from xml.etree import ElementTree as ET

from batchcheck.findings import CheckResult
from batchcheck.formats.view import View, summary_line

# Characters XML 1.0 cannot hold at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def write(result: CheckResult, out: TextIO, view: View) -> None:
    """``<testsuites><testsuite name="batchcheck" tests= failures=>...``."""
    suite = ET.Element(
        "testsuite",
        name="batchcheck",
        tests=str(max(len(result.findings), 1)),
        failures=str(len(result.findings)),
        errors="0",
    )
    for f in result.findings:
        where = view.path(f.path) + (f":{f.line}" if f.line is not None else "")
        case = ET.SubElement(
            suite, "testcase", classname=_clean(view.path(f.path)), name=_clean(f"{f.code} {where}")
        )
        message = f.message
        if f.related:
            message += " (see " + ", ".join(view.path(p) for p in f.related) + ")"
        failure = ET.SubElement(
            case, "failure", message=_clean(message), type=f"{f.code} {f.severity.value}"
        )
        failure.text = _clean(f"{f.severity.value} {f.code} {where}: {message}")
    if not result.findings:
        ET.SubElement(suite, "testcase", classname="batchcheck", name="check")
    suite.set("hostname", "batchcheck")
    root = ET.Element("testsuites")
    root.append(suite)
    ET.SubElement(suite, "system-out").text = _clean(
        summary_line(result.errors, result.warnings, result.counts)
    )
    out.write('<?xml version="1.0" encoding="utf-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")
