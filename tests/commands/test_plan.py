"""``batchcheck plan``: reuse vs generate, the three formats, ``--apply`` and its safety."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import (
    EXAMPLE_ROOT,
    PILOT,
    TEMP,
    TOPP,
    Result,
    experiment,
    make_tree,
    run_script,
    snapshot,
    store_spec,
)

from batchcheck import fingerprint

BATCH = "batch_20250106_topp_sweep"
REPO = EXAMPLE_ROOT.parents[2]

SWEEP = """\
experiment_purpose: top_p_study
datasets: [Copa]
generation: {model: gpt-4o, temperature: 0.7, max_tokens: 256}
validation: {model: gpt-4o, temperature: 0.0}
sweep:
  top_p: [0.6, 0.8, 0.9, 1.0]
"""


def plan_store() -> dict[str, Any]:
    """top_p 0.8 and 0.9 at temperature 0.7 exist (0.9 first made by the pilot); 0.6, 1.0 not."""
    return store_spec(
        [
            ("Copa", "temp07_topp08_gpt4o", TOPP, 0.7, 0.8),
            ("Copa", "temp07_topp09_gpt4o", PILOT, 0.7, 0.9),
            ("Copa", "temp05_topp10_gpt4o", TEMP, 0.5, 1.0),
        ],
        [
            (TOPP, "Copa", "temp07_topp08_gpt4o"),
            (TOPP, "Copa", "temp07_topp09_gpt4o"),
            (PILOT, "Copa", "temp07_topp09_gpt4o"),
            (TEMP, "Copa", "temp05_topp10_gpt4o"),
        ],
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "sweep.yaml").write_text(SWEEP, encoding="utf-8")
    return make_tree(tmp_path / "Data_v2" / "synthetic", plan_store())


def plan(cli: Callable[..., Result], *extra: str) -> Result:
    return cli("plan", "sweep.yaml", "--batch", BATCH, *extra)


def test_text_lists_reused_with_original_batch_and_the_rest_to_generate(
    cli: Callable[..., Result], root: Path
) -> None:
    result = plan(cli, "--no-emoji")
    assert result.code == 0, result.err
    assert "Configurations: 4 (2 reused, 2 to generate)" in result.out
    assert "  [R] temp07_topp08_gpt4o\n     Sweep values: top_p=0.8\n" in result.out
    assert "[R] Data reuse: Yes (original batch: batch_20241230_topp)" in result.out
    assert "[R] Data reuse: Yes (original batch: batch_20241228_pilot)" in result.out
    assert f"Batch view: {BATCH}/Copa/temp07_topp09_gpt4o (to link)" in result.out
    assert "[N] To generate: _shared/Copa/temp07_topp06_gpt4o" in result.out
    assert "[N] To generate: _shared/Copa/temp07_topp10_gpt4o" in result.out
    assert "To link: 2 reused configuration(s) (run again with --apply)" in result.out
    assert not (root / BATCH).exists()


def test_fingerprints_equal_those_of_the_real_metadata(
    cli: Callable[..., Result], root: Path
) -> None:
    doc = plan(cli, "--format", "json").json()
    by_name = {item["experiment_name"]: item for item in doc["configurations"]}
    for name in ("temp07_topp08_gpt4o", "temp07_topp09_gpt4o"):
        meta = json.loads((root / "_shared/Copa" / name / "experiment_metadata.json").read_text())
        assert by_name[name]["status"] == "reuse"
        assert by_name[name]["parameter_fingerprint"] == meta["parameter_fingerprint"]
        assert by_name[name]["original_batch"] == meta["original_batch"]
    assert by_name["temp07_topp06_gpt4o"]["status"] == "generate"
    assert by_name["temp07_topp06_gpt4o"]["link"] is None
    assert doc["summary"] == {"configurations": 4, "reuse": 2, "generate": 2, "linked_now": 0}
    assert doc["applied"] is False


def test_yaml_lists_only_what_to_generate_as_metadata_a_pipeline_writes(
    cli: Callable[..., Result], root: Path
) -> None:
    result = plan(cli, "--format", "yaml")
    assert result.code == 0, result.err
    doc = yaml.safe_load(result.out)
    assert doc["batch"] == BATCH
    assert [e["experiment"] for e in doc["generate"]] == [
        "Copa/temp07_topp06_gpt4o",
        "Copa/temp07_topp10_gpt4o",
    ]
    assert doc["generate"][0]["shared_path"] == "Data_v2/synthetic/_shared/Copa/temp07_topp06_gpt4o"
    entry = doc["generate"][0]["metadata"]
    assert entry["experiment_name"] == "temp07_topp06_gpt4o"
    assert entry["original_batch"] == BATCH
    assert entry["experiment_purpose"] == "top_p_study"
    assert "created_at" not in entry  # the pipeline's (or add's) to set
    assert entry["generation"] == {
        "model": "gpt-4o",
        "temperature": 0.7,
        "top_p": 0.6,
        "max_tokens": 256,
    }
    assert entry["parameter_fingerprint"] == fingerprint(entry)


def generate(root: Path, entries: list[dict[str, Any]]) -> None:
    """What a generation pipeline does with the yaml list: metadata plus data in _shared."""
    for entry in entries:
        meta = {**entry["metadata"], "created_at": "2025-01-06T12:00:00"}
        folder = root / "_shared" / meta["dataset"] / meta["experiment_name"]
        make_tree(
            folder, {"experiment_metadata.json": meta, f"{meta['dataset']}/train.jsonl": "{}\n"}
        )


def test_apply_creates_relative_links_that_resolve_then_checks_the_batch(
    cli: Callable[..., Result], root: Path
) -> None:
    result = plan(cli, "--apply")
    assert result.code == 0, result.err
    for name in ("temp07_topp08_gpt4o", "temp07_topp09_gpt4o"):
        entry = root / BATCH / "Copa" / name
        assert os.readlink(entry) == f"../../_shared/Copa/{name}/"
        assert entry.resolve() == (root / "_shared/Copa" / name).resolve()
    assert sorted(os.listdir(root / BATCH / "Copa")) == [
        "temp07_topp08_gpt4o",
        "temp07_topp09_gpt4o",
    ]
    assert "(linked now)" in result.out
    assert "Left to generate: 2 configuration(s)" in result.out
    assert f"Check of {BATCH}\n" in result.out
    assert "0 errors, 0 warnings" in result.out


def test_apply_is_idempotent_and_links_what_the_pipeline_generated(
    cli: Callable[..., Result], root: Path
) -> None:
    assert plan(cli, "--apply").code == 0
    first = snapshot(root)
    again = plan(cli, "--apply")
    assert again.code == 0, again.err
    assert snapshot(root) == first
    assert again.out.count("(already linked)") == 2
    assert "Linked 0 experiment(s) into" in again.out
    generate(root, yaml.safe_load(plan(cli, "--format", "yaml").out)["generate"])
    third = plan(cli, "--apply", "--format", "json")
    assert third.code == 0, third.err
    doc = third.json()
    assert doc["summary"]["reuse"] == 4 and doc["summary"]["linked_now"] == 2
    assert doc["check"]["summary"]["errors"] == 0
    assert sorted(os.listdir(root / BATCH / "Copa")) == [
        "temp07_topp06_gpt4o",
        "temp07_topp08_gpt4o",
        "temp07_topp09_gpt4o",
        "temp07_topp10_gpt4o",
    ]
    generated = json.loads(
        (root / "_shared/Copa/temp07_topp06_gpt4o/experiment_metadata.json").read_text()
    )
    assert generated["original_batch"] == BATCH  # the batch now holds it as newly generated
    final = plan(cli, "--no-emoji")
    assert "Configurations: 4 (2 reused, 2 generated for this batch, 0 to generate)" in final.out
    assert "  [E] temp07_topp06_gpt4o\n" in final.out
    assert "[R] Data reuse: No (newly generated)" in final.out
    assert "[OK] Nothing to generate or link" in final.out


def test_a_configuration_stored_twice_reuses_the_conventional_name_and_names_the_other(
    cli: Callable[..., Result], root: Path
) -> None:
    make_tree(root, experiment("Copa", "a_copy_of_topp08", TEMP, 0.7, 0.8))
    doc = plan(cli, "--format", "json").json()
    item = next(i for i in doc["configurations"] if i["sweep_values"] == {"top_p": 0.8})
    assert item["experiment_name"] == "temp07_topp08_gpt4o"
    assert item["also_stored_as"] == ["a_copy_of_topp08"]


def test_apply_with_nothing_to_link_creates_no_empty_batch(
    cli: Callable[..., Result], root: Path
) -> None:
    (root.parents[1] / "sweep.yaml").write_text(SWEEP.replace("0.6, 0.8, 0.9, 1.0", "0.6"))
    result = plan(cli, "--apply")
    assert result.code == 0, result.err
    assert "Left to generate: 1 configuration(s)" in result.out
    assert not (root / BATCH).exists()


def test_dry_run_shows_what_would_change_and_writes_nothing(
    cli: Callable[..., Result], root: Path
) -> None:
    before = snapshot(root)
    result = plan(cli, "--apply", "--dry-run")
    assert result.code == 0, result.err
    assert "(to link)" in result.out
    assert "dry run: nothing written" in result.out
    assert plan(cli, "--dry-run").out == result.out
    assert snapshot(root) == before


@pytest.mark.parametrize(
    ("spec", "detail"),
    [
        ({f"{BATCH}/Copa/temp07_topp08_gpt4o/copy.jsonl": "{}"}, "a real folder holds the name"),
        (
            {f"{BATCH}/Copa/temp07_topp08_gpt4o": "-> ../../_shared/Copa/temp05_topp10_gpt4o/"},
            "a link to ../../_shared/Copa/temp05_topp10_gpt4o/ (ok) holds the name",
        ),
        (
            {f"{BATCH}/Copa/temp07_topp08_gpt4o": "-> ../../_shared/Copa/gone/"},
            "(dangling) holds the name",
        ),
        ({f"{BATCH}/Copa": "not a folder"}, "Copa is a file, not a folder"),
        ({BATCH: "not a folder"}, f"{BATCH} is a file, not a folder"),
    ],
)
def test_a_conflicting_entry_is_reported_exit_1_and_nothing_changes(
    cli: Callable[..., Result], root: Path, spec: dict[str, str], detail: str
) -> None:
    make_tree(root, spec)
    before = snapshot(root)
    shown = plan(cli)
    assert shown.code == 0 and detail in shown.out and "cannot link" in shown.out
    assert plan(cli, "--apply", "--dry-run").code == 1
    result = plan(cli, "--apply")
    assert result.code == 1
    assert detail in result.out
    assert result.err.count("\n") == 1
    assert "cannot be linked" in result.err and "nothing was changed" in result.err
    assert snapshot(root) == before


@pytest.mark.parametrize(
    ("extra", "detail"),
    [
        ({"created_at": None}, "created_at: None is not of type 'string'"),
        ({"parameter_fingerprint": "0" * 32}, "BC202 stored fingerprint '000"),
        (
            {"experiment_name": "temp07_topp08_other"},
            "BC303 experiment_name is 'temp07_topp08_other'",
        ),
    ],
)
def test_a_target_without_valid_metadata_is_refused(
    cli: Callable[..., Result], root: Path, extra: dict[str, Any], detail: str
) -> None:
    make_tree(root, experiment("Copa", "temp07_topp08_gpt4o", TOPP, 0.7, 0.8, **extra))
    before = snapshot(root)
    result = plan(cli, "--apply")
    assert result.code == 1
    assert "cannot link: " in result.out and detail in result.out
    assert snapshot(root) == before


def test_an_experiment_linked_under_another_name_counts_as_linked(
    cli: Callable[..., Result], root: Path
) -> None:
    make_tree(root, {f"{BATCH}/Copa/topp08": "-> ../../_shared/Copa/temp07_topp08_gpt4o"})
    result = plan(cli, "--apply")
    assert result.code == 0, result.err
    assert "(already linked (linked as topp08))" in result.out
    assert sorted(os.listdir(root / BATCH / "Copa")) == ["temp07_topp09_gpt4o", "topp08"]


def test_a_taken_name_gets_a_fingerprint_suffix(cli: Callable[..., Result], root: Path) -> None:
    # Same name, other parameters (max_tokens): the new one must not collide with it.
    make_tree(root, experiment("Copa", "temp07_topp06_gpt4o", TEMP, 0.7, 0.6))
    meta_path = root / "_shared/Copa/temp07_topp06_gpt4o/experiment_metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["generation"]["max_tokens"] = 512
    meta["parameter_fingerprint"] = fingerprint(meta)
    meta_path.write_text(json.dumps(meta))
    doc = yaml.safe_load(plan(cli, "--format", "yaml").out)
    names = [e["metadata"]["experiment_name"] for e in doc["generate"]]
    fp = doc["generate"][0]["metadata"]["parameter_fingerprint"]
    assert names == [f"temp07_topp06_gpt4o_{fp[:8]}", "temp07_topp10_gpt4o"]


def test_configurations_that_share_a_name_both_get_a_suffix(
    cli: Callable[..., Result], root: Path
) -> None:
    (root.parents[1] / "sweep.yaml").write_text(
        SWEEP.replace("top_p: [0.6, 0.8, 0.9, 1.0]", "top_p: [0.6]\n  max_tokens: [256, 512]")
    )
    entries = [e["metadata"] for e in yaml.safe_load(plan(cli, "--format", "yaml").out)["generate"]]
    assert [e["experiment_name"] for e in entries] == [
        f"temp07_topp06_gpt4o_{e['parameter_fingerprint'][:8]}" for e in entries
    ]


@pytest.mark.parametrize(
    "batch",
    [
        "batch_2025_x",
        "batch_20250230_x",
        "batch_20250106_",
        "batch_20250106_a b",
        "sweep",
        "batch_20250106_../x",
    ],
)
def test_a_batch_name_outside_the_convention_is_a_usage_error(
    cli: Callable[..., Result], root: Path, batch: str
) -> None:
    before = snapshot(root.parents[1])
    result = cli("plan", "sweep.yaml", "--batch", batch, "--apply")
    assert result.code == 2
    assert result.err.startswith(f"batchcheck: error: batch name {batch!r}")
    assert result.err.count("\n") == 1
    assert snapshot(root.parents[1]) == before


def test_example_store_topp_sweep(cli: Callable[..., Result], tmp_path: Path) -> None:
    """The README's example: two configurations reused, two listed for generation."""
    result = cli("plan", "examples/sweeps/topp_sweep.yaml", "--batch", BATCH, cwd=REPO)
    assert result.code == 0, result.err
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert result.out in readme
    copy = tmp_path / "store"
    shutil.copytree(EXAMPLE_ROOT, copy, symlinks=True)
    applied = cli(
        "--root",
        str(copy),
        "plan",
        str(REPO / "examples/sweeps/topp_sweep.yaml"),
        "--batch",
        BATCH,
        "--apply",
    )
    assert applied.code == 0, applied.err
    assert sorted(os.listdir(copy / BATCH / "Copa")) == [
        "temp07_topp08_gpt4o",
        "temp07_topp09_gpt4o",
    ]
    assert "0 errors" in applied.out


def test_console_script_end_to_end(root: Path) -> None:
    result = run_script(
        "plan", "sweep.yaml", "--batch", BATCH, "--format", "yaml", cwd=root.parents[1]
    )
    assert result.code == 0, result.err
    assert len(yaml.safe_load(result.out)["generate"]) == 2
