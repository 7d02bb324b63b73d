"""Time every command as a whole process against the bare I/O baseline, in one run.

    python benchmarks/run.py --sizes 1000,10000,100000 --repeat 3

For each size it generates a store (kept under benchmarks/stores/, reused when its size
matches), warms the page cache, then runs the baseline and each command ``--repeat`` times,
and prints and writes a table of medians, ratios to the baseline and peak memory
(``benchmarks/results.md``). Ratios from one run are what to quote: wall times on a shared
machine are noisy, but both sides of a ratio see the same noise.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

BATCH_LINKS = 200


@dataclass
class Timing:
    """Median wall time and peak resident memory of one command."""

    name: str
    seconds: float
    peak_mib: float


def _run(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:  # the generated stores are healthy: anything else is a failure
        raise SystemExit(f"{' '.join(argv)} failed with exit {proc.returncode}")
    return elapsed, usage.ru_maxrss / 1024


def _measure(name: str, argv: list[str], repeat: int) -> Timing:
    runs = [_run(argv) for _ in range(repeat)]
    return Timing(name, statistics.median(r[0] for r in runs), max(r[1] for r in runs))


def _store(size: int) -> Path:
    batches = max(10, size // 100)
    dest = HERE / "stores" / f"s{size}"
    stamp = dest / ".generated"
    if not stamp.exists():
        print(f"generating {size} experiments, {batches} batches ...", file=sys.stderr)
        generate(dest, size, batches, BATCH_LINKS)
        stamp.write_text(f"{size}\n")
    return dest


def _commands(root: Path, out: Path) -> list[tuple[str, list[str]]]:
    """Every command without a cache (what a first run pays), and ``(warm cache)`` rows for
    check, list-batches and report, run once beforehand to fill it."""
    bc = [sys.executable, "-m", "batchcheck", "--root", str(root), "--quiet", "--no-cache"]
    warm = [*bc[:-1], "--cache-dir", str(out / "cache")]
    batches = sorted(p.name for p in root.iterdir() if p.name.startswith("batch_"))
    batch = batches[len(batches) // 2]
    dataset = sorted(p.name for p in (root / batch).iterdir())[0]
    link = sorted((root / batch / dataset).iterdir())[0]
    shared = sorted(p.name for p in (root / "_shared" / dataset).iterdir())[:2]
    return [
        ("check (cold cache)", [*bc, "check"]),
        ("check (warm cache)", [*warm, "check"]),
        ("list-batches", [*bc, "list-batches"]),
        ("list-batches (warm cache)", [*warm, "list-batches"]),
        ("list-batch-experiments B", [*bc, "list-batch-experiments", batch]),
        ("resolve-data-path (batch path)", [*bc, "resolve-data-path", str(link)]),
        (
            "compare-experiments --shared",
            [
                *bc,
                "compare-experiments",
                "--shared",
                f"{dataset}/{shared[0]}",
                "--shared",
                f"{dataset}/{shared[1]}",
            ],
        ),
        ("list-shared-experiments", [*bc, "list-shared-experiments"]),
        (
            "list-shared-experiments --dataset D",
            [*bc, "list-shared-experiments", "--dataset", dataset],
        ),
        ("list-data-paths", [*bc, "list-data-paths"]),
        ("report", [*bc, "report", "--output", str(out / "report")]),
        ("report (warm cache)", [*warm, "report", "--output", str(out / "report")]),
    ]


def bench(size: int, repeat: int) -> list[Timing]:
    """Baseline and every command on a store of ``size`` experiments."""
    root = _store(size)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        baseline = [sys.executable, str(HERE / "baseline.py"), str(root)]
        _run(baseline)  # warm the page cache
        timings = [_measure("baseline (bare I/O)", baseline, repeat)]
        for name, argv in _commands(root, out):
            if "warm" in name:
                _run(argv)  # fill the cache
            timings.append(_measure(name, argv, repeat))
    return timings


# Issue 5's targets at the largest size, as ratios to the baseline; every command also stays
# under MEMORY_MIB of peak memory.
TARGETS = {
    "check (cold cache)": 1.0,
    "check (warm cache)": 0.4,
    "list-batches": 0.3,
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
    head = "| command | " + " | ".join(f"{s:,} exp: s / ratio / MiB" for s in sizes)
    steps = list(pairwise(sizes))
    head += "".join(f" | {a:,} -> {b:,}: time x" for a, b in steps) + " | targets |"
    rows = [head, "|---" * (2 * len(sizes) + 1) + "|"]
    for i, timing in enumerate(results[sizes[0]]):
        cells = []
        for size in sizes:
            t = results[size][i]
            base = results[size][0].seconds
            cells.append(f"{t.seconds:.2f} / {t.seconds / base:.2f}x / {t.peak_mib:.0f}")
        for a, b in steps:
            cells.append(f"{results[b][i].seconds / results[a][i].seconds:.1f}")
        last = results[sizes[-1]][i]
        cells.append(_verdict(last, last.seconds / results[sizes[-1]][0].seconds))
        rows.append(f"| {timing.name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main() -> None:
    """Run the sizes, print the table, write benchmarks/results.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000", help="comma list of experiment counts")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", type=Path, default=HERE / "results.md")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {size: bench(size, args.repeat) for size in sizes}
    text = (
        f"# Benchmark results\n\n"
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}; page cache warm; median of {args.repeat} runs; "
        f"ratio = time / baseline time of the same size, in the same run; peak RSS in MiB. "
        f"Stores: 100 experiments per batch, {BATCH_LINKS} links per batch (half reused).\n\n"
        f"{table(results)}\n"
    )
    print(text)
    args.output.write_text(text)
    print(f"written to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
