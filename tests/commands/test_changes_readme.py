"""The README's walk through ``mv``, ``gc`` and ``check --fix`` on ``make demo-store``: each
``$ batchcheck`` block is what the command prints, run in order on a fresh demo store."""

from __future__ import annotations

import re
import runpy
import shlex
from pathlib import Path

from conftest import PROJECT, README, Cli

SHOWN_DEMO = "/home/you/batchcheck/build/demo"  # the absolute paths the README shows


def test_readme_walkthrough_is_real(cli: Cli, tmp_path: Path) -> None:
    text = README.read_text("utf-8")
    section = text[text.index("## Changing the store") :]
    section = section[: section.index("\n## ", 1)]
    blocks = re.findall(r"```console\n\$ batchcheck ([^\n]+)\n(.*?)```", section, re.S)
    assert len(blocks) == 7
    demo = tmp_path / "build" / "demo"
    runpy.run_path(str(PROJECT / "examples" / "demo_store.py"))["make_demo"](demo)
    for command, shown in blocks:
        result = cli(*shlex.split(command), cwd=demo)
        assert (result.out + result.err).replace(str(demo), SHOWN_DEMO) == shown, command
