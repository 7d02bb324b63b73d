"""Output formats. Formatters only format what commands computed, to the stream they are given.

``CHECK_FORMATS`` maps each ``--format`` name of ``check`` / ``check-configs`` to its writer;
its keys are the argparse choices, so a format lives in exactly one place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from batchcheck.findings import CheckResult
from batchcheck.formats import check_github, check_json, check_text
from batchcheck.formats.view import View

CheckWriter = Callable[[CheckResult, TextIO, View], None]

CHECK_FORMATS: dict[str, CheckWriter] = {
    "text": check_text.write,
    "json": check_json.write,
    "github": check_github.write,
}
