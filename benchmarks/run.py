"""Time every command as a whole process against its yardstick, in one run.

    python benchmarks/run.py --sizes 1000,10000,100000 --shapes own,wide,grouped --repeat 3
    python benchmarks/run.py --netfs --delay-us 1000 --net-size 10000   # adds the network table

Local table: for each store shape and size it generates a store (kept under
benchmarks/stores/, reused while its shape matches), warms the page cache, then runs the bare
I/O baseline (``baseline.py``) and each command ``--repeat`` times: medians, ratios to the
baseline and peak memory. Network table (``--netfs``, where FUSE is available): the store of
``--net-size`` behind latfs at ``--delay-us`` per operation, each command against its
``anchor.py`` yardstick (``batch_anchor.py`` for ``list-batch-experiments``), the two runs of a
pair taken in turn: medians, ratios, round trips and the most requests in flight. Both tables
go to ``benchmarks/results.md``. Ratios from one run are what to quote: wall times on a shared
machine are noisy, but both sides of a ratio see the same noise; the load average is recorded.
Below each local table: what ``report`` wrote (total size, files, ``index.html``) and how long
headless Chromium takes to load that ``index.html`` and to reload it (skipped without
Chromium), with any console error it reported.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import netfs  # noqa: E402
from generate import Shape, generate_shape  # noqa: E402

# The browser tests' DevTools client: the page is loaded here the way they load it.
sys.path.insert(0, str(HERE.parent / "tests" / "report"))
from cdp import Chromium  # noqa: E402

# Store shapes by name, for a given number of experiments: the project's own (8 datasets,
# names with a serial number), the one issue 12 measured as dearer (10 datasets, names that
# state the parameters), and one where every batch keeps to one of 50 datasets.
SHAPES: dict[str, Callable[[int], Shape]] = {
    "own": lambda n: Shape(n, max(10, n // 100), 200, 8, "all", "seed"),
    "wide": lambda n: Shape(n, max(10, n // 100), 200, 10, "all", "params"),
    "grouped": lambda n: Shape(n, max(10, n // 400), 800, 50, "one", "seed"),
}


@dataclass
class Timing:
    """Median wall time and peak resident memory of one command (``failed``: its exit
    status when it did not succeed, which the table says instead of a time)."""

    name: str
    seconds: float
    peak_mib: float
    failed: int = 0
    cpu: float = 0.0  # user + system seconds, worker processes included (median)


def _run(argv: list[str]) -> tuple[float, float, int, float]:
    """Wall seconds, peak RSS (MiB), exit status and CPU seconds of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), cpu


def _measure(name: str, argv: list[str], repeat: int) -> Timing:
    runs = [_run(argv) for _ in range(repeat)]
    # The generated stores are healthy: any other exit status is a failure, shown as such.
    failed = next((code for _, _, code, _ in runs if code != 0), 0)
    seconds = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[3] for r in runs)
    return Timing(name, seconds, max(r[1] for r in runs), failed, cpu)


def store(name: str, size: int) -> tuple[Path, Shape]:
    """The generated store of a shape and size (made once, kept while its shape matches)."""
    shape = SHAPES[name](size)
    dest = HERE / "stores" / f"{name}-{size}"
    stamp = dest / ".generated"
    if not stamp.exists() or stamp.read_text() != shape.label():
        print(f"generating {shape.label()} ...", file=sys.stderr)
        generate_shape(dest, shape)
        stamp.write_text(shape.label())
    return dest, shape


def _lookups(root: Path) -> dict[str, list[str]]:
    """Arguments of the point lookups: a batch in the middle, a link of it, two experiments."""
    batches = sorted(p.name for p in root.iterdir() if p.name.startswith("batch_"))
    batch = batches[len(batches) // 2]
    dataset = sorted(p.name for p in (root / batch).iterdir())[0]
    link = sorted((root / batch / dataset).iterdir())[0]
    shared = sorted(p.name for p in (root / "_shared" / dataset).iterdir())[:2]
    return {
        "batch": [batch],
        "link": [str(link)],
        "shared": ["--shared", f"{dataset}/{shared[0]}", "--shared", f"{dataset}/{shared[1]}"],
    }


def _commands(root: Path, out: Path) -> list[tuple[str, list[str]]]:
    """Every command without a cache (what a first run pays), and ``(warm cache)`` rows for
    check, list-batches and report, run once beforehand to fill it."""
    bc = [sys.executable, "-m", "batchcheck", "--root", str(root), "--quiet", "--no-cache"]
    warm = [*bc[:-1], "--cache-dir", str(out / "cache")]
    look = _lookups(root)
    return [
        ("check (cold cache)", [*bc, "check"]),
        ("check (warm cache)", [*warm, "check"]),
        ("list-batches", [*bc, "list-batches"]),
        ("list-batches (warm cache)", [*warm, "list-batches"]),
        ("list-batch-experiments B", [*bc, "list-batch-experiments", *look["batch"]]),
        ("resolve-data-path (batch path)", [*bc, "resolve-data-path", *look["link"]]),
        ("compare-experiments --shared", [*bc, "compare-experiments", *look["shared"]]),
        ("list-shared-experiments", [*bc, "list-shared-experiments"]),
        ("list-data-paths", [*bc, "list-data-paths"]),
        ("report", [*bc, "report", "--output", str(out / "report")]),
        ("report (warm cache)", [*warm, "report", "--output", str(out / "report")]),
    ]


@dataclass
class Output:
    """What ``report`` wrote and how headless Chromium loads its ``index.html``: the seconds to
    the load event, opened and then reloaded (None without Chromium: ``why`` says why), and the
    console errors it reported."""

    megabytes: float
    files: int
    index_mb: float
    load: float | None = None
    reload: float | None = None
    errors: tuple[str, ...] = ()
    why: str = ""

    def line(self, size: int) -> str:
        """One Markdown line for the store of ``size`` experiments."""
        text = (
            f"- report output at {size:,} experiments: {self.megabytes:.1f} MB in "
            f"{self.files:,} files, index.html {self.index_mb:.1f} MB"
        )
        if self.load is None:
            return text + f"; Chromium load not measured: {self.why}"
        errors = f"{len(self.errors)} console error(s)" if self.errors else "no console error"
        return (
            text + f"; headless Chromium: load event {self.load:.2f} s, reload "
            f"{self.reload:.2f} s, {errors}"
        )


def output(folder: Path) -> Output:
    """The size of a report's files, and its ``index.html`` in headless Chromium."""
    sizes = [p.stat().st_size for p in folder.rglob("*") if p.is_file()]
    index = folder / "index.html"
    found = Output(sum(sizes) / 1e6, len(sizes), index.stat().st_size / 1e6)
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        found.why = "chromium is not installed"
        return found
    with tempfile.TemporaryDirectory() as profile:
        browser = Chromium(binary, Path(profile))
        try:
            found.load = browser.open(index.as_uri())
            found.reload = browser.open(index.as_uri())
            found.errors = tuple(browser.errors)
        finally:
            browser.close()
    return found


def bench(root: Path, repeat: int) -> tuple[list[Timing], Output]:
    """Baseline and every command on one store, and what the report wrote."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        baseline = [sys.executable, str(HERE / "baseline.py"), str(root)]
        _run(baseline)  # warm the page cache
        timings = [_measure("baseline (bare I/O)", baseline, repeat)]
        for name, argv in _commands(root, out):
            if "warm" in name:
                _run(argv)  # fill the cache
            timings.append(_measure(name, argv, repeat))
        written = output(out / "report")
    return timings, written


# Issue 12's targets at the largest size, as ratios to the baseline; every command also stays
# under MEMORY_MIB of peak memory.
TARGETS = {
    "check (cold cache)": 1.0,
    "check (warm cache)": 0.15,
    "list-batches": 0.25,
    "list-batch-experiments B": 0.05,
    "resolve-data-path (batch path)": 0.05,
    "compare-experiments --shared": 0.05,
    "report": 3.0,
}
MEMORY_MIB = 400


def _verdict(timing: Timing, ratio: float) -> str:
    """``met`` or ``missed`` against the targets, for the largest size."""
    parts = []
    target = TARGETS.get(timing.name)
    if target is not None:
        parts.append(f"<= {target:g}x: {'met' if ratio <= target else 'missed'}")
    parts.append(f"< {MEMORY_MIB} MiB: {'met' if timing.peak_mib < MEMORY_MIB else 'missed'}")
    return "; ".join(parts)


def table(results: dict[int, list[Timing]]) -> str:
    """Markdown: one row per command, per size the median, the ratio and peak memory; then
    how the time grew from the previous size (10x more experiments: about 10x is linear) and
    the targets at the largest size."""
    sizes = sorted(results)
    head = "| command | " + " | ".join(f"{s:,} exp: s / ratio / MiB / CPU s" for s in sizes)
    steps = list(pairwise(sizes))
    head += "".join(f" | {a:,} -> {b:,}: time x" for a, b in steps) + " | targets |"
    rows = [head, "|---" * (2 * len(sizes) + 1) + "|"]
    for i, timing in enumerate(results[sizes[0]]):
        cells = []
        for size in sizes:
            t = results[size][i]
            base = results[size][0].seconds
            if t.failed:
                cells.append(f"failed (exit {t.failed})")
                continue
            cells.append(
                f"{t.seconds:.2f} / {t.seconds / base:.2f}x / {t.peak_mib:.0f} / {t.cpu:.2f}"
            )
        for a, b in steps:
            cells.append(f"{results[b][i].seconds / results[a][i].seconds:.1f}")
        last = results[sizes[-1]][i]
        ratio = last.seconds / results[sizes[-1]][0].seconds
        cells.append("" if last.failed else _verdict(last, ratio))
        rows.append(f"| {timing.name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


# -- the network table ---------------------------------------------------------------------

NET_TARGET = 1.5


def _net_pairs(root: Path, cache: Path) -> list[tuple[str, list[str], str, list[str]]]:
    """(command, its argv, yardstick, its argv) with ``{}`` for the mountpoint."""
    bc = [sys.executable, "-m", "batchcheck", "--root", "{}", "--quiet"]
    anchor = [sys.executable, str(netfs.LATFS_DIR / "anchor.py"), "{}"]
    batch = _lookups(root)["batch"]
    return [
        ("check --no-cache", [*bc, "--no-cache", "check"], "anchor.py (full)", anchor),
        (
            "check, warm cache",
            [*bc, "--cache-dir", str(cache), "check"],
            "anchor.py --stamps",
            [*anchor, "--stamps"],
        ),
        (
            "list-batches --no-cache",
            [*bc, "--no-cache", "list-batches"],
            "anchor.py --links-only",
            [*anchor, "--links-only"],
        ),
        (
            "list-batch-experiments B",
            [*bc, "--no-cache", "list-batch-experiments", *batch],
            "batch_anchor.py B",
            [sys.executable, str(HERE / "batch_anchor.py"), "{}", *batch],
        ),
    ]


def net_table(root: Path, delay_us: int, repeat: int) -> str:
    """Markdown: each command and its yardstick on one latfs mount, medians of ``repeat``
    runs taken in turn, the ratio, round trips and the most requests in flight."""
    head = (
        "| command | s | round trips | max in flight | yardstick | s | round trips "
        f"| max in flight | ratio | target <= {NET_TARGET:g}x |"
    )
    rows = [head, "|---" * 9 + "|---|"]
    with tempfile.TemporaryDirectory() as tmp, netfs.mounted(root, delay_us) as mount:
        cache = Path(tmp) / "cache"
        pairs = _net_pairs(root, cache)
        mount.run(pairs[0][3])  # the untimed pass: every command sees the same kernel state
        mount.run(pairs[1][1])  # fills the cache the warm check reads
        for name, argv, yard, yard_argv in pairs:
            ours, theirs = [], []
            for _ in range(repeat):
                ours.append(mount.run(argv))
                theirs.append(mount.run(yard_argv))
            a = statistics.median(r.seconds for r in ours)
            b = statistics.median(r.seconds for r in theirs)
            rows.append(
                f"| {name} | {a:.2f} | {ours[0].round_trips:,} | {max(r.in_flight for r in ours)} "
                f"| {yard} | {b:.2f} | {theirs[0].round_trips:,} "
                f"| {max(r.in_flight for r in theirs)} | {a / b:.2f}x "
                f"| {'met' if a / b <= NET_TARGET else 'missed'} |"
            )
    return "\n".join(rows)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} (1 / 5 / 15 min)"


def main() -> None:
    """Run the shapes and sizes (and the network table), print, write benchmarks/results.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000", help="comma list of experiment counts")
    parser.add_argument("--shapes", default="own", help=f"comma list of {', '.join(SHAPES)}")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--netfs", action="store_true", help="add the network table (FUSE)")
    parser.add_argument("--delay-us", type=int, default=1000, help="latfs delay per operation")
    parser.add_argument("--net-size", type=int, default=10000, help="experiments of its store")
    parser.add_argument("--net-shape", default="own", choices=SHAPES)
    parser.add_argument("--output", type=Path, default=HERE / "results.md")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    shapes = args.shapes.split(",")
    unknown = [s for s in shapes if s not in SHAPES]
    if unknown:
        parser.error(f"unknown shape {unknown[0]!r} (known: {', '.join(SHAPES)})")
    sections = []
    for name in shapes:
        stores = {size: store(name, size) for size in sizes}
        before = _load()
        measured = {size: bench(root, args.repeat) for size, (root, _) in stores.items()}
        results = {size: timings for size, (timings, _) in measured.items()}
        written = "\n".join(out.line(size) for size, (_, out) in measured.items())
        label = stores[sizes[-1]][1].label()
        sections.append(
            f"### Local disk, shape `{name}` ({label} at {sizes[-1]:,})\n\n"
            f"{_load()} at the end ({before} at the start).\n\n{table(results)}\n\n"
            f"{written}\n"
        )
    if args.netfs:
        why = netfs.unavailable()
        if why is not None:
            sections.append(f"### Network filesystem\n\nNot measured here: {why}.\n")
        else:
            root, shape = store(args.net_shape, args.net_size)
            before = _load()
            text = net_table(root, args.delay_us, args.repeat)
            sections.append(
                f"### Network filesystem: latfs, {args.delay_us} us per operation, shape "
                f"`{args.net_shape}` ({shape.label()})\n\n"
                f"{_load()} at the end ({before} at the start). Yardsticks: "
                "`../shared/tools/latfs/anchor.py` (64 threads) and `benchmarks/batch_anchor.py` "
                f"in its style.\n\n{text}\n"
            )
    text = (
        f"# Benchmark results\n\n"
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}; page cache warm; median of {args.repeat} runs; "
        f"ratio = time / yardstick time of the same store, in the same run; peak RSS in MiB; "
        f"CPU s = user + system time of the command and its worker processes (what load on a "
        f"shared machine does not change).\n\n" + "\n".join(sections)
    )
    print(text)
    args.output.write_text(text)
    print(f"written to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
