"""The HTML report in a real headless Chromium: the DOM it builds holds the tables.

Skipped only when Chromium is missing outside CI; with ``CI`` set a missing browser fails, so
CI cannot pass this test silently (``.ci/run`` installs the Debian package ``chromium``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE_ROOT, TEMP, Result, experiment, link, make_tree
from test_report import Page

Cli = Callable[..., Result]


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (CI must run the browser test)")
        pytest.skip("chromium is not installed")
    return found


def dump_dom(browser: str, page: Path, profile: Path) -> Page:
    """The DOM Chromium builds from ``page``, serialised by ``--dump-dom``."""
    proc = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "<html" in proc.stdout, proc.stderr[-2000:]
    return Page(proc.stdout)


def test_example_report_in_chromium(chromium: str, cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cli("--root", str(EXAMPLE_ROOT), "report", "--output", str(out)).code == 0
    dom = dump_dom(chromium, out / "index.html", tmp_path / "profile")
    links = [t for t in dom.tables if t[0][:2] == ["experiment", "reuse"]]
    assert len(links) == 4
    assert ["temp07_topp09_gpt4o", "reused from batch_20241228_pilot"] in [r[:2] for r in links[3]]
    grids = [t for t in dom.tables if t[0][0] == "temperature \\ top_p"]
    assert [g[0][1:] for g in grids] == [["1.0"], ["0.8", "0.9", "1.0"]]
    assert dom.table_with("physical experiment")[1][0] == "Copa/temp07_topp09_gpt4o"
    assert {"summary", "batches", "datasets", "reuse", "check"} <= dom.ids
    assert "exp-Copa-temp07_topp09_gpt4o" in dom.ids


def test_script_in_metadata_stays_text_in_chromium(chromium: str, cli: Cli, tmp_path: Path) -> None:
    payload = "<script>document.title='pwned';document.body.innerHTML=''</script>"
    spec: dict[str, Any] = {}
    spec.update(experiment("Copa", "e1", TEMP, 0.7, 1.0, experiment_description=payload))
    spec.update(link(TEMP, "Copa", "e1"))
    root = make_tree(tmp_path / "store", spec)
    out = tmp_path / "out"
    assert cli("--root", str(root), "report", "--output", str(out)).code == 0
    dom = dump_dom(chromium, out / "index.html", tmp_path / "profile")
    assert dom.scripts == 0
    assert payload in "".join(dom.text)
    assert payload in dom.table_with("linked by")[1][0]
