"""``--help`` tells a user what the tool does, every command shows an example, and the
completion scripts generated from the parser complete in a real bash."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import Cli

from batchcheck.commands import COMMANDS


def test_help_says_what_the_tool_does_and_every_command_has_an_example() -> None:
    from batchcheck.cli import build_parser

    parser = build_parser()
    text = parser.format_help()
    assert "Batch Scheme 3++" in text and "_shared/<Dataset>/<experiment>/" in text
    assert text.count("\n  batchcheck ") >= 3  # examples
    assert "The ``batchcheck`` command line" not in text  # no internal docstring
    sub = next(a for a in parser._actions if hasattr(a, "choices") and a.choices)
    for name in COMMANDS:
        helped = sub.choices[name].format_help()  # type: ignore[index]
        assert "\nexample:\n  batchcheck " in helped, name


def test_bash_completion_completes_commands_options_and_formats(cli: Cli) -> None:
    if shutil.which("bash") is None:
        pytest.skip("no bash")
    script = cli("completion", "bash").out

    def complete(*words: str) -> list[str]:
        line = " ".join(("batchcheck", *words))
        probe = (
            f"{script}\nCOMP_WORDS=(batchcheck {' '.join(repr(w) for w in words)}); "
            f"COMP_CWORD={len(words)}; COMP_LINE={line!r}; _batchcheck; "
            'printf "%s\\n" "${COMPREPLY[@]}"'
        )
        done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True)
        return done.stdout.split()

    assert "check-configs" in complete("check")
    assert "check" in complete("check")
    assert complete("check", "--form") == ["--format"]
    assert complete("check", "--format", "") == [
        "auto",
        "text",
        "json",
        "github",
        "gitlab",
        "junit",
    ]
    assert "--exit-zero" in complete("check", "--ex")
    assert "--exit-zero" in complete("--root", "store", "check", "--ex")  # a value is no command


def test_zsh_completion_is_generated(cli: Cli) -> None:
    script = cli("completion", "zsh").out
    assert script.startswith("#compdef batchcheck\n")
    assert "'check:check the store" in script
    assert "--format[output format" in script
    if shutil.which("zsh"):
        subprocess.run(["zsh", "-n"], input=script, text=True, check=True)
