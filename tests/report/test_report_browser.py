"""The HTML report in a real headless Chromium (driven over the DevTools protocol by
:mod:`cdp`): it loads with no console error, its search box and heatmap cells filter the
experiment table, the dark scheme applies, and at 390 px every navigation link is inside the
viewport.

Skipped only when Chromium is missing outside CI; with ``CI`` set a missing browser fails, so
CI cannot pass this test silently (``.ci/run`` installs the Debian package ``chromium``).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cdp import Chromium
from conftest import EXAMPLE_ROOT, PROJECT, TEMP, Result, experiment, link, make_tree

Cli = Callable[..., Result]
ROWS = "document.querySelectorAll('#rows tr').length"
COUNT = "document.getElementById('count').textContent"
FIRST = "document.querySelector('#rows td.name').textContent"  # the first row's experiment
NAV = """JSON.stringify([...document.querySelectorAll('#nav a')].map(a => {
  const r = a.getBoundingClientRect();
  return [a.textContent, r.left, r.right, r.top, r.bottom];
}))"""


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (CI must run the browser test)")
        pytest.skip("chromium is not installed")
    return found


@pytest.fixture
def browser(chromium: str, tmp_path: Path) -> Iterator[Chromium]:
    driven = Chromium(chromium, tmp_path / "profile")
    try:
        yield driven
    finally:
        driven.close()


def search(browser: Chromium, text: str) -> None:
    browser.js(
        "(q => { q.value = " + repr(text) + "; q.dispatchEvent(new Event('input')); })"
        "(document.getElementById('q'))"
    )


def test_example_report_in_chromium(browser: Chromium, cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cli("--root", str(EXAMPLE_ROOT), "report", "--output", str(out)).code == 0
    seconds = browser.open((out / "index.html").as_uri())
    print(f"example index.html loaded in {seconds:.3f} s")
    assert browser.errors == []
    assert browser.js(ROWS) == 6
    assert browser.js(COUNT) == "6 of 6 experiments"
    search(browser, "temp05")
    assert browser.js(ROWS) == 1
    assert browser.js(FIRST) == "temp05_topp10_gpt4o"
    browser.js("document.getElementById('clear').click()")
    assert browser.js(ROWS) == 6
    # A click on Copa's temperature 0.7 x top_p 0.9 cell lists that configuration alone.
    browser.js(
        'document.querySelector(\'button.cell[data-ds="Copa"][data-xv="0.7"][data-yv="0.9"]\')'
        ".click()"
    )
    assert browser.js(ROWS) == 1
    assert browser.js(FIRST) == "temp07_topp09_gpt4o"
    assert browser.js(COUNT).startswith("1 of 6 experiments")
    # Sorting by temperature, twice: descending.
    browser.js("document.getElementById('clear').click()")
    browser.js("document.querySelector('th[data-k=\"3\"]').click()")
    browser.js("document.querySelector('th[data-k=\"3\"]').click()")
    temps = browser.js(
        "[...document.querySelectorAll('#rows tr td:nth-child(4)')].map(t => t.textContent)"
    )
    assert temps == sorted(temps, reverse=True)
    light = browser.js("getComputedStyle(document.body).backgroundColor")
    browser.dark()
    assert browser.js("getComputedStyle(document.body).backgroundColor") != light
    assert browser.js("matchMedia('(prefers-color-scheme: dark)').matches") is True
    browser.size(390, 844)
    browser.js("window.scrollTo(0, 0)")
    links: list[list[Any]] = __import__("json").loads(browser.js(NAV))
    assert len(links) == 9
    for name, left, right, top, bottom in links:
        assert left >= 0 and right <= 390, name
        assert top >= 0 and bottom <= 844, name
    assert browser.js("document.documentElement.scrollWidth") <= 390
    browser.screenshot(tmp_path / "phone.png")
    assert (tmp_path / "phone.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert browser.errors == []


def test_script_in_metadata_stays_text_in_chromium(
    browser: Chromium, cli: Cli, tmp_path: Path
) -> None:
    payload = "<script>document.title='pwned';document.body.innerHTML=''</script>"
    name = "<img src=x onerror=document.title='pwned'>"
    spec: dict[str, Any] = {}
    spec.update(experiment("Copa", name, TEMP, 0.7, 1.0, experiment_description=payload))
    spec.update(link(TEMP, "Copa", name))
    root = make_tree(tmp_path / "store", spec)
    out = tmp_path / "out"
    assert cli("--root", str(root), "report", "--output", str(out)).code == 0
    browser.open((out / "index.html").as_uri())
    assert browser.errors == []
    assert browser.js("document.title") != "pwned"
    assert browser.js(FIRST) == name
    assert browser.js("document.querySelectorAll('img').length") == 0


def click(browser: Chromium, selector: str) -> None:
    browser.js(f"document.querySelector({selector!r}).click()")


def test_heatmap_cells_on_other_parameters_filter_in_chromium(
    browser: Chromium, cli: Cli, tmp_path: Path
) -> None:
    # max_tokens x prompt_template vary, temperature does not: the heatmap is drawn on them.
    configs = [(1024, "b"), (128, "a"), (256, "a"), (256, "b"), (256, None), (256, None)]
    spec: dict[str, Any] = {}
    for i, (tokens, template) in enumerate(configs):
        generation: dict[str, Any] = {"model": "m", "temperature": 0.7, "max_tokens": tokens}
        if template:
            generation["prompt_template"] = template
        spec.update(experiment("Copa", f"e{i}", TEMP, 0.7, 1.0, generation=generation))
        spec.update(link(TEMP, "Copa", f"e{i}"))
    root = make_tree(tmp_path / "store", spec)
    out = tmp_path / "out"
    assert cli("--root", str(root), "report", "--format", "html", "--output", str(out)).code == 0
    browser.open((out / "index.html").as_uri())
    assert browser.errors == []
    assert browser.js(ROWS) == 6
    names = "[...document.querySelectorAll('#rows td.name')].map(t => t.textContent).join()"
    click(browser, 'button.cell[data-xk="k"][data-xv="256"][data-yk="a0"][data-yv="b"]')
    assert browser.js(names) == "e3"
    click(browser, 'button.cell[data-xv="256"][data-yv="(missing)"]')
    assert browser.js(names) == "e4,e5"
    assert browser.js(COUNT).startswith("2 of 6 experiments")
    click(browser, "#clear")
    # The parameter's column sorts numerically: 128 < 256 < 1024.
    click(browser, 'th[data-k="k"]')
    tokens = "[...document.querySelectorAll('#rows tr td:nth-child(6)')].map(t => t.textContent)"
    assert browser.js(tokens) == ["128", "256", "256", "256", "256", "1024"]
    assert browser.errors == []


def test_generated_10k_store_in_chromium(browser: Chromium, cli: Cli, tmp_path: Path) -> None:
    sys.path.insert(0, str(PROJECT / "benchmarks"))
    from generate import generate

    root = generate(tmp_path / "store", 10_000, 100, 500)
    out = tmp_path / "out"
    assert cli("--root", str(root), "--quiet", "report", "--output", str(out)).code == 0
    seconds = browser.open((out / "index.html").as_uri())
    print(f"10k index.html ({(out / 'index.html').stat().st_size} bytes) loaded in {seconds:.3f} s")
    assert browser.errors == []
    assert browser.js(COUNT) == "10000 of 10000 experiments"
    assert browser.js(ROWS) == 100  # one page of rows: the rest are data, not elements
    search(browser, "s000123")
    assert browser.js(ROWS) >= 1
    browser.js("document.getElementById('clear').click()")
    browser.js("document.querySelector('button.cell').click()")
    assert 0 < int(browser.js(COUNT).split()[0]) < 10_000
    assert browser.errors == []
