"""A command's own input file (a sweep, ``add --metadata``) read within SPEC section 8's limits:
each refusal is one usage error naming the file, never a hang, a crash or a silent choice."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Cli

from batchcheck.documents import read_document
from batchcheck.errors import UsageError

BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("s.yaml", "a: 1\na: 2\n", "s.yaml: not valid YAML: key 'a' is given twice"),
        ("s.yaml", "a: " + "[" * 101 + "]" * 101, "s.yaml: refused: nested deeper than 100"),
        ("s.json", "[" * 5000 + "]" * 5000, "s.json: not JSON: nested too deeply"),
        ("s.json", "[" * 101 + "]" * 101, "s.json: refused: nested deeper than 100"),
        ("s.yaml", BOMB, "s.yaml: refused: YAML aliases expand past 10,000 nodes"),
        ("s.json", '{"a": "\\ud800"}', "s.json: refused: a lone UTF-16 surrogate"),
        ("s.yaml", "a: " + "9" * 5000, "s.yaml: not valid YAML: Exceeds the limit (4300 digits)"),
        ("s.yaml", b"a: \xff", "s.yaml: cannot read: not UTF-8 text"),
        ("s.yaml", "? [1, 2]\n: x\n", "s.yaml: not valid YAML: found unhashable key (line 1)"),
        (
            "s.yaml",
            "a: 1\n? {b: 1}\n: 2\n",
            "s.yaml: not valid YAML: found unhashable key (line 2)",
        ),
        ("s.yaml", 'a: "\u0080"\n', "s.yaml: not valid YAML: unacceptable character #x0080"),
    ],
)
def test_refused(tmp_path: Path, name: str, content: str | bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(UsageError) as caught:
        read_document(path, name)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_accepted_a_bom_a_few_aliases_and_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b'\xef\xbb\xbf{"a": [1, 2]}')
    assert read_document(path, "s.json") == {"a": [1, 2]}
    path = tmp_path / "s.yaml"
    path.write_text("base: &b {model: gpt-4o}\nother: *b\n")
    assert read_document(path, "s.yaml") == {
        "base": {"model": "gpt-4o"},
        "other": {"model": "gpt-4o"},
    }
    with pytest.raises(UsageError, match=r"s\.yaml: over the 10 bytes limit"):
        read_document(path, "s.yaml", limit=10)
    with pytest.raises(UsageError, match="nothing: cannot read: No such file"):
        read_document(tmp_path / "nothing", "nothing")


def test_a_sweep_file_is_read_within_the_limits(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "Data_v2" / "synthetic").mkdir(parents=True)
    (tmp_path / "sweep.yaml").write_text(BOMB)
    result = cli("plan", "sweep.yaml", "--batch", "batch_20250106_x")
    assert result.code == 2
    assert result.err == (
        "batchcheck: error: sweep.yaml: refused: YAML aliases expand past 10,000 nodes\n"
    )
