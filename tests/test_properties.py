"""Property-based: random stores that mix healthy experiments with hostile elements, run
through the commands, and hostile input files (training configs, sweeps, files to
fingerprint) given to the commands that read them. Whatever the store or the file holds:

- the exit status is 0, 1 or 2, never 3 (no traceback, no "internal error");
- stderr is at most one line per failure (warnings aside, one line in all);
- the store is unchanged, byte for byte, modes and mtimes too;
- ``check --format json`` parses, and every finding is complete;
- no control character reaches stderr, text output or a page of the report raw (a name or a
  link target holding one is shown escaped).

``make test`` runs a fixed, bounded set of examples (``derandomize``); ``make fuzz`` runs many
more, with a new seed each time (``BATCHCHECK_FUZZ_EXAMPLES``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
from pathlib import Path

from conftest import make_tree, metadata, seed_spec, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batchcheck.cli import main

EXAMPLES = int(os.environ.get("BATCHCHECK_FUZZ_EXAMPLES", "0"))
SETTINGS = settings(
    max_examples=EXAMPLES or 20,
    derandomize=not EXAMPLES,  # a fixed set in CI; fresh ones in ``make fuzz``
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DATASETS = ("Copa", "CB")
# What text output, the report's pages and stderr must never hold raw: control characters
# but the newline and the tab that layouts write themselves.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
NAMES = st.one_of(
    st.sampled_from(["temp07_topp10_gpt4o", "temp05_topp09_gpt4o", "x", "a b", "é"]),
    st.text(st.characters(codec="utf-8", exclude_characters="/\x00"), min_size=1, max_size=8),
    st.binary(min_size=1, max_size=6).filter(lambda b: b"/" not in b and b"\x00" not in b),
).filter(lambda n: n not in (".", "..", b".", b"..") and not str(n).startswith("."))
BAD_METADATA = st.one_of(
    st.binary(max_size=64),
    st.sampled_from(
        [
            b"",
            b"[1, 2]",
            b"{",
            b'{"a": ' * 150 + b"1" + b"}" * 150,
            b'{"generation": {"model": "gpt\\udfff"}}',
            b'{"generation": {"max_tokens": ' + b"9" * 400 + b"}}",
            b'{"generation": {"temperature": NaN}}',
            "\ufeff{}".encode(),
            json.dumps({"dataset": "Copa"}).encode("utf-16"),
        ]
    ),
)
TARGETS = st.one_of(
    st.sampled_from(
        [
            "../../_shared/{d}/{e}/",
            "../../_shared/{d}/{e}",
            "..//../_shared/./{d}/{e}",
            "/etc",
            "../../../../../../..",
            "loop",
            "../../_shared/{d}",
            "../../_shared/{d}/{e}/{d}",
            "../../_shared/{other}/{e}",
            "../../batch_x/{d}/{e}",
            "missing",
            "two\nlines",
        ]
    ),
    st.text(min_size=1, max_size=20).filter(lambda t: "\x00" not in t),
)


def _name(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogateescape")


@st.composite
def stores(draw: st.DrawFn) -> list[tuple[str, bytes, bytes | None]]:
    """A store as operations: ("dir"/"file"/"link"/"fifo", path, content or target)."""
    ops: list[tuple[str, bytes, bytes | None]] = [("dir", b"_shared", None)]
    experiments: list[tuple[str, bytes]] = []
    for _ in range(draw(st.integers(1, 5))):
        dataset = draw(st.sampled_from(DATASETS))
        name = _name(draw(NAMES))
        base = b"_shared/" + dataset.encode() + b"/" + name
        ops.append(("dir", base, None))
        kind = draw(st.sampled_from(["healthy", "healthy", "bad", "missing", "symlink", "fifo"]))
        meta = base + b"/experiment_metadata.json"
        if kind == "healthy":
            text = metadata(dataset, os.fsdecode(name), "batch_20241229_temperature")
            ops.append(("file", meta, json.dumps(text).encode()))
        elif kind == "bad":
            ops.append(("file", meta, draw(BAD_METADATA)))
        elif kind == "symlink":
            ops.append(("link", meta, b"/etc/passwd"))
        elif kind == "fifo":
            ops.append(("fifo", meta, None))
        if draw(st.booleans()):
            ops.append(("file", base + b"/" + dataset.encode() + b"/train.jsonl", b"{}\n"))
        experiments.append((dataset, name))
    for _ in range(draw(st.integers(0, 3))):
        batch = b"batch_2024122" + str(draw(st.integers(0, 9))).encode() + b"_" + _name(draw(NAMES))
        for _ in range(draw(st.integers(0, 4))):
            dataset, exp = draw(st.sampled_from(experiments))
            other = "CB" if dataset == "Copa" else "Copa"
            template = draw(TARGETS)
            target = (
                template.replace("{d}", dataset)
                .replace("{e}", os.fsdecode(exp))
                .replace("{other}", other)
            )
            name = exp if draw(st.booleans()) else _name(draw(NAMES))
            path = batch + b"/" + dataset.encode() + b"/" + name
            shape = draw(st.sampled_from(["link", "link", "link", "file", "dir", "pointer"]))
            if shape == "link":
                ops.append(("link", path, os.fsencode(target)))
            elif shape == "pointer":
                ops.append(("file", path, os.fsencode(target)))
            elif shape == "file":
                ops.append(("file", path, b"copied data"))
            else:
                ops.append(("dir", path, None))
    return ops


def _build(root: Path, ops: list[tuple[str, bytes, bytes | None]]) -> None:
    base = os.fsencode(root)
    for kind, rel, value in ops:
        path = base + b"/" + rel
        with contextlib.suppress(OSError):  # a name drawn twice: the first one stays
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if kind == "dir":
                os.makedirs(path, exist_ok=True)
            elif kind == "file":
                with open(path, "xb") as handle:
                    handle.write(value or b"")
            elif kind == "link":
                os.symlink(value or b"x", path)
            elif kind == "fifo":
                os.mkfifo(path)


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@SETTINGS
@given(ops=stores())
def test_every_command_on_a_random_hostile_store(
    ops: list[tuple[str, bytes, bytes | None]],
) -> None:
    work = Path(os.environ.get("BATCHCHECK_FUZZ_DIR", "/tmp")) / f"bc-fuzz-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    root = work / "store"
    root.mkdir(parents=True)
    try:
        _build(root, ops)
        before = snapshot(root)
        batches = sorted(n for n in os.listdir(root) if n.startswith("batch_"))
        shared = [
            f"{d}/{e}"
            for d in DATASETS
            if (root / "_shared" / d).is_dir()
            for e in sorted(os.listdir(root / "_shared" / d))
        ]
        commands = [
            ("check", "--format", "json"),
            ("check", "--no-data"),
            ("list-batches", "--verbose"),
            ("list-shared-experiments", "--verbose"),
            ("list-data-paths", "--format", "yaml"),
            ("report", "--output", str(work / "report")),
            *(("list-batch-experiments", b, "--verbose") for b in batches[:2]),
            *(("resolve-data-path", str(root / "_shared" / s)) for s in shared[:1]),
        ]
        if len(shared) >= 2:
            commands.append(("compare-experiments", "--shared", shared[0], "--shared", shared[1]))
        for argv in commands:
            code, out, err = _run("--root", str(root), "--no-cache", *argv)
            assert code in (0, 1, 2), (argv, code, err)
            assert "Traceback" not in err and "internal error" not in err, (argv, err)
            assert len(err.splitlines()) <= 1, (argv, err)
            assert not CONTROL.search(err), (argv, err)
            if "--format" not in argv:
                assert not CONTROL.search(out), (argv, out)
            if argv[:3] == ("check", "--format", "json"):
                findings = json.loads(out)["findings"]
                for f in findings:
                    assert set(f) >= {"code", "severity", "path", "message", "related"}, f
                    assert f["severity"] in ("error", "warning") and f["message"], f
        assert snapshot(root) == before
        for page in (work / "report").rglob("*.*"):
            assert not CONTROL.search(page.read_text("utf-8")), page
    finally:
        shutil.rmtree(work, ignore_errors=True)


# Pieces of YAML and JSON that have broken readers: keys that are lists or mappings, keys given
# twice, tags, aliases, nesting, characters YAML refuses, huge integers, interpolations.
PIECES = st.sampled_from(
    [
        "? [1, 2]\n: x\n",
        "? {a: 1}\n: x\n",
        "a: 1\na: 2\n",
        "a: !!python/object/apply:os.system [true]\n",
        "a: &x [*x]\n",
        "a: *nothing\n",
        "a: " + "[" * 120 + "]" * 120 + "\n",
        '{"a": ' * 120 + "1" + "}" * 120,
        'a: "\u0080"\n',
        "a: \u0085b\n",
        "a: " + "9" * 5000 + "\n",
        "data: ${oc.env:HOME}/Data_v2/synthetic/_shared/Copa/x\n",
        "data: ${missing}/x\ndir: ${data}\n",
        "data: Data_v2/synthetic/batch_*/Copa/*/Copa\n",
        "data: Data_v2/synthetic/../../../etc/passwd\n",
        "sweep: {top_p: [0.9]}\ndatasets: [Copa]\n",
        "sweep: {top_p: " + "[" * 60 + "]" * 60 + "}\ndatasets: [Copa]\n",
        "datasets: [Copa, ../x, '']\nsweep: {}\n",
        "\ufeffa: 1\n",
        "\t- a\n",
        "- [\n",
        "",
    ]
)
DOCUMENTS = st.one_of(
    st.binary(max_size=80),
    st.text(max_size=80),
    st.lists(PIECES, min_size=1, max_size=3).map("".join),
)


@SETTINGS
@given(body=DOCUMENTS, suffix=st.sampled_from([".yaml", ".json", ".yml"]))
def test_every_reader_of_a_hostile_input_file(body: str | bytes, suffix: str) -> None:
    """check-configs, plan and fingerprint on one drawn file: 0, 1 or 2, never 3, one line on
    stderr at most, the store and the file unchanged."""
    work = Path(os.environ.get("BATCHCHECK_FUZZ_DIR", "/tmp")) / f"bc-fuzz-file-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    try:
        root = make_tree(work / "Data_v2" / "synthetic", seed_spec())
        path = work / f"input{suffix}"
        path.write_bytes(body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass"))
        before = snapshot(work)
        for argv in (
            ("check-configs", str(path), "--format", "json"),
            ("plan", "--batch", "batch_20250101_fuzz", str(path)),
            ("fingerprint", str(path)),
        ):
            cwd = os.getcwd()
            os.chdir(work)
            try:
                code, out, err = _run("--root", str(root), "--no-cache", *argv)
            finally:
                os.chdir(cwd)
            assert code in (0, 1, 2), (argv, code, err)
            assert "Traceback" not in err and "internal error" not in err, (argv, err)
            assert len(err.splitlines()) <= 1, (argv, err)
            if argv[0] == "check-configs":
                for f in json.loads(out)["findings"]:
                    assert f["code"].startswith("BC50") and f["message"], f
        assert snapshot(work) == before
    finally:
        shutil.rmtree(work, ignore_errors=True)
