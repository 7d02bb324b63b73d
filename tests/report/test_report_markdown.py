"""The Markdown pages as GitHub renders them (markdown-it-py's GFM-like preset): no raw HTML
from the store gets through, and the summary (``index.md``, ``report --summary``) stays under
GitHub's 64 KB comment limit whatever the store holds."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import PROJECT, TEMP, Result, experiment, link, make_tree
from markdown_it import MarkdownIt

Cli = Callable[..., Result]
COMMENT_MAX = 64 * 1024  # GitHub's limit on a pull-request comment
HOSTILE_KEY = "x\n<img src=x onerror=alert(1)>"
HOSTILE = "<img src=x onerror=alert(1)> | `tick` *em* [l](javascript:alert(1)) &lt;"
# A stored fingerprint that would close a one-backtick code span and become an image.
HOSTILE_FINGERPRINT = "`![](//e.co)`|`` x"
# What the pages write as HTML themselves: anchors and line breaks in grid cells.
OURS = re.compile(r'<a id="[A-Za-z0-9._-]*">(</a>)?|</a>|<br>')
# Links the pages write: relative, to another page of the report or an anchor.
OUR_HREF = re.compile(r"(?![a-zA-Z][a-zA-Z0-9+.-]*:|//)[^\s]*")


def gfm() -> MarkdownIt:
    """GitHub's dialect: tables, strikethrough, raw HTML allowed (linkify needs another
    package and changes nothing here)."""
    return MarkdownIt("gfm-like", {"linkify": False})


def raw_html(text: str) -> list[str]:
    """The raw HTML, images and outside links a GFM renderer would make of ``text``, other
    than ours."""
    found = []
    for token in gfm().parse(text):
        for child in [token, *(token.children or [])]:
            if child.type in ("html_inline", "html_block") and not OURS.fullmatch(
                child.content.strip()
            ):
                found.append(child.content)
            elif child.type == "image" or (
                child.type == "link_open" and not OUR_HREF.fullmatch(str(child.attrs["href"]))
            ):
                found.append(f"{child.type} {child.attrs}")
    return found


def hostile_store(root: Path, batches: int = 3) -> Path:
    spec: dict[str, Any] = {}
    for i in range(batches):
        batch = f"batch_2025010{i % 9 + 1}_{HOSTILE[:20]}{i}"
        name = f"{HOSTILE[:30]}{i}"
        spec.update(
            experiment(
                "Copa",
                name,
                batch,
                0.1 * i,
                1.0,
                experiment_description=HOSTILE,
                generation={
                    "model": HOSTILE,
                    "temperature": 0.1 * i,
                    "top_p": 1.0,
                    HOSTILE_KEY: i,
                },
                parameter_fingerprint=HOSTILE_FINGERPRINT,
            )
        )
        spec.update(link(batch, "Copa", name))
        spec.update(link(TEMP, "Copa", name))
    return make_tree(root, spec)


def test_no_raw_html_from_metadata_in_any_markdown_page(cli: Cli, tmp_path: Path) -> None:
    root = hostile_store(tmp_path / "store")
    out = tmp_path / "out"
    assert cli("--root", str(root), "report", "--output", str(out), "--format", "md").code == 0
    pages = sorted(out.rglob("*.md"))
    assert len(pages) == 1 + 4 + 1
    for page in pages:
        text = page.read_text("utf-8")
        assert raw_html(text) == [], page
        rendered = gfm().render(text)
        assert "<img" not in rendered and 'href="javascript' not in rendered, page
        assert 'src="//e.co"' not in rendered, page
    # The key with a newline stays one row of the varying parameters' table.
    batch = (out / "batches" / f"{TEMP}.md").read_text("utf-8")
    rendered = gfm().render(batch)
    assert "x &lt;img src=x onerror=alert(1)&gt;" in rendered
    # The fingerprint is shown as code, its backticks included.
    assert "<code>`![](//e.co)</code>" in rendered


def test_summary_prints_index_md_alone_without_links_to_pages_it_does_not_write(
    cli: Cli, tmp_path: Path
) -> None:
    root = hostile_store(tmp_path / "store")
    result = cli("--root", str(root), "report", "--summary", "--output", str(tmp_path / "out"))
    assert result.code == 0, result.err
    assert not (tmp_path / "out").exists()
    assert cli("--root", str(root), "report", "--output", str(tmp_path / "out")).code == 0
    written = (tmp_path / "out" / "index.md").read_text("utf-8")
    # index.md links each batch and dataset to its page; the summary names them alone.
    assert re.search(r"\]\(batches/", written) and re.search(r"\]\(datasets/", written)
    assert "its own page beside this one" in written
    assert "its own page" not in result.out
    links = [
        child.attrs["href"]
        for token in gfm().parse(result.out)
        for child in token.children or []
        if child.type == "link_open"
    ]
    assert links == []
    # Otherwise the same page: rendered, with index.md's links taken out.
    stamp = re.compile(r"generated \S+ \S+ \S*")
    unlinked = re.sub(r'<a href="[^"]*">|</a>', "", gfm().render(stamp.sub("", written)))
    unlinked = unlinked.replace(" Each batch and dataset has its own page beside this one.", "")
    assert re.sub("</a>", "", gfm().render(stamp.sub("", result.out))) == unlinked
    assert raw_html(result.out) == []


def test_summary_stays_under_64_kb_on_a_large_hostile_store(cli: Cli, tmp_path: Path) -> None:
    # Everything the summary lists, many times over its bounds and with long hostile names:
    # 80 batches, 80 datasets with two models each, a finding per experiment.
    spec: dict[str, Any] = {}
    long = "n" * 60 + HOSTILE
    for i in range(80):
        batch = f"batch_20250101_{long}{i:03d}"
        dataset = f"D{i:02d}{long}"
        for j in range(4):
            name = f"{long}{j}"
            spec.update(
                experiment(
                    dataset,
                    name,
                    batch,
                    0.1 * j,
                    0.5 + 0.1 * (i % 5),
                    generation={"model": f"m{j % 2}{long}", "temperature": j, "top_p": i},
                    parameter_fingerprint="0" * 64,  # wrong: a finding each
                )
            )
            spec.update(link(batch, dataset, name))
    root = make_tree(tmp_path / "store", spec)
    result = cli("--root", str(root), "report", "--summary")
    assert result.code == 0, result.err
    size = len(result.out.encode("utf-8"))
    assert size < COMMENT_MAX, size
    assert "… and 50 more batches" in result.out
    assert "more dataset/model grids" in result.out
    assert raw_html(result.out) == []


@pytest.mark.skipif(not os.environ.get("BATCHCHECK_LONG"), reason="long: make test-long")
def test_summary_and_index_md_stay_under_64_kb_on_a_100k_store(cli: Cli, tmp_path: Path) -> None:
    # The benchmark's store of 100,000 experiments in 1,000 batches of 200 links.
    sys.path.insert(0, str(PROJECT / "benchmarks"))
    from generate import generate

    root = generate(tmp_path / "store", 100_000, 1000, 200)
    summary = cli("--root", str(root), "--quiet", "report", "--summary")
    assert summary.code == 0, summary.err
    assert len(summary.out.encode("utf-8")) < COMMENT_MAX
    assert raw_html(summary.out) == []
    out = tmp_path / "out"
    written = cli("--root", str(root), "--quiet", "report", "--format", "md", "--output", str(out))
    assert written.code == 0, written.err
    index = (out / "index.md").read_bytes()
    assert len(index) < COMMENT_MAX, len(index)
    assert len(list((out / "batches").iterdir())) == 1000  # the rest is on pages beside it
