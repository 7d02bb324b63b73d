"""``batchcheck report``: the pages parsed back (Markdown tables, HTML via html.parser)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, cast

import pytest
from conftest import (
    EXAMPLE_ROOT,
    PROJECT,
    TEMP,
    TOPP,
    Result,
    experiment,
    link,
    make_tree,
    snapshot,
)

from batchcheck.errors import UsageError
from batchcheck.report import navigation
from batchcheck.report.build import GRID_CELL_MAX
from batchcheck.report.navigation import Links, SiteMap, slug
from batchcheck.report.render import md, write
from batchcheck.report.values import show_value, varying_parameters
from batchcheck.report.views import Ref, Target
from batchcheck.scan.experiments import ReadOptions, read_experiment, tree_size

Cli = Callable[..., Result]

# -- parsing the pages back ---------------------------------------------------------------------


class Page(HTMLParser):
    """Tables (rows of cell texts), ids, hrefs, script elements and the visible text of a page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.ids: set[str] = set()
        self.attrs: dict[str, dict[str, str | None]] = {}  # each element's attributes, by id
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.scripts = 0
        self.text: list[str] = []
        self._cell: list[str] | None = None
        self._stack: list[list[list[str]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
            self.attrs[str(found["id"])] = found
        if tag == "a" and found.get("href"):
            self.hrefs.append(str(found["href"]))
        if found.get("src"):
            self.srcs.append(str(found["src"]))
        if tag == "link":
            self.srcs.append(str(found.get("href")))
        if tag == "script":
            self.scripts += 1
        if tag == "table":
            self._stack.append([])
        elif tag == "tr" and self._stack:
            self._stack[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._stack:
            self._stack[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table" and self._stack:
            self.tables.append(self._stack.pop())

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def table_with(self, header: str) -> list[list[str]]:
        """The first table whose header row holds ``header``."""
        return next(t for t in self.tables if t and header in t[0])


_PIPE = re.compile(r"(?<!\\)\|")
_UNESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark: ASCII punctuation only


def md_tables(text: str) -> list[list[list[str]]]:
    """GitHub pipe tables of a Markdown text, cells unescaped; the delimiter row dropped."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] | None = None
    for line in text.splitlines():
        if line.startswith("|") and line.rstrip().endswith("|"):
            cells = [_UNESCAPE.sub(r"\1", c.strip()) for c in _PIPE.split(line.strip())[1:-1]]
            if current is None:
                current = []
                tables.append(current)
            if not all(set(c) <= set("-: ") and c for c in cells):
                current.append(cells)
        else:
            current = None
    return tables


def md_table_with(text: str, header: str) -> list[list[str]]:
    return next(t for t in md_tables(text) if header in t[0])


def plain(cell: str) -> str:
    """A Markdown cell without its links and inline anchors: what a reader sees."""
    cell = re.sub(r"<a id=\"[^\"]*\"></a>", "", cell)
    cell = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", cell)
    return cell.replace("**", "").replace("`", "")


def run_report(cli: Cli, root: Path, out: Path, *args: str) -> Result:
    result = cli("--root", str(root), "report", "--output", str(out), *args)
    assert result.code == 0, result.err
    return result


def check_json(cli: Cli, root: Path) -> Any:
    return cli("--root", str(root), "check", "--format", "json").json()


def assert_links_resolve(out: Path, ext: str) -> None:
    """Every internal link of every page reaches a page that exists and an id on it (on a
    Markdown page, an inline anchor)."""
    pages = {p: Page(p.read_text("utf-8")) for p in out.rglob(f"*{ext}")} if ext == ".html" else {}
    for path, page in pages.items():
        for href in page.hrefs:
            file, _, anchor = href.partition("#")
            target = (path.parent / file).resolve() if file else path
            if target.suffix == ".md":
                assert f'<a id="{anchor}"></a>' in target.read_text("utf-8"), href
                continue
            assert target in pages, f"{path.name}: {href}"
            if anchor:
                assert anchor in pages[target].ids, f"{path.name}: {href}"


# -- the example store ---------------------------------------------------------------------------


@pytest.fixture
def example(cli: Cli, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    result = run_report(cli, EXAMPLE_ROOT, out)
    written = result.out.splitlines()
    assert written[:3] == ["out/index.md", "out/index.html", "out/batches/batch_20241228_pilot.md"]
    assert len(written) == 2 + 3 + 2  # index.md and index.html; batch and dataset pages (md)
    assert result.err == ""
    return out


def test_example_markdown(example: Path) -> None:
    text = (example / "index.md").read_text("utf-8")
    assert md_tables(text)[0][0] == ["figure", "value"]  # a header row, not an empty one
    summary = {plain(row[0]): row[1] for row in md_tables(text)[0]}
    assert summary["📦 Batches"] == "3"
    assert summary["🔧 Physical experiments (_shared)"] == "6"
    assert summary["⚡ Reuse ratio (links per physical experiment)"] == "1.17"
    assert summary["❌ Check errors"] == "0"
    cb, copa = [t for t in md_tables(text) if t[0][0] == "temperature \\ top_p"]
    assert cb == [["temperature \\ top_p", "1.0"], ["**0.7**", "1"]]
    assert copa[0][1:] == ["0.8", "0.9", "1.0"]
    cells = {row[0].strip("*"): row[1:] for row in copa[1:]}
    assert cells["0.7"] == ["1", "1 ⚡1", "1"]
    assert cells["0.5"] == ["·", "·", "1"]
    batches = md_table_with(text, "batch")
    assert batches[3][0] == (
        "[batch_20241230_topp](batches/batch_20241230_topp.md#batch-batch_20241230_topp)"
    )
    assert "```mermaid\nflowchart LR" in text
    page = (example / "batches" / "batch_20241229_temperature.md").read_text("utf-8")
    varying = md_table_with(page, "values")
    assert dict(varying[1:])["generation.temperature"] == "0.5 · 0.7 · 0.9"
    page = (example / "batches" / "batch_20241230_topp.md").read_text("utf-8")
    reused = [r for r in md_table_with(page, "reuse")[1:] if "reused" in r[1]]
    assert [(plain(r[0]), plain(r[1])) for r in reused] == [
        ("temp07_topp09_gpt4o", "⚡ reused from batch_20241228_pilot")
    ]
    assert "](batch_20241228_pilot.md#exp-Copa-temp07_topp09_gpt4o)" in reused[0][0]
    grid = md_table_with(
        (example / "datasets" / "Copa.md").read_text("utf-8"), "temperature \\ top_p"
    )
    assert plain(grid[2][2]) == "temp07_topp09_gpt4o (batch_20241228_pilot, batch_20241230_topp)"


def test_example_html(example: Path) -> None:
    raw = (example / "index.html").read_text("utf-8")
    page = Page(raw)
    assert page.scripts == 2  # the table's JSON data and its script, both inline
    assert page.srcs == []  # self-contained: no external stylesheet, script or image
    assert "http://" not in raw and "https://" not in raw
    assert {"summary", "check", "coverage", "storage", "reuse", "experiments"} <= page.ids
    heat = [t for t in page.tables if t[0][0] == "temperature \\ top_p"][1]
    assert heat[2] == ["0.7", "1", "1⚡1", "1"]
    data = json.loads(raw.split('id="data">', 1)[1].split("</script>", 1)[0])
    assert len(data["rows"]) == 6
    assert "batch-batch_20241230_topp" in page.ids  # its row, where a finding links to it
    assert_links_resolve(example, ".html")


_MD_LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("fmt", ["md", "html", "all"])
def test_every_link_reaches_a_written_page_of_its_format(
    cli: Cli, seed_store: Path, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / "out"
    written = {
        (tmp_path / line).resolve()
        for line in run_report(cli, seed_store, out, "--format", fmt).out.splitlines()
    }
    assert written == {p.resolve() for p in out.rglob("*") if p.is_file()}
    links = 0
    for path in written:
        raw = path.read_text("utf-8")
        if path.suffix == ".html":
            page = Page(raw)
            hrefs = page.hrefs
            ext = page.attrs["table"]["data-ext"]
            data = json.loads(raw.split('id="data">', 1)[1].split("</script>", 1)[0])
            # The table's links, made by its script: to the pages of this format, or none.
            hrefs += [f"{data['pages'][row[11]]}{ext}" for row in data["rows"] if ext]
        else:
            hrefs = _MD_LINK.findall(raw)
        for href in hrefs:
            file, _, anchor = href.partition("#")
            target = (path.parent / file).resolve() if file else path
            assert target in written, f"{path.name}: {href}"
            assert target.suffix == path.suffix, f"{path.name}: {href}"
            if anchor:
                text = target.read_text("utf-8")
                ids = (
                    Page(text).ids
                    if target.suffix == ".html"
                    else re.findall(r'<a id="([^"]+)"', text)
                )
                assert anchor in ids, f"{path.name}: {href}"
            links += 1
    assert links >= 9  # the navigation at least


# -- the seed store: dangling links and findings --------------------------------------------------


def test_seed_store_findings_grouped_by_rule(cli: Cli, seed_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_report(cli, seed_store, out)
    found = check_json(cli, seed_store)
    codes = sorted({f["code"] for f in found["findings"]})
    assert "BC101" in codes  # the seed's two dangling links
    text = (out / "index.md").read_text("utf-8")
    raw = (out / "index.html").read_text("utf-8")
    page = Page(raw)
    assert [row[0] for row in md_table_with(text, "rule")[1:]] == codes
    assert {i for i in page.ids if i.startswith("rule-")} == {f"rule-{c}" for c in codes}
    # Errors come first on the page: the findings before the pictures.
    assert raw.index('id="check"') < raw.index('id="coverage"')
    pages = "".join(p.read_text("utf-8") for p in (out / "batches").glob("*.md"))
    dangling = [
        r
        for t in md_tables(pages)
        if t[0][:2] == ["experiment", "reuse"]
        for r in t[1:]
        if "dangling" in r[1]
    ]
    assert sorted(plain(r[0]) for r in dangling) == ["temp07_topp08_gpt4o", "temp07_topp10_gpt4o"]
    assert all("❌ BC101" in r[-1] for r in dangling)  # an error, not a warning's badge
    summary = {plain(row[0]): row[1] for row in md_tables(text)[0]}
    assert summary["❌ Check errors"] == str(found["summary"]["errors"])
    # The worst findings link to the batch rows they are about, which exist on those pages.
    worst = md_table_with(text, "message")
    targets = re.findall(
        r"\]\(([^)#]+)#([^)]+)\)", " ".join(r[2] for r in worst if r[1] == "BC101")
    )
    assert sorted(targets) == [
        (f"batches/{TEMP}.md", f"link-{TEMP}-Copa-temp07_topp10_gpt4o"),
        (f"batches/{TOPP}.md", f"link-{TOPP}-Copa-temp07_topp08_gpt4o"),
    ]
    for file, anchor in targets:
        assert f'<a id="{anchor}"></a>' in (out / file).read_text("utf-8")
    assert_links_resolve(out, ".html")


# -- escaping ------------------------------------------------------------------------------------

HOSTILE = "<script>document.title='pwned'</script> a | b\nsecond line & more"


@pytest.fixture
def hostile_store(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    spec: dict[str, Any] = {}
    spec.update(experiment("Copa", "odd|name", TEMP, 0.7, 1.0, experiment_description=HOSTILE))
    spec.update(link(TEMP, "Copa", "odd|name"))
    return make_tree(root, spec)


def test_html_escapes_metadata_text(cli: Cli, hostile_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_report(cli, hostile_store, out, "--format", "html")
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]
    raw = (out / "index.html").read_text("utf-8")
    assert "<script>document" not in raw  # the table data holds it with "<" escaped
    page = Page(raw)
    assert page.scripts == 2
    data = json.loads(raw.split('id="data">', 1)[1].split("</script>", 1)[0])
    assert data["rows"][0][1] == "odd|name"


def test_markdown_escapes_pipes_and_flattens_newlines(
    cli: Cli, hostile_store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    run_report(cli, hostile_store, out, "--format", "md")
    text = (out / "batches" / f"{TEMP}.md").read_text("utf-8")
    assert "<script>" not in text
    experiments = md_table_with(text, "description")
    assert all(len(row) == len(experiments[0]) for row in experiments)
    assert plain(experiments[1][0]) == "odd|name"
    assert experiments[1][-1] == " ".join(HOSTILE.split())


def test_md_filter() -> None:
    assert md("a|b\n c") == "a\\|b c"
    assert md("<b>*x*</b>") == "\\<b\\>\\*x\\*\\</b\\>"
    assert md("temp07_topp09 _x_") == "temp07_topp09 \\_x\\_"
    assert md("&amp; & T") == "\\&amp; & T"


# -- large stores: one page per batch and dataset --------------------------------------------------


def test_large_store_gets_one_page_per_batch(cli: Cli, tmp_path: Path) -> None:
    root = tmp_path / "store"
    spec: dict[str, Any] = {}
    count = 61  # temperature 0.0 in b00, b10 ... b60, one over the cap
    for i in range(count):
        batch = f"batch_20250101_b{i:02d}"
        name = f"temp{i % 10:02d}_topp10_gpt4o_{i:02d}"
        spec.update(experiment("Copa", name, batch, (i % 10) / 10, 1.0))
        spec.update(link(batch, "Copa", name))
    spec.update(link("batch_20250101_b01", "Copa", "temp00_topp10_gpt4o_00"))
    make_tree(root, spec)
    out = tmp_path / "out"
    result = run_report(cli, root, out)
    written = result.out.splitlines()
    assert len(written) == 2 + count + 1
    assert "out/batches/batch_20250101_b07.md" in written
    assert "out/datasets/Copa.md" in written
    text = (out / "index.md").read_text("utf-8")
    batches = md_table_with(text, "batch")
    assert (
        batches[1][0]
        == "[batch_20250101_b00](batches/batch_20250101_b00.md#batch-batch_20250101_b00)"
    )
    assert len(batches) == 1 + 30  # the summary lists the first batches
    assert "… and 31 more batches" in text
    assert "```mermaid" not in text  # 62 batch -> experiment edges: too many to draw
    page = (out / "batches" / "batch_20250101_b01.md").read_text("utf-8")
    rows = md_table_with(page, "reuse")
    # The reused experiment is described on the page of the batch that generated it.
    assert "(batch_20250101_b00.md#exp-Copa-temp00_topp10_gpt4o_00)" in rows[1][0]
    assert plain(rows[1][1]) == "⚡ reused from batch_20250101_b00"
    assert [plain(r[0]) for r in md_table_with(page, "linked by")[1:]] == ["temp01_topp10_gpt4o_01"]
    dataset = (out / "datasets" / "Copa.md").read_text("utf-8")
    grid = md_table_with(dataset, "temperature \\ top_p")
    assert len(grid) == 1 + 10  # temperatures 0.0 ... 0.9
    entries = plain(grid[1][1]).split("<br>")
    assert entries[0].startswith("temp00_topp10_gpt4o_00")
    assert len(entries) == GRID_CELL_MAX + 1
    assert entries[-1] == "and 1 more"
    assert_links_resolve(out, ".html")


def report_files(root: Path, out: Path, one_core: bool) -> dict[str, str]:
    """Run ``report`` as a real process (``one_core``: pinned to one CPU, so nothing is forked)
    and return each written file's text, the generation time blanked."""
    cpu = min(os.sched_getaffinity(0))
    command = ["--root", str(root), "--quiet", "--no-cache", "report", "--output", str(out)]
    proc = subprocess.run(
        [sys.executable, "-m", "batchcheck", *command],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        preexec_fn=(lambda: os.sched_setaffinity(0, {cpu})) if one_core else None,
    )
    assert proc.returncode == 0, proc.stderr
    stamp = re.compile(r"generated \d{4}-\d\d-\d\d \d\d:\d\d[^<\n]*")
    return {
        str(p.relative_to(out)): stamp.sub("generated -", p.read_text("utf-8"))
        for p in out.rglob("*")
        if p.is_file()
    }


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity (Linux)")
def test_forked_and_threaded_publishing_writes_what_one_process_writes(tmp_path: Path) -> None:
    # Enough experiments (PARALLEL_MIN) for the folders to be measured by forked workers, and
    # a paged report, whose pages forked renderers share out and a thread writes.
    sys.path.insert(0, str(PROJECT / "benchmarks"))
    from generate import generate

    root = generate(tmp_path / "store", 4000, 40, 200)
    forked = report_files(root, tmp_path / "forked", one_core=False)
    alone = report_files(root, tmp_path / "alone", one_core=True)
    assert len(forked) == 2 + 40 + 8  # index.md and index.html; batch and dataset pages
    assert forked.keys() == alone.keys()
    assert [name for name in forked if forked[name] != alone[name]] == []


# -- where it writes ------------------------------------------------------------------------------


def test_writes_only_inside_output_atomically(cli: Cli, seed_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    outside = tmp_path / "outside.html"
    outside.write_text("keep me", "utf-8")
    (out / "index.html").symlink_to(outside)  # replaced, never written through
    (out / "notes.txt").write_text("mine", "utf-8")
    before = snapshot(tmp_path, out)
    run_report(cli, seed_store, out)
    run_report(cli, seed_store, out)  # overwriting is fine too
    assert snapshot(tmp_path, out) == before
    assert outside.read_text("utf-8") == "keep me"
    assert not (out / "index.html").is_symlink()
    assert sorted(p.name for p in out.iterdir()) == [
        "batches",
        "datasets",
        "index.html",
        "index.md",
        "notes.txt",
    ]


def test_symlinked_page_folder_is_refused(cli: Cli, seed_store: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "batches").symlink_to(elsewhere)
    files = {"index.md": "x", "batches/b.md": "y"}
    with pytest.raises(UsageError, match="symlink"):
        list(write(out, files.items()))
    assert list(elsewhere.iterdir()) == []


def test_default_output_is_reports_under_cwd(cli: Cli, seed_store: Path, tmp_path: Path) -> None:
    result = cli("report", cwd=tmp_path)
    assert result.code == 0, result.err
    assert result.out.splitlines()[:2] == ["reports/index.md", "reports/index.html"]


# -- templates -----------------------------------------------------------------------------------


def test_templates_override(cli: Cli, seed_store: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    make_tree(
        mine, {"index.md.j2": "{{ r.summary.batches }} batches, {{ r.summary.links }} links\n"}
    )
    out = tmp_path / "out"
    run_report(cli, seed_store, out, "--format", "md", "--templates", "mine")
    assert (out / "index.md").read_text("utf-8") == "2 batches, 6 links\n"


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        ({"index.html.j2": '{% extends "no.j2" %}'}, ("--format", "html"), "no.j2 not found"),
        ({"index.md.j2": "{% if %}"}, ("--format", "md"), "template index.md.j2:1:"),
        ({"index.md.j2": "{{ r.nothing }}"}, ("--format", "md"), "index.md.j2"),
        ({"index.md.j2": '{% include "gone.j2" %}'}, ("--format", "md"), "gone.j2 not found"),
    ],
)
def test_bad_templates_are_usage_errors(
    cli: Cli,
    seed_store: Path,
    tmp_path: Path,
    files: dict[str, str],
    args: tuple[str, ...],
    message: str,
) -> None:
    make_tree(tmp_path / "mine", files)
    result = cli("report", "--output", "out", "--templates", "mine", *args)
    assert result.code == 2
    assert message in result.err
    assert len(result.err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "args", [("--templates", "missing"), ("--format", "pdf"), ("--output", "file.txt")]
)
def test_bad_usage(cli: Cli, seed_store: Path, tmp_path: Path, args: tuple[str, ...]) -> None:
    (tmp_path / "file.txt").write_text("x", "utf-8")
    result = cli("report", *args)
    assert result.code == 2
    assert len(result.err.splitlines()) == 1


# -- the context ---------------------------------------------------------------------------------


def test_varying_parameters_uses_values_not_types() -> None:
    a = {"generation": {"temperature": 0.5, "top_p": 1.0, "stop": ["x"]}, "dataset": "Copa"}
    b = {"generation": {"temperature": 0.7, "top_p": 1, "stop": ["x", "y"]}, "dataset": "Copa"}
    found = {p.path: p.values for p in varying_parameters([a, b, a])}
    assert found == {
        "generation.temperature": ["0.5", "0.7"],
        "generation.stop": ['["x", "y"]', '["x"]'],
    }
    assert varying_parameters([a]) == []


def test_tree_size_never_follows_links(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"x" * 5000)
    exp = make_tree(tmp_path / "exp", {"a/b.txt": "12345", "c.txt": "123", "link": "-> ../big"})
    (exp / "dir-link").symlink_to(tmp_path)
    assert tree_size(exp) == (8, True)


@pytest.mark.parametrize("metadata", ["valid", "broken", "a symlink"])
def test_the_scan_measures_an_experiment_as_tree_size_does(tmp_path: Path, metadata: str) -> None:
    """Sizes taken while a folder is read (fresh reads of ``report``) are tree_size's, hidden
    files counted and links never followed, whatever state the metadata file is in."""
    spec = experiment("Copa", "e", "batch_20241229_temperature", 0.5, 1.0)
    spec["_shared/Copa/e/.notes"] = "hidden"
    spec["_shared/Copa/e/Copa/deeper/part.jsonl"] = "{}\n" * 10
    spec["_shared/Copa/e/outside"] = "-> ../../../../"
    if metadata == "broken":
        spec["_shared/Copa/e/experiment_metadata.json"] = '{"dataset": '
    elif metadata == "a symlink":
        spec["_shared/Copa/e/experiment_metadata.json"] = "-> Copa/train.jsonl"
    folder = make_tree(tmp_path / "store", spec) / "_shared/Copa/e"
    read = read_experiment(str(folder), "Copa", ReadOptions(sizes=True))
    assert read.size == tree_size(folder) and read.size[0] > 30
    assert read_experiment(str(folder), "Copa", ReadOptions()).size is None
    assert len(read.pack(size=False)) == 5  # what the cache keeps: never a size


def test_slugs_are_safe_file_names() -> None:
    assert slug("batch_2025/../x y") == "batch_2025-..-x-y"
    assert slug("..") == "x"
    assert slug("ok-name_1.2") == "ok-name_1.2"
    assert slug("\udcff") == "xff"  # an undecodable byte, shown escaped then slugged


@pytest.mark.parametrize(
    ("item", "shown"),
    [
        (None, ""),
        (True, "true"),
        (7, "7"),
        (1.0, "1.0"),
        (float("nan"), "NaN"),  # as JSON writes it, not Python's nan
        (float("-inf"), "-Infinity"),
        ("a\n b\t", "a b"),
        ("x" * 70, "x" * 59 + "…"),
        ({"a": [1, 2.0]}, '{"a": [1, 2.0]}'),
        ("\udcc2\udca0x", "\xa0x"),  # escaped bytes decoding to a space: folded before
        (10**70, "1" + "0" * 58 + "…"),
    ],
)
def test_show_value(item: Any, shown: str) -> None:
    assert show_value(item) == shown


def test_a_ref_links_where_href_does() -> None:
    targets = [Target("index", "summary"), Target("batches/b", "row"), Target("datasets/d", "e")]
    for page in ("index", "batches/b", "datasets/x"):
        links = Links(cast(SiteMap, None), page)
        for target in targets:
            for ext in (".md", ".html"):
                shown = navigation.link(links("name", target), ext)
                assert shown == navigation.href(target, page, ext)
    assert navigation.link(Ref("not in the report"), ".md") == ""


def test_heatmap_axes_are_the_parameters_that_vary(cli: Cli, tmp_path: Path) -> None:
    # top_p never varies: the heatmap is drawn on temperature x max_tokens.
    spec: dict[str, Any] = {}
    for i, (temp, tokens) in enumerate([(0.5, 256), (0.7, 256), (0.7, 512), (0.7, 512)]):
        generation = {"model": "m", "temperature": temp, "top_p": 1.0, "max_tokens": tokens}
        spec.update(experiment("Copa", f"e{i}", TEMP, temp, 1.0, generation=generation))
        spec.update(link(TEMP, "Copa", f"e{i}"))
    spec.update(link(TOPP, "Copa", "e3"))
    root = make_tree(tmp_path / "store", spec)
    out = tmp_path / "out"
    run_report(cli, root, out)
    grid = md_table_with((out / "index.md").read_text("utf-8"), "temperature \\ max_tokens")
    assert grid == [
        ["temperature \\ max_tokens", "256", "512"],
        ["**0.5**", "1", "·"],
        ["**0.7**", "1", "2 ⚡1"],
    ]
    page = Page((out / "index.html").read_text("utf-8"))
    assert page.table_with("temperature \\ max_tokens")[2] == ["0.7", "1", "2⚡1"]


def _generations(tmp_path: Path, generations: list[dict[str, Any]]) -> Path:
    """A store of one experiment per generation section, all in TEMP; e1 also in TOPP."""
    spec: dict[str, Any] = {}
    for i, generation in enumerate(generations):
        spec.update(experiment("Copa", f"e{i}", TEMP, 0.7, 1.0, generation=generation))
        spec.update(link(TEMP, "Copa", f"e{i}"))
    spec.update(link(TOPP, "Copa", "e1"))
    return make_tree(tmp_path / "store", spec)


def test_heatmap_axes_are_the_two_parameters_with_most_values(cli: Cli, tmp_path: Path) -> None:
    # max_tokens has three values, prompt_template two, temperature and top_p one each.
    configs = [(1024, "b"), (128, "a"), (256, "a"), (256, "b"), (256, None)]
    generations = []
    for tokens, template in configs:
        generation: dict[str, Any] = {"model": "m", "temperature": 0.7, "top_p": 1.0}
        generation["max_tokens"] = tokens
        if template:
            generation["prompt_template"] = template
        generations.append(generation)
    root = _generations(tmp_path, generations)
    out = tmp_path / "out"
    run_report(cli, root, out)
    expected = [  # numbers in numeric order, text in text order, (missing) last
        ["max_tokens \\ prompt_template", "a", "b", "(missing)"],
        ["128", "1⚡1", "·", "·"],
        ["256", "1", "1", "1"],
        ["1024", "·", "1", "·"],
    ]
    grid = md_table_with((out / "index.md").read_text("utf-8"), "max_tokens \\ prompt_template")
    assert grid[0] == expected[0]
    assert [[plain(c).replace(" ", "") for c in row] for row in grid[1:]] == expected[1:]
    raw = (out / "index.html").read_text("utf-8")
    page = Page(raw)
    assert page.table_with("max_tokens \\ prompt_template") == expected
    assert 'data-xk="k" data-xv="256" data-yk="a0" data-yv="(missing)"' in raw
    # The table has a column for each and its rows the values the cells are filtered on.
    assert page.table_with("experiment")[0][5:7] == ["max_tokens", "prompt_template"]
    data = json.loads(raw.split('id="data">', 1)[1].split("</script>", 1)[0])
    assert data["params"] == ["k", "a0"]
    assert [(row[5], row[13]) for row in data["rows"]] == [(str(t), [p or ""]) for t, p in configs]


def test_heatmap_of_one_parameter_or_none(cli: Cli, tmp_path: Path) -> None:
    seeds = [{"model": "m", "seed": s} for s in (3, 1, 2, 1)] + [{"model": "bare"}]
    out = tmp_path / "out"
    run_report(cli, _generations(tmp_path, seeds), out)
    page = Page((out / "index.html").read_text("utf-8"))
    assert page.table_with("seed") == [
        ["seed", "experiments"],
        ["1", "2⚡1"],
        ["2", "1"],
        ["3", "1"],
    ]
    assert page.table_with("no parameter varies") == [
        ["no parameter varies", "experiments"],
        ["all", "1"],
    ]
    text = (out / "index.md").read_text("utf-8")
    assert "**Copa · m**: 4 experiments, by seed" in text
    assert "**Copa · bare**: 1 experiment, no parameter varies" in text
    assert md_table_with(text, "parameters")[1] == ["**all**", "1"]
