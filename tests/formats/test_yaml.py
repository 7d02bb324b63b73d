"""The YAML writer: libyaml's C emitter where installed, byte for byte what PyYAML writes."""

from __future__ import annotations

import io
import random
from typing import Any

import pytest
import yaml

from batchcheck.formats.data import dump_yaml, yaml_text

PIECES = [
    "plain",
    "yes",
    "1.0",
    "",
    "- x",
    "a: b",
    "#c",
    "null",
    "~",
    "'q'",
    '"dq"',
    "\t",
    " lead",
    "trail ",
    "multi\nline\ntext",
    "end\n",
    "ünïcödé",
    "emoji 😀",
    "\x85",
    "\u2028",
    "\u00a0",
    "\x1b[31m",
    "\r",
    "\x00",
    "\\U0001",
    "x" * 130,
    " ".join(["word"] * 40),
    "2024-01-01",
    "!tag",
    "&a",
    "*b",
    "|",
    ">",
    "%p",
    "@a",
    "`b",
    ",",
    "[",
    "{",
    "?",
    ":",
]


def python_yaml(data: Any, width: int | None) -> str:
    text: str = yaml.dump(
        data, Dumper=yaml.SafeDumper, allow_unicode=True, sort_keys=False, width=width
    )
    return text


def corpus(count: int) -> list[dict[str, Any]]:
    """Mappings of text pieced together at random (fixed seed), nested as listings are."""
    rnd = random.Random(15)
    docs = []
    for _ in range(count):
        text = "".join(rnd.choice(PIECES) for _ in range(rnd.randint(0, 6)))
        docs.append({"k": text, "l": [text[:30], {"m": text[::-1], "n": 1.0, "b": True}]})
    return docs


@pytest.mark.parametrize("width", [None, 100])
def test_the_same_bytes_as_pythons_emitter(width: int | None) -> None:
    for doc in corpus(1500):
        assert yaml_text(doc, width) == python_yaml(doc, width), doc


def test_a_lone_surrogate_falls_back_to_pythons_emitter() -> None:
    doc = {"k": "\ud800"}
    assert yaml_text(doc) == python_yaml(doc, None)


def test_plain_listings_go_through_libyaml() -> None:
    """A listing of names and paths holds nothing libyaml writes differently: the fast path."""
    if not getattr(yaml, "__with_libyaml__", False):
        pytest.skip("PyYAML without libyaml here")
    doc = {"data_paths": [{"dataset": "Copa", "path": f"a/b/e{i}/Copa"} for i in range(50)]}
    fast = yaml.dump(doc, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False)
    assert yaml_text(doc) == fast
    out = io.StringIO()
    dump_yaml(doc, out)
    assert out.getvalue() == fast == python_yaml(doc, None)
