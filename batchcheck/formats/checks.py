"""The registry of ``check``'s output formats, apart from the package so that a command that
prints no check result does not import the rule engine through it."""

from __future__ import annotations

from batchcheck.formats import Formatter, check_github, check_gitlab, check_junit, check_text
from batchcheck.formats.data import write_json

CHECK_FORMATS: dict[str, Formatter] = {
    "text": check_text.write,
    "json": write_json,
    "github": check_github.write,
    "gitlab": check_gitlab.write,
    "junit": check_junit.write,
}
