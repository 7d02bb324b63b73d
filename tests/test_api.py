"""The public Python API (SPEC section 9, docs/api.md): frozen results with the fields of the
JSON the commands print, typed, cheap to import; the two examples of docs/api.md run."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE_ROOT, PROJECT, TEMP, TOPP, Cli

import batchcheck
from batchcheck import NotFound, UsageError

DOC = PROJECT / "docs" / "api.md"
BATCH = "batch_20250106_topp_sweep"


def plain(value: Any) -> Any:
    """A result as the JSON the command prints (tuples as lists)."""
    return json.loads(json.dumps(dataclasses.asdict(value)))


@pytest.fixture
def store(seed_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> batchcheck.Store:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BATCHCHECK_ROOT", raising=False)
    return batchcheck.open_store()


def test_lookups_match_the_json_of_their_commands(store: batchcheck.Store, cli: Cli) -> None:
    assert store.root == Path.cwd() / "Data_v2" / "synthetic"
    batches = cli("list-batches", "--format", "json").json()["batches"]
    assert [plain(b) for b in store.batches()] == batches
    shared = cli("list-shared-experiments", "--format", "json").json()
    flat = [{**e, "dataset": d["name"]} for d in shared["datasets"] for e in d["experiments"]]
    by_key = {(e["dataset"], e["name"]): e for e in flat}
    assert {(e.dataset, e.name): plain(e) for e in store.experiments()} == by_key
    assert {e.dataset for e in store.experiments("CB")} == {"CB"}
    path = f"Data_v2/synthetic/{TOPP}/Copa/temp07_topp09_gpt4o/Copa"
    assert plain(store.resolve(path)) == cli("resolve-data-path", path, "--format", "json").json()
    for argv, kwargs in (
        ((), {}),
        (("--batch", TEMP, "--absolute"), {"batch": TEMP, "absolute": True}),
        (("--dataset", "CB"), {"dataset": "CB"}),
    ):
        doc = cli("list-data-paths", *argv, "--format", "json").json()
        assert [plain(p) for p in store.data_paths(**kwargs)] == doc["data_paths"]
    check = cli("check", "--format", "json").json()
    result = plain(store.check())
    for finding in result["findings"]:  # the JSON names a line only for a config's finding
        assert finding.pop("line") is None
    assert result == check
    assert store.check().ok is False  # the seed's two dangling links
    assert {f.code for f in store.check(select="BC305").findings} == {"BC305"}
    assert store.check(select=["BC4", "BC305"]).summary["errors"] == 0


def test_results_are_frozen_and_errors_are_the_command_lines(store: batchcheck.Store) -> None:
    batch = store.batches()[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        batch.name = "x"  # type: ignore[misc]
    with pytest.raises(NotFound, match="outside the store"):
        store.resolve("/nowhere")
    with pytest.raises(NotFound, match="unknown batch 'batch_20250101_x'"):
        store.data_paths(batch="batch_20250101_x")
    with pytest.raises(UsageError, match="unknown rule code 'BC999'"):
        store.check(select="BC999")
    with pytest.raises(UsageError, match="expected Dataset/experiment"):
        store.add("Copa", "out", {})
    with pytest.raises(UsageError, match="is not a directory"):
        batchcheck.open_store("nowhere")


def test_plan_add_and_link(store: batchcheck.Store, tmp_path: Path) -> None:
    (tmp_path / "sweep.yaml").write_text(
        "datasets: [Copa]\ngeneration: {model: gpt-4o, temperature: 0.7, max_tokens: 256}\n"
        "validation: {model: gpt-4o, temperature: 0.0}\nsweep: {top_p: [0.6, 0.9]}\n"
    )
    plan = store.plan("sweep.yaml", BATCH)
    assert [c.status for c in plan.configurations] == ["generate", "reuse"]
    (config,) = plan.to_generate
    assert config.metadata is not None and config.near_misses[0].differing == 1
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "train.jsonl").write_text("{}\n")
    added = store.add(f"Copa/{config.experiment_name}", "out", config.metadata, dry_run=True)
    assert (added.action, added.done) == ("add", False)
    added = store.add(f"Copa/{config.experiment_name}", "out", config.metadata, batch=BATCH)
    assert (added.action, added.done) == ("add", True)
    assert added.link is not None and added.link.links[0].created
    again = store.add(f"Copa/{config.experiment_name}", "out", config.metadata, batch=BATCH)
    assert again.action == "present"
    linked = store.link(BATCH, ["Copa/temp07_topp09_gpt4o"])
    assert [step.action for step in linked.links] == ["create"]
    assert linked.check is not None and linked.check.summary["errors"] == 0
    applied = store.plan("sweep.yaml", BATCH, apply=True)
    assert applied.applied and applied.summary["reuse"] == 2


def test_import_batchcheck_is_cheap_and_the_package_is_typed() -> None:
    probe = (
        "import sys, batchcheck; print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('yaml', 'jsonschema', 'fastjsonschema', 'deepdiff', 'jinja2', 'batchcheck')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out == "['batchcheck', 'batchcheck.fingerprint']\n"  # the API comes on first use
    assert (PROJECT / "batchcheck" / "py.typed").is_file()
    assert '"py.typed"' in (PROJECT / "pyproject.toml").read_text()
    for name in batchcheck.__all__:
        assert getattr(batchcheck, name) is not None, name
    with pytest.raises(AttributeError):
        batchcheck.nothing  # type: ignore[attr-defined]  # noqa: B018


def examples() -> dict[str, str]:
    """The code blocks of docs/api.md marked ``<!-- example: NAME -->``."""
    text = DOC.read_text("utf-8")
    return dict(re.findall(r"<!-- example: (\w+) -->\n```python\n(.*?)```", text, re.S))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A data repository: the example store and sweeps, and a pyproject.toml naming the store."""
    shutil.copytree(PROJECT / "examples", tmp_path / "examples", symlinks=True)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.batchcheck]\nroot = "examples/Data_v2/synthetic"\n'
    )
    return tmp_path


def run_example(name: str, cwd: Path) -> str:
    """Run a docs/api.md example as its own process; the training example loads the data with
    the real Hugging Face ``datasets`` (a dev dependency), offline, its cache in ``cwd``."""
    env = {k: v for k, v in os.environ.items() if k != "BATCHCHECK_ROOT"}
    env.update(HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1", HF_HOME=str(cwd / "hf-home"))
    proc = subprocess.run(
        [sys.executable, "-c", examples()[name]], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_the_training_example_runs(project: Path) -> None:
    out = run_example("training", project)
    store = project / "examples" / "Data_v2" / "synthetic"
    assert out.splitlines() == [
        f"temp05_topp10_gpt4o: 4 examples from {store}/{TEMP}/Copa/temp05_topp10_gpt4o/Copa",
        f"temp07_topp10_gpt4o: 4 examples from {store}/{TEMP}/Copa/temp07_topp10_gpt4o/Copa",
        f"temp09_topp10_gpt4o: 4 examples from {store}/{TEMP}/Copa/temp09_topp10_gpt4o/Copa",
    ]


def test_the_pipeline_example_runs(project: Path, cli: Cli) -> None:
    out = run_example("pipeline", project)
    assert "add: examples/Data_v2/synthetic/_shared/Copa/temp07_topp06_gpt4o\n" in out
    assert "add: examples/Data_v2/synthetic/_shared/Copa/temp07_topp07_gpt4o\n" in out
    assert out.endswith(f"{BATCH}: 4 configurations, all linked\n")
    store = project / "examples" / "Data_v2" / "synthetic"
    assert sorted(os.listdir(store / BATCH / "Copa")) == [
        "temp07_topp06_gpt4o",
        "temp07_topp07_gpt4o",
        "temp07_topp08_gpt4o",
        "temp07_topp09_gpt4o",
    ]
    assert cli("check", "--root", str(store), "--format", "json").json()["summary"]["errors"] == 0
    again = run_example("pipeline", project)  # run again: nothing left to generate
    assert "add:" not in again and again.endswith("all linked\n")
    assert EXAMPLE_ROOT.is_dir()
