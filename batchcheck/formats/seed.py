"""The seed's text conventions, shared by every text layout and the report: banners of 80
``=``, dataset rules of 80 ``-``, how a metadata value, a date and a key are shown."""

from __future__ import annotations

import difflib
import json
import re
from typing import Any, TextIO

from batchcheck.fingerprint import SHORT
from batchcheck.formats.view import View, plural
from batchcheck.lookups.common import MISSING
from batchcheck.names import display

RULE = "=" * 80
DASH = "-" * 80
# The seed's labels for parameter keys; other keys get "Max tokens"-style labels.
LABELS = {"top_p": "Top_p"}
ISO_DATE = re.compile(r"^\d{4}-\d\d-\d\dT")


def value(item: Any) -> str:
    """A metadata value as the seed prints it: text as is, numbers as Python shows them."""
    if item is MISSING:
        return "(missing)"
    if isinstance(item, str):
        # Every control character escaped but the newline: a multi-line value is laid out as
        # a block by ``field_lines``, each line escaped again there.
        return "\n".join(display(line) for line in item.split("\n"))
    if isinstance(item, bool) or item is None or isinstance(item, (list, dict)):
        return json.dumps(item, ensure_ascii=False)
    return str(item)


def multi_line(item: Any) -> bool:
    """A text value of more than one line (a prompt), shown as an indented block."""
    return isinstance(item, str) and "\n" in item


def field_lines(name: str, item: Any, indent: str) -> list[str]:
    """``name: value``; a multi-line text as ``name: |`` and its lines indented below, each
    line escaped (a control character never reaches the terminal raw)."""
    if not multi_line(item):
        return [f"{indent}{name}: {value(item)}"]
    return [f"{indent}{name}: |", *(f"{indent}  {display(line)}" for line in item.split("\n"))]


def pair_lines(labels: tuple[str, str], items: tuple[Any, Any], indent: str) -> list[str]:
    """Two values of one parameter: each under its label, or, when both are text and one has
    several lines, a unified diff from the first to the second (only what changed, in context)."""
    first, second = items
    if not (isinstance(first, str) and isinstance(second, str)) or not (
        multi_line(first) or multi_line(second)
    ):
        return [
            line
            for name, item in zip(labels, items, strict=True)
            for line in field_lines(name, item, indent)
        ]
    diff = list(difflib.unified_diff(first.split("\n"), second.split("\n"), *labels, lineterm=""))
    # After the two file lines, a line is a hunk header (@@) or one of ' ', '-', '+' and text.
    body = (line if line[0] == "@" else line[0] + display(line[1:]) for line in diff[2:])
    return [f"{indent}{line}" for line in (*diff[:2], *body)]


def created(item: Any) -> str:
    """``2024-12-29 10:30:00`` for ``2024-12-29T10:30:00``, as the seed shows dates."""
    text = value(item)
    return text.replace("T", " ", 1) if ISO_DATE.match(text) else text


def label(key: str) -> str:
    """``max_tokens`` -> ``Max tokens``, ``top_p`` -> ``Top_p``."""
    return LABELS.get(key, key.replace("_", " ").capitalize())


def header(out: TextIO, *lines: str) -> None:
    """The seed's banner: a rule of 80 ``=``, the lines, another rule."""
    out.write("\n".join((RULE, *lines, RULE)) + "\n")


def dataset_header(out: TextIO, view: View, name: str, count: int) -> None:
    """``📊 Copa (3 experiments)`` and a rule of 80 ``-``."""
    out.write(f"\n{view.symbols.dataset} {display(name)} ({plural(count, 'experiment')})\n")
    out.write(DASH + "\n")


def short(fingerprint: str) -> str:
    """A fingerprint as shown: its first ``SHORT`` digits."""
    return fingerprint[:SHORT]
