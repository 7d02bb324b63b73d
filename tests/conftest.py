"""Shared test helpers: real stores with real symlinks in tmp_path, and the real CLI."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from batchcheck import fingerprint
from batchcheck.cli import main

Spec = Mapping[str, Any]


def make_tree(root: Path, spec: Spec) -> Path:
    """Write ``spec`` under ``root``: ``"-> target"`` makes a symlink, a dict a JSON file
    (a metadata dict when the name is experiment_metadata.json), str/bytes a file, None a folder.
    """
    for rel, value in spec.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if value is None:
            path.mkdir(parents=True, exist_ok=True)
        elif isinstance(value, str) and value.startswith("-> "):
            os.symlink(value[3:], path)
        elif isinstance(value, bytes):
            path.write_bytes(value)
        elif isinstance(value, str):
            path.write_text(value, encoding="utf-8")
        else:
            path.write_text(json.dumps(value, indent=2, ensure_ascii=False), encoding="utf-8")
    return root


def metadata(
    dataset: str,
    name: str,
    original_batch: str,
    temperature: float = 0.7,
    top_p: float = 1.0,
    model: str = "gpt-4o",
    **extra: Any,
) -> dict[str, Any]:
    """Valid metadata with a correct fingerprint; ``extra`` overrides or adds top-level keys."""
    generation = {"model": model, "temperature": temperature, "top_p": top_p, "max_tokens": 256}
    validation = {"model": "gpt-4o", "temperature": 0.0}
    data: dict[str, Any] = {
        "experiment_name": name,
        "dataset": dataset,
        "created_at": "2024-12-29T10:30:00",
        "original_batch": original_batch,
        "parameter_fingerprint": fingerprint(
            {"dataset": dataset, "generation": generation, "validation": validation}
        ),
        "generation": generation,
        "validation": validation,
        "experiment_purpose": "temperature_study",
    }
    data.update(extra)
    return data


def experiment(
    dataset: str, name: str, original_batch: str, temperature: float, top_p: float, **extra: Any
) -> dict[str, Any]:
    """Spec entries for one shared experiment: metadata plus a non-empty training data folder."""
    base = f"_shared/{dataset}/{name}"
    return {
        f"{base}/experiment_metadata.json": metadata(
            dataset, name, original_batch, temperature, top_p, **extra
        ),
        f"{base}/{dataset}/train.jsonl": '{"premise": "p", "label": 0}\n',
    }


def link(batch: str, dataset: str, name: str) -> dict[str, str]:
    """Spec entry for a relative batch link to ``_shared/dataset/name/``."""
    return {f"{batch}/{dataset}/{name}": f"-> ../../_shared/{dataset}/{name}/"}


TEMP = "batch_20241229_temperature"
TOPP = "batch_20241230_topp"
PILOT = "batch_20241228_pilot"


def store_spec(
    experiments: Iterable[tuple[str, str, str, float, float]],
    links: Iterable[tuple[str, str, str]],
) -> dict[str, Any]:
    """A store's spec from its experiments ``(dataset, name, original_batch, temperature,
    top_p)`` and its links ``(batch, dataset, name)``."""
    spec: dict[str, Any] = {}
    for exp in experiments:
        spec.update(experiment(*exp))
    for batch, dataset, name in links:
        spec.update(link(batch, dataset, name))
    return spec


def seed_spec() -> dict[str, Any]:
    """The seed's tree exactly as drawn: four shared experiments, two batches, two dangling links
    (Copa/temp07_topp10_gpt4o and Copa/temp07_topp08_gpt4o are never stored)."""
    return store_spec(
        [
            ("Copa", "temp05_topp10_gpt4o", TEMP, 0.5, 1.0),
            ("Copa", "temp07_topp09_gpt4o", PILOT, 0.7, 0.9),
            ("Copa", "temp09_topp10_gpt4o", TEMP, 0.9, 1.0),
            ("CB", "temp07_topp10_gpt4o", TEMP, 0.7, 1.0),
        ],
        [
            (TEMP, "Copa", "temp05_topp10_gpt4o"),
            (TEMP, "Copa", "temp07_topp10_gpt4o"),
            (TEMP, "Copa", "temp09_topp10_gpt4o"),
            (TEMP, "CB", "temp07_topp10_gpt4o"),
            (TOPP, "Copa", "temp07_topp08_gpt4o"),
            (TOPP, "Copa", "temp07_topp09_gpt4o"),
        ],
    )


@pytest.fixture
def seed_store(tmp_path: Path) -> Path:
    """The seed's tree under ``tmp_path/Data_v2/synthetic`` (the default root)."""
    return make_tree(tmp_path / "Data_v2" / "synthetic", seed_spec())


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the metadata cache of every test run out of the user's cache folder."""
    os.environ["BATCHCHECK_CACHE_DIR"] = str(tmp_path_factory.mktemp("batchcheck-cache"))


PROJECT = Path(__file__).resolve().parent.parent
EXAMPLE_ROOT = PROJECT / "examples" / "Data_v2" / "synthetic"
README = PROJECT / "README.md"
BENCHMARKS = PROJECT / "benchmarks"
AUDIT = PROJECT / "tests" / "scale" / "audit_run.py"  # runs a command under an audit hook


def audited(
    root: Path, cwd: Path, *argv: str, timeout: int = 300
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run ``batchcheck --root ROOT --quiet ARGV`` from ``cwd`` under the audit harness
    (``tests/scale/audit_run.py``): the finished process, and every file system call it made
    from Python as ``<call> <absolute path>``."""
    fd, log = tempfile.mkstemp(prefix="batchcheck-audit-", suffix=".log")
    os.close(fd)
    try:
        proc = subprocess.run(
            [sys.executable, str(AUDIT), log, "--", "--root", str(root), "--quiet", *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
        )
        return proc, Path(log).read_text("utf-8").splitlines()
    finally:
        os.remove(log)


def generated(dest: Path, experiments: int, batches: int, links: int) -> Path:
    """A healthy store made by the benchmark generator (``benchmarks/generate.py``)."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    from generate import generate

    root: Path = generate(dest, experiments, batches, links)
    return root


def batch_links(root: Path) -> dict[str, str]:
    """Every link of the store's batches: its path relative to ``root`` -> its target text."""
    return {
        str(path.relative_to(root)): os.readlink(path)
        for path in sorted(root.glob("batch_*/*/*"))
        if path.is_symlink()
    }


Snapshot = dict[bytes, tuple[Any, ...]]


def snapshot(root: Path, skip: Path | None = None) -> Snapshot:
    """Type, mode, size, mtime and link target or content hash of every entry under ``root``
    (symlinks not followed, a fifo never opened, ``skip`` left out); a folder that cannot be
    listed is recorded as such. Equal snapshots: nothing was changed or lost."""
    out: Snapshot = {}
    left_out = os.fsencode(skip) if skip is not None else None

    def walk(path: bytes) -> Iterator[bytes]:
        yield path
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            return
        try:
            names = sorted(os.listdir(path))
        except PermissionError:
            return
        for name in names:
            child = os.path.join(path, name)
            if child != left_out:
                yield from walk(child)

    for path in walk(os.fsencode(root)):
        st = os.lstat(path)
        extra: Any = None
        if stat.S_ISLNK(st.st_mode):
            extra = os.readlink(path)
        elif stat.S_ISREG(st.st_mode):
            with open(path, "rb") as handle:
                extra = hashlib.file_digest(handle, "sha256").hexdigest()
        out[path] = (stat.S_IFMT(st.st_mode), st.st_mode, st.st_size, st.st_mtime_ns, extra)
    return out


@dataclass
class Result:
    """What a CLI run printed and returned."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """stdout parsed as JSON."""
        return json.loads(self.out)


Cli = Callable[..., Result]


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., Result]:
    """Run ``batchcheck.cli.main`` in-process from ``cwd`` (default tmp_path), env root unset."""
    monkeypatch.delenv("BATCHCHECK_ROOT", raising=False)

    def run(*argv: str, cwd: Path | None = None) -> Result:
        monkeypatch.chdir(cwd or tmp_path)
        code = main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def run_script(*argv: str, cwd: Path, env: Mapping[str, str] | None = None) -> Result:
    """Run the installed console entry point as a real process (``python -m batchcheck``)."""
    full_env = {k: v for k, v in os.environ.items() if k != "BATCHCHECK_ROOT"}
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "batchcheck", *argv],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


GIT_ENV = {
    "GIT_AUTHOR_NAME": "batchcheck tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "batchcheck tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
}


def git(*args: str, cwd: Path, data: str | None = None) -> str:
    """Run git with a test identity (no signing), ``data`` on its stdin; return its stdout."""
    proc = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        input=data,
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ``PRE_COMMIT_HOME`` for the session's ``pre-commit try-repo`` runs: the hook's
    environment (batchcheck, OmegaConf) is installed once, not once per test."""
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This project as a hook repository for ``pre-commit try-repo``: one commit of its files
    as they are now (tracked and untracked, not ignored), so uncommitted work is what runs."""
    if not (PROJECT / ".git").exists():
        pytest.skip("the project is not a git checkout")
    dest = tmp_path_factory.mktemp("hook-repo")
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=PROJECT)
    for rel in filter(None, listed.split("\0")):
        if os.path.lexists(PROJECT / rel):  # a tracked file deleted in the work tree is skipped
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT / rel, dest / rel, follow_symlinks=False)
    git("init", "-q", cwd=dest)
    git("add", "-A", cwd=dest)
    git("commit", "-q", "-m", "snapshot", cwd=dest)
    return dest
