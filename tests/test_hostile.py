"""A hostile store: findings and exit 1, never a traceback or a hang, and the tree untouched.

The check runs as a real process with a timeout. Folders made unreadable with chmod 000 stay
readable for root, so as root the process runs without the capabilities that bypass file
permissions (``setpriv``); where that is not possible the unreadable part is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import TEMP, TOPP, experiment, link, make_tree, snapshot

META = "experiment_metadata.json"
OUT = "batch_20250102_out"


def _prefix() -> list[str]:
    """As root, drop the capabilities that let root read a chmod-000 folder."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        return []
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--"]


def _run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "BATCHCHECK_ROOT"}
    return subprocess.run(
        [*_prefix(), sys.executable, *argv], cwd=cwd, env=env, capture_output=True, timeout=120
    )


def check(root: Path) -> tuple[int, set[tuple[str, str]], str]:
    """Run ``batchcheck check --format json`` on ``root``: exit code, findings, stderr."""
    proc = _run("-m", "batchcheck", "--root", str(root), "check", "--format", "json", cwd=root)
    err = proc.stderr.decode("utf-8")
    assert "Traceback" not in err
    assert len(err.splitlines()) <= 1, err
    found = json.loads(proc.stdout.decode("utf-8"))["findings"]
    return proc.returncode, {(f["code"], f["path"]) for f in found}, err


def hostile(root: Path) -> Path:
    """Everything a store should not hold, next to a few healthy experiments."""
    spec: dict[str, Any] = {}
    spec.update(experiment("Copa", "temp05_topp10_gpt4o", TEMP, 0.5, 1.0))
    spec.update(link(TEMP, "Copa", "temp05_topp10_gpt4o"))
    spec.update(link(TOPP, "Copa", "temp05_topp10_gpt4o"))
    for name in ("listed", "binary", "huge", "fifo", "deep", "surrogate"):
        spec.update(experiment("Copa", name, TEMP, 0.1, 1.0))
        spec.update(link(TEMP, "Copa", name))
    spec[f"_shared/Copa/listed/{META}"] = "[1, 2, 3]"
    spec[f"_shared/Copa/binary/{META}"] = bytes(range(256)) * 8
    spec[f"_shared/Copa/deep/{META}"] = "[" * 200_000
    spec[f"_shared/Copa/surrogate/{META}"] = json.dumps(
        experiment("Copa", "x", TEMP, 0.1, 1.0)[f"_shared/Copa/x/{META}"]
    ).replace('"x"', '"\\ud800 \\udcff"')
    spec[f"{TEMP}/Copa/etc"] = "-> /etc"
    spec[f"{TEMP}/Copa/loop"] = "-> loop"
    spec[f"{TEMP}/Copa/newline"] = "-> ../../_shared/Copa/two\nlines/"
    spec[f"{TEMP}/Copa/via"] = f"-> ../../{OUT}/Copa/out"
    spec[f"{OUT}/Copa/out"] = "-> ../../../../../../../../../.."
    make_tree(root, spec)
    os.truncate(root / f"_shared/Copa/huge/{META}", 64 * 1024 * 1024)  # sparse
    os.remove(root / f"_shared/Copa/fifo/{META}")
    os.mkfifo(root / f"_shared/Copa/fifo/{META}")
    os.mkfifo(root / TEMP / "Copa" / "pipe")
    raw = os.fsencode(root)
    os.mkdir(raw + b"/_shared/Copa/bad\xff_name")
    os.symlink(
        b"../../_shared/Copa/bad\xff_name/", raw + b"/" + TEMP.encode() + b"/Copa/bad\xff_name"
    )
    os.makedirs(raw + b"/batch_2024\xfe/Copa")
    os.symlink(b"../../_shared/Copa/gone\xfe/", raw + b"/batch_2024\xfe/Copa/gone\xfe")
    return root


def test_hostile_store(tmp_path: Path) -> None:
    root = hostile(tmp_path / "store")
    before = snapshot(root)
    code, found, _ = check(root)
    assert code == 1
    shared, temp = "_shared/Copa", f"{TEMP}/Copa"
    assert found == {
        ("BC302", f"{shared}/listed"),
        ("BC301", f"{shared}/binary"),
        ("BC301", f"{shared}/huge"),
        ("BC301", f"{shared}/fifo"),
        ("BC301", f"{shared}/deep"),
        ("BC301", f"{shared}/surrogate"),  # a lone surrogate: refused as it is read
        ("BC301", f"{shared}/bad\\xff_name"),
        ("BC304", f"{shared}/bad\\xff_name"),
        ("BC102", f"{temp}/etc"),
        ("BC103", f"{temp}/etc"),
        ("BC102", f"{temp}/loop"),
        ("BC101", f"{temp}/newline"),
        ("BC104", f"{temp}/newline"),
        ("BC102", f"{temp}/via"),
        ("BC102", f"{OUT}/Copa/out"),
        ("BC105", f"{temp}/pipe"),
        ("BC101", "batch_2024\\xfe/Copa/gone\\xfe"),
        ("BC402", "batch_2024\\xfe"),
    }
    assert snapshot(root) == before


def test_unreadable_folders(tmp_path: Path) -> None:
    spec: dict[str, Any] = {}
    spec.update(experiment("Copa", "temp05_topp10_gpt4o", TEMP, 0.5, 1.0))
    spec.update(experiment("Copa", "locked", TEMP, 0.1, 1.0))
    spec.update(experiment("Locked", "temp05_topp10_gpt4o", TEMP, 0.5, 1.0))
    for key in (("Copa", "temp05_topp10_gpt4o"), ("Copa", "locked")):
        spec.update(link(TEMP, *key))
    spec.update(link("batch_20250101_locked", "Copa", "temp05_topp10_gpt4o"))
    root = make_tree(tmp_path / "store", spec)
    locked = [
        root / "_shared/Copa/locked",
        root / "_shared/Locked",
        root / "batch_20250101_locked/Copa",
    ]
    for path in locked:
        path.chmod(0)
    try:
        probe = _run("-c", "import os, sys; os.listdir(sys.argv[1])", str(locked[0]), cwd=root)
        if probe.returncode == 0:
            pytest.skip("chmod 000 does not stop this user from reading (root without setpriv)")
        before = snapshot(root)
        code, found, _ = check(root)
        assert code == 1
        assert found == {
            ("BC301", "_shared/Copa/locked"),
            ("BC301", "_shared/Locked"),
            ("BC105", "batch_20250101_locked/Copa"),
        }
        assert snapshot(root) == before
    finally:
        for path in locked:
            path.chmod(0o755)
