"""kill -9 at random moments of a real ``batchcheck add`` process (fixed seed, bounded count):
afterwards the store holds no experiment or a whole one, no data is lost, and a rerun
finishes (or says there is nothing to do)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import TOPP, Cli, make_tree, store_spec

from batchcheck import fingerprint

BATCH = "batch_20250106_topp_sweep"
NEW = "temp07_topp06_gpt4o"
FILES = 400  # enough that copying them in takes a while to be killed in the middle of


def digest(folder: Path) -> dict[str, str]:
    """Relative path -> content hash of every file under ``folder`` (links by their target)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store, a metadata file and generated data, copied afresh for every trial."""
    base = tmp_path_factory.mktemp("crash-template")
    spec = store_spec(
        [("Copa", "temp07_topp08_gpt4o", TOPP, 0.7, 0.8)], [(TOPP, "Copa", "temp07_topp08_gpt4o")]
    )
    make_tree(base / "Data_v2" / "synthetic", spec)
    generation = {"model": "gpt-4o", "temperature": 0.7, "top_p": 0.6, "max_tokens": 256}
    meta = {
        "dataset": "Copa",
        "experiment_name": NEW,
        "original_batch": BATCH,
        "generation": generation,
        "validation": {"model": "gpt-4o", "temperature": 0.0},
    }
    (base / "meta.json").write_text(json.dumps(meta))
    data = {f"out/part{i // 100}/row{i}.jsonl": f'{{"i": {i}}}\n' * 20 for i in range(FILES)}
    make_tree(base, {**data, "out/annexed.jsonl": "-> part0/row0.jsonl"})
    return base


def command(copy: bool) -> list[str]:
    argv = [sys.executable, "-m", "batchcheck", "add", f"Copa/{NEW}", "--from", "out"]
    argv += ["--metadata", "meta.json", "--batch", BATCH]
    return argv + (["--copy"] if copy else [])


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "BATCHCHECK_ROOT"}


def assert_whole(work: Path, source: dict[str, str], copy: bool) -> None:
    """No experiment or a whole one; the link only to a whole one; the data somewhere, whole."""
    shared = work / "Data_v2" / "synthetic" / "_shared" / "Copa"
    final = shared / NEW
    places = []
    if final.exists():
        meta = json.loads((final / "experiment_metadata.json").read_text())
        assert meta["parameter_fingerprint"] == fingerprint(meta)
        assert digest(final / "Copa") == source
        places.append(final)
    link = work / "Data_v2" / "synthetic" / BATCH / "Copa" / NEW
    if os.path.lexists(link):
        assert final.exists() and link.resolve() == final.resolve()
    if (work / "out").exists():
        assert digest(work / "out") == source  # a move is one rename: whole or not there
        places.append(work / "out")
    staged = [shared / name / "Copa" for name in os.listdir(shared) if name.startswith(".")]
    if not copy:
        places += [folder for folder in staged if folder.exists()]
        assert len(places) == 1, places  # moved data is in exactly one place


def test_kill_9_at_random_moments_leaves_the_store_whole(
    template: Path, tmp_path: Path, cli: Cli
) -> None:
    source = digest(template / "out")
    rnd = random.Random(15)
    # How long a whole run takes here, to spread the kills over it.
    calibrate = tmp_path / "calibrate"
    shutil.copytree(template, calibrate, symlinks=True)
    start = time.perf_counter()
    subprocess.run(command(True), cwd=calibrate, env=env(), check=True, capture_output=True)
    whole = time.perf_counter() - start
    killed_in_writes = 0
    for trial in range(10):
        copy = trial % 2 == 0
        work = tmp_path / f"trial{trial}"
        shutil.copytree(template, work, symlinks=True, copy_function=os.link)
        shared = work / "Data_v2" / "synthetic" / "_shared" / "Copa"
        proc = subprocess.Popen(
            command(copy), cwd=work, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if trial < 4:  # anywhere in the run
            time.sleep(rnd.uniform(0.3, 1.0) * whole)
        else:  # in the writes: once the stage appears, a moment later
            while proc.poll() is None and not any(n.startswith(".") for n in os.listdir(shared)):
                time.sleep(0.001)
            time.sleep(rnd.uniform(0, 0.02))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed_in_writes += any(n.startswith(".") for n in os.listdir(shared))
        assert_whole(work, source, copy)
        rerun = cli(
            "add",
            f"Copa/{NEW}",
            "--from",
            "out",
            "--metadata",
            "meta.json",
            "--batch",
            BATCH,
            *(["--copy"] if copy else []),
            "--format",
            "json",
            cwd=work,
        )
        assert rerun.code == 0, (trial, rerun.err)
        assert rerun.json()["action"] in ("add", "finish", "present")
        assert_whole(work, source, copy)
        assert sorted(os.listdir(shared)) == [NEW, "temp07_topp08_gpt4o"]  # no stage left
        check = cli("check", "--format", "json", cwd=work).json()
        assert check["summary"]["errors"] == 0, check["findings"]
    assert killed_in_writes >= 1  # at least one kill landed while the experiment was staged
