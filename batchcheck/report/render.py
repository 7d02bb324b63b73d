"""Turning a :class:`~batchcheck.report.views.Report` into files: the Jinja2 environment
(with Markdown escaping and the ``link`` filter), rendering page by page, publishing a large
store's pages from forked processes, and writing each file atomically under the output folder
and nowhere else.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache, partial
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from batchcheck.atomic import write_atomic
from batchcheck.errors import UsageError
from batchcheck.forking import fork_pool
from batchcheck.formats.view import plural
from batchcheck.report.navigation import INDEX, home, href, link
from batchcheck.report.views import Report, Subpage

FORMATS = {"md": ".md", "html": ".html", "summary": ".md"}
# The pages of each format: HTML is the one self-contained index.html (its table covers every
# experiment); Markdown is a bounded summary with a page per batch and per dataset beside it;
# "summary" is that index.md alone (report --summary), which links to nothing beyond itself.
PAGE_TEMPLATES = {"md": ("index", "batch", "dataset"), "html": ("index",), "summary": ("index",)}
# The formats whose index has a row (and its anchor) for every batch and dataset.
INDEX_ROWS = frozenset({"html"})
FORK_PAGES_MIN = 50  # pages of batches and datasets worth forking renderers for
WRITE_AHEAD = 8  # rendered files that may wait for the writing thread
# The summary's bounds (index.md, report --summary): with them it stays under 64 KB.
SUMMARY_ROWS = 30  # batches and datasets listed
SUMMARY_HEATMAPS = 8  # dataset/model coverage tables
CUT_WIDTH = 80  # characters of a name
PIECE_CHARS = 1 << 20  # characters of an HTML page encoded and written at a time
T = TypeVar("T")

# Markup characters, an underscore at the edge of a word, an ``&`` that starts an entity. The
# leading lookahead lets the scan pass over plain characters (most of a name) at once.
_MD_SPECIAL = re.compile(
    r"(?=[\\`*\[\]<>|_&])(?:[\\`*\[\]<>|]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|&(?=#?\w+;))"
)


def md(text: object) -> str:
    """Text safe in a GitHub Markdown table cell: one line, pipes and markup escaped."""
    return _md(str(text))


@lru_cache(maxsize=4096)
def _md(text: str) -> str:
    """:func:`md` of a text: a page repeats most of its texts (models, values, batch names)."""
    return _MD_SPECIAL.sub(_escaped, " ".join(text.split()))


def mdcut(text: object, width: int = CUT_WIDTH) -> str:
    """:func:`md` of ``text`` cut to ``width`` characters: a name in the bounded summary."""
    shown = " ".join(str(text).split())
    return md(shown if len(shown) <= width else shown[: width - 1] + "…")


def _escaped(match: re.Match[str]) -> str:
    return "\\" + match[0]


def code(text: object) -> str:
    """A code span of ``text`` in a table cell: one line, fenced by more backticks than any
    run inside it (so a stored value cannot close it and become markup), pipes escaped (GitHub
    splits cells on them even in code)."""
    shown = " ".join(str(text).split()).replace("|", "\\|")
    if not shown:
        return ""
    fence = "`" * (max(map(len, re.findall("`+", shown)), default=0) + 1)
    pad = " " if shown[0] == "`" or shown[-1] == "`" else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def environment(folder: Path | None) -> Any:
    """The Jinja2 environment: the templates shipped in the package, overridden by those of
    a team's folder.

    The shipped ones are read through importlib.resources, so the same code finds them in a
    checkout, an editable install and a wheel.
    """
    import jinja2

    package = resources.files("batchcheck.templates")

    def load(name: str) -> tuple[str, None, Any] | None:
        resource = package.joinpath(*name.split("/"))
        if not resource.is_file():
            return None
        return resource.read_text("utf-8"), None, lambda: True

    loader: jinja2.BaseLoader = jinja2.FunctionLoader(load)
    if folder is not None:
        # A team's folder overrides the shipped templates it holds; the others still apply.
        loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(folder)), loader])
    env = jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(["html", "html.j2"], default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md
    env.filters["mdcut"] = mdcut
    env.filters["code"] = code
    env.globals["SUMMARY_ROWS"] = SUMMARY_ROWS
    env.globals["SUMMARY_HEATMAPS"] = SUMMARY_HEATMAPS
    env.filters["plural"] = plural
    env.filters["link"] = link
    return env


def summary_text(report: Report, folder: Path | None = None) -> str:
    """The Markdown summary alone (``index.md``), as ``report --summary`` prints it."""
    for _, text in render(report, ("summary",), folder):
        return text if isinstance(text, str) else text.decode("utf-8")
    raise AssertionError("a report always has an index")


def pages(report: Report) -> Iterator[Subpage]:
    """(page, template stem, a function giving its extra variables) for every page."""
    yield INDEX, "index", dict
    yield from report.subpages()


def render(
    report: Report, formats: Iterable[str], folder: Path | None = None
) -> Iterator[tuple[str, str | bytes]]:
    """(relative file name, text) of every page in every format (an HTML page as UTF-8
    bytes), one page at a time, so a large store's pages are never all in memory together.

    Raises :class:`UsageError` when a template is missing or fails to render; the templates
    are all loaded (and their syntax checked) before the first page is produced.
    """
    for _, rel, text in _rendered(report, tuple(formats), folder, itertools.count().__next__):
        yield rel, text if isinstance(text, str) else b"".join(text)


# A page's text: Markdown whole, an HTML page as UTF-8 pieces made while it is written.
Text = str | Iterator[bytes]


def _rendered(
    report: Report, formats: tuple[str, ...], folder: Path | None, claim: Callable[[], int]
) -> Iterator[tuple[int, str, Text]]:
    """(position, relative file name, text) of the pages this process renders: each call of
    ``claim`` gives the number (in :func:`pages` order) of the next page it takes, larger
    than the one before."""
    import jinja2

    env = environment(folder)
    templates: dict[tuple[str, str], Any] = {}
    for fmt in formats:
        for stem in PAGE_TEMPLATES[fmt]:
            try:
                templates[fmt, stem] = env.get_template(f"{stem}{FORMATS[fmt]}.j2")
            except jinja2.TemplateNotFound as exc:
                raise UsageError(f"template {exc.name} not found") from exc
            except jinja2.TemplateSyntaxError as exc:
                raise UsageError(f"template {exc.name}:{exc.lineno}: {exc.message}") from exc
    position = 0
    ticket = claim()
    for number, (page, stem, variables) in enumerate(pages(report)):
        wanted = [fmt for fmt in formats if (fmt, stem) in templates]
        if number != ticket:
            position += len(wanted)
            continue
        ticket = claim()
        if not wanted:
            continue
        extra = variables()
        for fmt in wanted:
            ext = FORMATS[fmt]
            context = {
                "r": report,
                "page": page,
                "ext": ext,
                # Each format links to its own pages alone: those it writes (PAGE_TEMPLATES).
                "href": partial(
                    href, page=page, ext=ext, stems=PAGE_TEMPLATES[fmt], rows=fmt in INDEX_ROWS
                ),
                "stems": PAGE_TEMPLATES[fmt],
                "home": home(page, ext),
                **extra,
            }
            name = f"{stem}{ext}.j2"
            text: Text
            if fmt == "html":
                # The page holds a large store's table data: written to its file in pieces as
                # it is made, never held whole.
                text = _pieces(templates[fmt, stem], context, name)
            else:
                with _template_errors(name):
                    text = templates[fmt, stem].render(**context)
            yield position, page + ext, text
            position += 1
        # A template that imports macros "with context" leaves a reference cycle holding the
        # page's view (the shipped page templates do not). The command runs with the collector
        # off: without this, each such view would stay. With no cycle it costs next to nothing.
        del extra
        gc.collect(0)


@contextlib.contextmanager
def _template_errors(name: str) -> Iterator[None]:
    """A template that fails while it renders is a usage error naming it."""
    import jinja2

    try:
        yield
    except jinja2.TemplateNotFound as exc:
        raise UsageError(f"template {exc.name} not found") from exc
    except jinja2.TemplateError as exc:
        raise UsageError(f"template {name}: {exc}") from exc


def _pieces(template: Any, context: dict[str, Any], name: str) -> Iterator[bytes]:
    """A page as UTF-8 pieces of about ``PIECE_CHARS`` characters, made as they are asked
    for."""
    with _template_errors(name):
        held: list[str] = []
        size = 0
        for piece in template.generate(**context):
            held.append(piece)
            size += len(piece)
            if size >= PIECE_CHARS:
                yield "".join(held).encode("utf-8")
                held.clear()
                size = 0
        yield "".join(held).encode("utf-8")


# What the forked publishing processes render. Forked workers inherit this process's memory,
# so the report is left here for them just before they are forked: sending it to them would
# pickle the whole of it (and its page builder cannot be pickled). The last part is the
# number of the next page nobody has taken yet, shared by every process.
_PUBLISHING: tuple[Report, tuple[str, ...], Path | None, Path, Any] | None = None


def publish(
    report: Report, formats: Iterable[str], folder: Path | None, output: Path, workers: int
) -> list[Path]:
    """Render every page and write it under ``output`` (see :func:`write`); the written
    files in page order.

    Rendering is pure Python, one core per process: a large store's pages are rendered by
    ``workers`` processes forked from this one, which already holds the whole context. Each
    takes the next page nobody has taken (a counter they share), so the ones that drew the
    large pages (``index.html``) render fewer of the rest, and all finish together.
    """
    global _PUBLISHING
    formats = tuple(formats)
    many = len(report.batches) + len(report.datasets) >= FORK_PAGES_MIN
    pool = fork_pool(workers - 1) if many and workers > 1 else None
    if pool is None:
        return list(write(output, render(report, formats, folder)))
    import multiprocessing

    counter = multiprocessing.get_context("fork").Value("q", 0)
    _PUBLISHING = (report, formats, folder, output, counter)
    try:
        with pool:
            others = [pool.submit(_publish_share) for _ in range(1, workers)]
            written = _publish_share()
            for future in others:
                written += future.result()
    finally:
        _PUBLISHING = None
    return [Path(path) for _, path in sorted(written)]


def _publish_share() -> list[tuple[int, str]]:
    """Render and write pages until none is left; (position, path) of those written."""
    assert _PUBLISHING is not None
    report, formats, folder, output, counter = _PUBLISHING

    def claim() -> int:
        with counter.get_lock():
            number: int = counter.value
            counter.value = number + 1
        return number

    files = _rendered(report, formats, folder, claim)
    return [(position, str(path)) for position, path in _written(output, files)]


def write(output: Path, files: Iterable[tuple[str, Text | bytes]]) -> Iterator[Path]:
    """Write each (relative name, text) under ``output`` atomically (temp file in its folder,
    then rename), yielding each path once written; a text may be UTF-8 bytes or pieces of
    them.

    Folders the pages need are created inside ``output``; a symlinked sub-folder is refused so
    that nothing outside ``output`` is ever written.
    """
    for _, path in _written(output, ((rel, rel, text) for rel, text in files)):
        yield path


def _written(
    output: Path, files: Iterable[tuple[T, str, Text | bytes]]
) -> Iterator[tuple[T, Path]]:
    """(tag, path) of each (tag, relative name, text) once written (see :func:`write`).

    A thread writes while the next pages are rendered: replacing an earlier report's file can
    wait for the disk (ext4 flushes a file renamed over another), and waiting lets go of the
    GIL. At most ``WRITE_AHEAD`` files wait to be written; after a failure, none is started.
    """
    from concurrent.futures import Future, ThreadPoolExecutor

    writer = ThreadPoolExecutor(1)
    try:
        pending: deque[tuple[T, Future[Path]]] = deque()
        for tag, rel, text in files:
            pending.append((tag, writer.submit(_write_file, output, rel, text)))
            if len(pending) > WRITE_AHEAD:
                done, future = pending.popleft()
                yield done, future.result()
        for done, future in pending:
            yield done, future.result()
    finally:
        writer.shutdown(cancel_futures=True)


def _write_file(output: Path, rel: str, text: Text | bytes) -> Path:
    target = output.joinpath(*rel.split("/"))
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    if folder != output and os.path.islink(folder):
        raise UsageError(f"{folder} is a symlink: refusing to write through it")
    data = text.encode("utf-8") if isinstance(text, str) else text

    def fill(handle: BinaryIO) -> None:
        if isinstance(data, bytes):
            handle.write(data)
            return
        for piece in data:
            handle.write(piece)

    return write_atomic(target, fill, mode=0o644)
