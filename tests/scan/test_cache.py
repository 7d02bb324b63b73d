"""The caches never change a result: a warm run says exactly what a run without cache says.

Both caches refuse anything touched within ``RACY_NS`` (2 s) of a run, ctime included, and no
``os.utime`` can set a ctime back. So the module's stores are all built first and then aged
once, by one wait in the fixture; every later change in a test is then a change the cache must
see, however well it hides its mtime and size. The library-level tests use fresh stores and
move ``started_ns`` forward instead of waiting.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    AUDIT,
    PROJECT,
    TEMP,
    TOPP,
    Cli,
    Result,
    experiment,
    generated,
    link,
    make_tree,
    run_script,
    seed_spec,
)

from batchcheck import records
from batchcheck.config import load_settings
from batchcheck.engine import run_check
from batchcheck.findings import Selection
from batchcheck.forking import PARALLEL_MIN
from batchcheck.result_cache import ResultCache
from batchcheck.scan import ScanOptions, scan_stamped
from batchcheck.scan.cache import RACY_NS, ScanCache
from batchcheck.scan.experiments import ReadOptions, read_experiment

META = "experiment_metadata.json"
# Enough experiments for the scan to read them in worker processes.
EXPERIMENTS, BATCHES, LINKS = 5000, 25, 200


def base_spec() -> dict[str, Any]:
    """The seed's tree (two dangling links), an experiment with an empty data folder (BC304)
    and a dataset folder that holds no experiment yet."""
    spec = seed_spec()
    spec.update(experiment("CB", "temp09_topp10_gpt4o", TEMP, 0.9, 1.0))
    del spec["_shared/CB/temp09_topp10_gpt4o/CB/train.jsonl"]
    spec["_shared/CB/temp09_topp10_gpt4o/CB"] = None
    spec.update(link(TEMP, "CB", "temp09_topp10_gpt4o"))
    spec["_shared/RTE"] = None
    return spec


def edit_in_place(path: Path, old: bytes, new: bytes) -> None:
    """Change bytes of a file keeping its size, inode and mtime: only the ctime tells."""
    assert len(old) == len(new)
    before = os.stat(path)
    path.write_bytes(path.read_bytes().replace(old, new, 1))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )


def replace_by_rename(path: Path, old: bytes, new: bytes) -> None:
    """Save as editors do (a new file renamed over the old one), keeping size and mtime."""
    before = os.stat(path)
    tmp = path.with_name(".edit.tmp")
    tmp.write_bytes(path.read_bytes().replace(old, new, 1))
    os.utime(tmp, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(tmp, path)


# What a change does to a store, and the finding (code, path under the root) it must cause.
Change = Callable[[Path], tuple[str, str]]


def _edit_metadata(root: Path) -> tuple[str, str]:
    rel = "_shared/Copa/temp05_topp10_gpt4o"
    edit_in_place(root / rel / META, b'"max_tokens": 256', b'"max_tokens": 512')
    return "BC202", rel


def _rename_metadata(root: Path) -> tuple[str, str]:
    rel = "_shared/Copa/temp09_topp10_gpt4o"
    replace_by_rename(root / rel / META, b'"max_tokens": 256', b'"max_tokens": 512')
    return "BC202", rel


def _add_dangling_link(root: Path) -> tuple[str, str]:
    make_tree(root, link(TOPP, "Copa", "temp03_topp10_gpt4o"))
    return "BC101", f"{TOPP}/Copa/temp03_topp10_gpt4o"


def _delete_experiment(root: Path) -> tuple[str, str]:
    shutil.rmtree(root / "_shared/Copa/temp09_topp10_gpt4o")
    return "BC101", f"{TEMP}/Copa/temp09_topp10_gpt4o"


def _empty_data_folder(root: Path) -> tuple[str, str]:
    rel = "_shared/CB/temp07_topp10_gpt4o"
    (root / rel / "CB" / "train.jsonl").unlink()
    return "BC304", rel


def _retarget_link(root: Path) -> tuple[str, str]:
    """``ln -sfn`` as scripts do it: a new symlink renamed over the old one."""
    rel = f"{TEMP}/Copa/temp05_topp10_gpt4o"
    tmp = root / TEMP / "Copa" / ".retarget.tmp"
    tmp.symlink_to("../../_shared/CB/temp07_topp10_gpt4o")
    os.replace(tmp, root / rel)
    return "BC102", rel


def _fill_empty_dataset(root: Path) -> tuple[str, str]:
    make_tree(root, experiment("RTE", "temp05_topp10_gpt4o", TEMP, 0.5, 1.0))
    return "BC401", "_shared/RTE/temp05_topp10_gpt4o"


CHANGES: dict[str, Change] = {
    "metadata edited in place, same size and mtime": _edit_metadata,
    "metadata replaced by a rename, same size and mtime": _rename_metadata,
    "dangling link added to a batch": _add_dangling_link,
    "link retargeted in place": _retarget_link,
    "linked experiment deleted": _delete_experiment,
    "data folder emptied": _empty_data_folder,
    "experiment added to a dataset folder that had none": _fill_empty_dataset,
}


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``base`` (never changed), one copy per change, and a generated store of 5000."""
    top = tmp_path_factory.mktemp("cache-stores")
    made = {name: make_tree(top / f"s{i}", base_spec()) for i, name in enumerate(CHANGES)}
    made["base"] = make_tree(top / "base", base_spec())
    made["parallel"] = generated(top / "parallel", EXPERIMENTS, BATCHES, LINKS)
    # The one wait of this file: a cache trusts only what is older than RACY_NS (see above).
    time.sleep(RACY_NS / 1e9 + 0.1)
    return made


def findings(result: Result) -> set[tuple[str, str]]:
    """(code, path) of every finding of a ``check --format json`` run from the root."""
    return {(f["code"], f["path"]) for f in result.json()["findings"]}


def cache_files(cache: Path) -> list[str]:
    """The kinds of cache file written: ``scan`` (reads), ``links`` (batch folder listings)
    and ``check`` (results)."""
    if not cache.is_dir():
        return []
    return sorted(
        p.name.split(".")[1] if p.name.count(".") > 1 else "scan" for p in cache.iterdir()
    )


def audited(log: Path, root: Path, *argv: str) -> tuple[Result, Counter[str]]:
    """A real process under the audit hook: its result and the metadata files it opened."""
    proc = subprocess.run(
        [sys.executable, str(AUDIT), str(log), "--", "--root", str(root), *argv],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    events = log.read_text(encoding="utf-8").splitlines()
    opened = Counter(
        str(Path(e[5:]).parent.relative_to(root))
        for e in events
        if e.startswith("open ") and e.endswith(META)
    )
    return Result(proc.returncode, proc.stdout, proc.stderr), opened


# Commands whose whole-store scan uses the read cache (check also the result cache).
WARM = {
    "check text": ["check"],
    "check json": ["check", "--format", "json"],
    "check github": ["check", "--format", "github"],
    "list-shared-experiments": ["list-shared-experiments", "--verbose", "--format", "json"],
    "list-data-paths": ["list-data-paths", "--format", "json"],
    "list-batches": ["list-batches", "--verbose", "--format", "json"],
}


@pytest.mark.parametrize("argv", WARM.values(), ids=WARM.keys())
def test_a_warm_run_is_identical_and_opens_no_metadata(
    argv: list[str], stores: dict[str, Path], cli: Cli, tmp_path: Path
) -> None:
    root, cache = stores["base"], tmp_path / "cache"
    fresh = cli("--root", str(root), "--no-cache", *argv, cwd=root)
    cold = cli("--root", str(root), "--cache-dir", str(cache), *argv, cwd=root)
    # Without metadata a read costs no more than a cache lookup: no read cache is kept; every
    # command that reads all batches keeps their listings.
    kept = {
        "check": ["check", "links", "scan"],
        "list-data-paths": ["links"],
        "list-batches": ["links"],
    }.get(argv[0], ["scan"])
    assert cache_files(cache) == kept
    written = {p.name: p.stat().st_ino for p in cache.iterdir()} if kept else {}
    warm, opened = audited(tmp_path / "events.log", root, "--cache-dir", str(cache), *argv)
    assert cold == fresh
    assert warm == fresh
    # Everything came from the cache; only the github format reads the metadata file of an
    # experiment with a finding, for the line of the key (batchcheck.locating).
    with_findings = {"_shared/CB/temp09_topp10_gpt4o", "_shared/Copa/temp07_topp09_gpt4o"}
    assert set(opened) <= (with_findings if "github" in argv else set())
    events = (tmp_path / "events.log").read_text(encoding="utf-8").splitlines()
    listed = [e for e in events if e.startswith("scandir ")]
    assert not [e for e in listed if Path(e[8:]).parent.name.startswith("batch_")]  # nor links
    if kept:  # and nothing was rewritten (a rewrite replaces the file: a new inode)
        assert {p.name: p.stat().st_ino for p in cache.iterdir()} == written


def test_report_from_a_warm_cache_is_identical(
    stores: dict[str, Path], cli: Cli, tmp_path: Path
) -> None:
    root, cache = stores["base"], tmp_path / "cache"

    def report(name: str, *how: str) -> str:
        out = tmp_path / name
        result = cli("--root", str(root), *how, "report", "--format", "md", "--output", str(out))
        assert result.code == 0
        return (out / "index.md").read_text(encoding="utf-8")

    fresh = report("fresh", "--no-cache")
    assert report("cold", "--cache-dir", str(cache)) == fresh
    assert cache_files(cache) == ["links", "scan"]
    assert report("warm", "--cache-dir", str(cache)) == fresh


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_a_change_is_seen(change: str, stores: dict[str, Path], cli: Cli, tmp_path: Path) -> None:
    root, cache = stores[change], tmp_path / "cache"
    argv = ("--root", str(root), "--cache-dir", str(cache), "check", "--format", "json")
    before = cli(*argv, cwd=root)
    assert cache_files(cache) == ["check", "links", "scan"]  # the next run could take all from it
    expected = CHANGES[change](root)
    assert expected not in findings(before)
    after = cli(*argv, cwd=root)
    assert expected in findings(after)
    assert after == cli("--root", str(root), "--no-cache", "check", "--format", "json", cwd=root)


def test_parallel_reads_cache_and_see_every_change(stores: dict[str, Path], tmp_path: Path) -> None:
    """5000 experiments, read by worker processes: the same result warm, and each change seen
    while every unchanged experiment still comes from the cache."""
    assert EXPERIMENTS >= PARALLEL_MIN
    root, cache, log = stores["parallel"], tmp_path / "cache", tmp_path / "events.log"

    def fresh(*how: str) -> Result:
        argv = ("--root", str(root), *(how or ("--no-cache",)), "check", "--format", "json")
        return run_script(*argv, cwd=root)

    def warm() -> tuple[Result, Counter[str]]:
        return audited(log, root, "--cache-dir", str(cache), "check", "--format", "json")

    cold = fresh("--cache-dir", str(cache))
    assert cold.code == 0
    assert cold == fresh()
    result, opened = warm()
    assert result == cold
    assert not opened

    names = sorted(p.name for p in (root / "_shared" / "Copa").iterdir())
    edited, deleted = f"_shared/Copa/{names[0]}", f"_shared/Copa/{names[1]}"
    edit_in_place(root / edited / META, b'"max_tokens": 256', b'"max_tokens": 512')
    result, opened = warm()
    assert ("BC202", edited) in findings(result)
    assert opened == Counter({edited: 1})  # only the changed experiment is read again
    assert result == fresh()

    batch = sorted(p.name for p in root.glob("batch_*"))[-1]
    make_tree(root, link(batch, "Copa", "temp03_topp10_gpt4o_missing"))
    result, opened = warm()
    assert ("BC101", f"{batch}/Copa/temp03_topp10_gpt4o_missing") in findings(result)
    assert set(opened) <= {edited}
    assert result == fresh()

    links = {("BC101", str(p.relative_to(root))) for p in root.glob(f"batch_*/Copa/{names[1]}")}
    assert links
    shutil.rmtree(root / deleted)
    result, opened = warm()
    assert links <= findings(result)
    assert set(opened) <= {edited}
    assert result == fresh()


def test_no_cache_writes_no_cache_file_anywhere(stores: dict[str, Path], tmp_path: Path) -> None:
    root = stores["base"]
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    env = {
        "HOME": str(home),
        "XDG_CACHE_HOME": str(tmp_path / "xdg"),
        "BATCHCHECK_CACHE_DIR": str(tmp_path / "env-cache"),
    }
    for argv in (
        ["--no-cache", "check"],
        ["check", "--no-cache", "--cache-dir", str(tmp_path / "given")],
        ["--no-cache", "list-shared-experiments"],
        ["--no-cache", "list-data-paths"],
        ["--no-cache", "report", "--output", str(tmp_path / "work" / "reports")],
    ):
        result = run_script("--root", str(root), *argv, cwd=work, env=env)
        assert result.code in (0, 1), result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
    assert [p.name for p in work.iterdir()] == ["reports"]


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x00not a cache\xff" * 10)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _wrong_shape(path: Path) -> None:
    """A valid checksum over valid records, the format number right, nothing else."""
    fmt = {"format": records.FORMAT}
    rows = [{key: [1] for key in record} | fmt for record in records.read_records(path)]
    records.write_records(path, rows)


def _flipped_byte(path: Path) -> None:
    """One byte changed in a stored text (a severity, a state): still valid marshal."""
    raw = path.read_bytes()
    for word in (b"error", b"missing", b"ok"):
        if word in raw:
            path.write_bytes(raw.replace(word, word[:-1] + b"\x7f", 1))
            return
    raise AssertionError("no text to damage")


DAMAGE = {
    "truncated": _truncate,
    "garbage": _garbage,
    "empty": _empty,
    "wrong shape": _wrong_shape,
    "flipped byte in the result": _flipped_byte,
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_cache_file_is_ignored(
    damage: str, stores: dict[str, Path], cli: Cli, tmp_path: Path
) -> None:
    root, cache = stores["base"], tmp_path / "cache"
    argv = ("--root", str(root), "--cache-dir", str(cache), "check", "--format", "json")
    fresh = cli(*argv, cwd=root)
    files = sorted(cache.iterdir())
    assert len(files) == 3  # reads, batch listings, result
    for path in files:
        if damage != "flipped byte in the result" or path.name.endswith(".check.marshal"):
            DAMAGE[damage](path)
    assert cli(*argv, cwd=root) == fresh  # same result, nothing on stderr
    assert cli(*argv, cwd=root) == fresh  # and the rewritten cache is good again


@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_an_unwritable_cache_folder_does_not_fail_the_command(
    where: str, stores: dict[str, Path], cli: Cli, tmp_path: Path
) -> None:
    root = stores["base"]
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder\n", encoding="utf-8")
    cache = blocker if where == "a file" else blocker / "cache"
    fresh = cli("--root", str(root), "--no-cache", "check", "--format", "json", cwd=root)
    for _ in range(2):
        result = cli(
            "--root", str(root), "--cache-dir", str(cache), "check", "--format", "json", cwd=root
        )
        assert result == Result(fresh.code, result.out, "")
        assert findings(result) == findings(fresh)
    assert blocker.read_text(encoding="utf-8") == "not a folder\n"


SETTINGS = {
    "all rules": ["check", "--format", "json"],
    "one rule": ["check", "--format", "json", "--select", "BC101"],
    "no data": ["check", "--format", "json", "--no-data"],
    "ignore": ["check", "--format", "json", "--ignore", "BC1"],
    "listing": ["list-shared-experiments", "--verbose", "--format", "json"],
    "listing, one dataset": ["list-shared-experiments", "--dataset", "CB", "--format", "json"],
    "data paths": ["list-data-paths", "--format", "json"],
}


def test_each_setting_gets_its_own_result(
    stores: dict[str, Path], cli: Cli, tmp_path: Path
) -> None:
    """Runs with different settings share one cache folder, in both orders, each twice: every
    run says what a run without cache says (``check`` keeps fewer metadata fields than
    ``list-shared-experiments --verbose`` shows, ``--no-data`` skips BC304)."""
    root, cache = stores["base"], tmp_path / "cache"
    expected = {
        name: cli("--root", str(root), "--no-cache", *argv, cwd=root)
        for name, argv in SETTINGS.items()
    }
    assert len({r.out for r in expected.values()}) == len(SETTINGS)
    order = [*SETTINGS, *reversed(SETTINGS)]
    for name in order + order:
        got = cli("--root", str(root), "--cache-dir", str(cache), *SETTINGS[name], cwd=root)
        assert got == expected[name], name


def test_a_changed_schema_or_severity_in_pyproject_is_seen(
    stores: dict[str, Path], tmp_path: Path
) -> None:
    """Real processes: a process remembers the schema it loaded, a new run must not."""
    root, cache = stores["base"], tmp_path / "cache"
    schema = json.loads((PROJECT / "batchcheck" / "metadata_schema.json").read_text("utf-8"))
    (tmp_path / "schema.json").write_text(json.dumps(schema), encoding="utf-8")

    def configure(severity: str) -> None:
        (tmp_path / "pyproject.toml").write_text(
            f'[tool.batchcheck]\nroot = "{root}"\nmetadata_schema = "schema.json"\n'
            f'severity = {{ BC101 = "{severity}" }}\n',
            encoding="utf-8",
        )

    def check(*how: str) -> Result:
        return run_script(*how, "check", "--format", "json", cwd=tmp_path)

    def severities(result: Result) -> set[str]:
        return {f["severity"] for f in result.json()["findings"] if f["code"] == "BC101"}

    configure("error")
    first = check("--cache-dir", str(cache))
    assert severities(first) == {"error"}
    assert check("--cache-dir", str(cache)) == first
    configure("warning")
    assert severities(check("--cache-dir", str(cache))) == {"warning"}
    schema["required"] = [*schema["required"], "owner"]
    (tmp_path / "schema.json").write_text(json.dumps(schema), encoding="utf-8")
    warm = check("--cache-dir", str(cache))
    assert "BC302" in {f["code"] for f in warm.json()["findings"]}
    assert warm == check("--no-cache")


def test_scan_cache_round_trip_gives_equal_reads(tmp_path: Path) -> None:
    """A fresh store: nothing is written while it is racy; with the run's start moved past
    RACY_NS every read is written and comes back equal."""
    root = make_tree(tmp_path / "store", base_spec())
    options = ReadOptions()
    reads = {
        f"{folder.parent.name}/{folder.name}": read_experiment(
            folder, folder.parent.name, options, stamped=True
        )
        for folder in sorted(root.glob("_shared/*/*"))
    }
    assert len(reads) == 5
    assert all(read.signature is not None for read in reads.values())

    racy = ScanCache(tmp_path / "cache", root, options)
    racy.save(reads.items())
    assert ScanCache(tmp_path / "cache", root, options).load() == {}

    settled = ScanCache(tmp_path / "cache", root, options)
    settled.started_ns += RACY_NS + 1_000_000_000
    settled.save(reads.items())
    assert ScanCache(tmp_path / "cache", root, options).load() == reads
    other = ReadOptions(data=False)
    assert ScanCache(tmp_path / "cache", root, other).load() == {}  # keyed by the options


@pytest.mark.parametrize("io", ["inline", "threads"])
def test_result_cache_round_trip_and_a_change(tmp_path: Path, io: str) -> None:
    """The stamps are taken again here or on the I/O threads: the same answers."""
    root = make_tree(tmp_path / "store", base_spec())
    settings = load_settings(str(root), tmp_path)
    # With a cache folder the scan stamps every experiment, which the result cache needs.
    options = ScanOptions.from_settings(settings, cache_dir=tmp_path / "cache", io=io)
    store, stamps = scan_stamped(root, options)
    result = run_check(store, settings, Selection())
    assert result.findings

    def cache() -> ResultCache:
        made = ResultCache(tmp_path / "cache", root, options.read, "all rules")
        made.started_ns += RACY_NS + 1_000_000_000
        return made

    cache().save(store, stamps, result)
    assert cache().lookup(options) == result
    assert ResultCache(tmp_path / "cache", root, options.read, "other").lookup(options) is None
    edit_in_place(
        root / "_shared/Copa/temp05_topp10_gpt4o" / META,
        b'"max_tokens": 256',
        b'"max_tokens": 512',
    )
    assert cache().lookup(options) is None
