"""``batchcheck add``: metadata completed and judged, duplicates and taken names refused, data
moved in through a hidden stage, a rerun finishing an interrupted add; bad input changes nothing.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import TOPP, Cli, experiment, make_tree, snapshot, store_spec

from batchcheck import fingerprint

BATCH = "batch_20250106_topp_sweep"
NEW = "temp07_topp06_gpt4o"
SWEEP = """\
experiment_purpose: top_p_study
datasets: [Copa]
generation: {model: gpt-4o, temperature: 0.7, max_tokens: 256}
validation: {model: gpt-4o, temperature: 0.0}
sweep:
  top_p: [0.6, 0.8]
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """top_p 0.8 stored and linked; the sweep's 0.6 is to generate; its data in out/."""
    (tmp_path / "sweep.yaml").write_text(SWEEP, encoding="utf-8")
    make_tree(
        tmp_path / "out" / NEW,
        {"train.jsonl": '{"premise": "p"}\n', "extra/dev.jsonl": "{}\n"},
    )
    spec = store_spec(
        [("Copa", "temp07_topp08_gpt4o", TOPP, 0.7, 0.8)], [(TOPP, "Copa", "temp07_topp08_gpt4o")]
    )
    return make_tree(tmp_path / "Data_v2" / "synthetic", spec)


@pytest.fixture
def plan_file(cli: Cli, root: Path, tmp_path: Path) -> Path:
    """``plan --format yaml`` as a pipeline keeps it."""
    result = cli("plan", "sweep.yaml", "--batch", BATCH, "--format", "yaml")
    assert result.code == 0, result.err
    (tmp_path / "plan.yaml").write_text(result.out, encoding="utf-8")
    return tmp_path / "plan.yaml"


def add(cli: Cli, *extra: str, name: str = NEW, source: str = f"out/{NEW}") -> Any:
    return cli("add", f"Copa/{name}", "--from", source, "--metadata", "plan.yaml", *extra)


def planned(plan_file: Path) -> dict[str, Any]:
    entry = yaml.safe_load(plan_file.read_text())["generate"][0]
    meta: dict[str, Any] = entry["metadata"]
    return meta


def test_add_moves_the_data_in_and_writes_complete_metadata(
    cli: Cli, root: Path, plan_file: Path, tmp_path: Path
) -> None:
    result = add(cli, "--no-emoji")
    assert result.code == 0, result.err
    folder = root / "_shared" / "Copa" / NEW
    assert not (tmp_path / "out" / NEW).exists()  # moved, not copied
    assert (folder / "Copa" / "train.jsonl").read_text() == '{"premise": "p"}\n'
    assert (folder / "Copa" / "extra" / "dev.jsonl").is_file()
    meta = json.loads((folder / "experiment_metadata.json").read_text())
    assert list(meta)[:6] == [
        "experiment_name",
        "dataset",
        "created_at",
        "original_batch",
        "parameter_fingerprint",
        "fingerprint_version",
    ]
    assert (
        meta["parameter_fingerprint"]
        == fingerprint(meta)
        == planned(plan_file)["parameter_fingerprint"]
    )
    assert meta["original_batch"] == BATCH
    assert oct(os.stat(folder / "experiment_metadata.json").st_mode & 0o044) == oct(0o044)
    assert f"[OK] Added _shared/Copa/{NEW} (moved from out/{NEW}, 3 items)" in result.out
    assert f"Check of _shared/Copa/{NEW}" in result.out and "0 errors" in result.out
    assert sorted(os.listdir(root / "_shared" / "Copa")) == [NEW, "temp07_topp08_gpt4o"]


def test_add_with_batch_links_it_and_checks_the_batch(
    cli: Cli, root: Path, plan_file: Path
) -> None:
    result = add(cli, "--batch", BATCH, "--format", "json")
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["action"] == "add" and doc["done"] is True and doc["mode"] == "move"
    assert doc["link"]["links"][0]["action"] == "create"
    assert doc["link"]["check"]["summary"]["errors"] == 0
    assert os.readlink(root / BATCH / "Copa" / NEW) == f"../../_shared/Copa/{NEW}/"
    # The batch now holds it as newly generated; plan --apply links the reused one too.
    applied = cli("plan", "sweep.yaml", "--batch", BATCH, "--apply", "--no-emoji")
    assert applied.code == 0, applied.err
    assert "Nothing to generate" in applied.out or "Linked 1 experiment(s)" in applied.out
    assert sorted(os.listdir(root / BATCH / "Copa")) == [NEW, "temp07_topp08_gpt4o"]


def test_copy_leaves_the_source_and_a_rerun_has_nothing_to_do(
    cli: Cli, root: Path, plan_file: Path, tmp_path: Path
) -> None:
    first = add(cli, "--copy")
    assert first.code == 0, first.err
    assert (tmp_path / "out" / NEW / "train.jsonl").is_file()
    before = snapshot(tmp_path)
    again = add(cli, "--copy", "--format", "json")
    assert again.code == 0, again.err
    assert again.json()["action"] == "present" and again.json()["done"] is False
    assert snapshot(tmp_path) == before
    moved = add(cli, "--no-emoji")  # the same, as a move: still nothing to do, source kept
    assert moved.code == 0 and "Already in the store (same parameters)" in moved.out
    assert (tmp_path / "out" / NEW / "train.jsonl").is_file()


def test_metadata_from_a_json_file_is_completed_from_the_command_line(
    cli: Cli, root: Path, tmp_path: Path
) -> None:
    """A bare metadata document: created_at, original_batch (--batch), dataset, name and
    fingerprint are filled in."""
    params = {
        "generation": {"model": "gpt-4o", "temperature": 0.7, "top_p": 0.6, "max_tokens": 256},
        "validation": {"model": "gpt-4o", "temperature": 0.0},
        "pipeline_run": "r-17",  # a pipeline's own key: kept
    }
    (tmp_path / "meta.json").write_text(json.dumps(params))
    result = cli(
        "add", f"Copa/{NEW}", "--from", f"out/{NEW}", "--metadata", "meta.json", "--batch", BATCH
    )
    assert result.code == 0, result.err
    meta = json.loads((root / "_shared/Copa" / NEW / "experiment_metadata.json").read_text())
    assert meta["dataset"] == "Copa" and meta["experiment_name"] == NEW
    assert meta["original_batch"] == BATCH and meta["pipeline_run"] == "r-17"
    assert meta["parameter_fingerprint"] == fingerprint({"dataset": "Copa", **params})


def test_dry_run_judges_everything_and_writes_nothing(
    cli: Cli, root: Path, plan_file: Path, tmp_path: Path
) -> None:
    before = snapshot(tmp_path)
    result = add(cli, "--dry-run", "--batch", BATCH, "--no-emoji")
    assert result.code == 0, result.err
    assert f"Would add _shared/Copa/{NEW} (to be moved from out/{NEW}" in result.out
    assert snapshot(tmp_path) == before


# -- refused: one line, exit 1 or 2, nothing changed ------------------------------------------


def refused(cli: Cli, tmp_path: Path, argv: list[str], code: int, message: str) -> None:
    before = snapshot(tmp_path)
    result = cli(*argv)
    assert result.code == code, (result.code, result.err)
    assert message in result.err
    assert result.err.count("\n") == 1 and result.out == ""
    assert snapshot(tmp_path) == before


def test_a_duplicate_generation_is_refused_naming_the_existing_experiment(
    cli: Cli, root: Path, tmp_path: Path
) -> None:
    """The same parameters as temp07_topp08_gpt4o, under another name."""
    make_tree(tmp_path, {"out/copy/train.jsonl": "{}\n"})
    meta = json.loads(
        (root / "_shared/Copa/temp07_topp08_gpt4o/experiment_metadata.json").read_text()
    )
    for key in ("experiment_name", "created_at", "parameter_fingerprint"):
        meta.pop(key)
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    argv = ["add", "Copa/temp07_topp08_gpt4o_v2", "--from", "out/copy", "--metadata", "meta.json"]
    refused(cli, tmp_path, argv, 1, "duplicates Copa/temp07_topp08_gpt4o: same parameters")


def test_a_name_that_exists_is_refused(
    cli: Cli, root: Path, plan_file: Path, tmp_path: Path
) -> None:
    make_tree(
        root,
        experiment(
            "Copa",
            NEW,
            TOPP,
            0.7,
            0.6,
            generation={"model": "gpt-4o", "temperature": 0.7, "top_p": 0.6, "max_tokens": 512},
        ),
    )
    meta_path = root / "_shared/Copa" / NEW / "experiment_metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["parameter_fingerprint"] = fingerprint(meta)
    meta_path.write_text(json.dumps(meta))
    argv = ["add", f"Copa/{NEW}", "--from", f"out/{NEW}", "--metadata", "plan.yaml"]
    refused(cli, tmp_path, argv, 1, "already exists with other parameters")
    make_tree(root, {"_shared/Copa/a_file": "x"})
    argv = ["add", "Copa/a_file", "--from", f"out/{NEW}", "--metadata", "meta.json"]
    (tmp_path / "meta.json").write_text(
        json.dumps({**planned(plan_file), "experiment_name": "a_file"})
    )
    refused(cli, tmp_path, argv, 1, "exists and is not an experiment folder")


def bad_metadata(plan_file: Path, tmp_path: Path, **changes: Any) -> None:
    meta = planned(plan_file)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = meta
        for part in parents:
            node = node[part]
        if value is None:
            node.pop(last)
        else:
            node[last] = value
    (tmp_path / "meta.json").write_text(json.dumps(meta))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"generation__temperature": None, "generation__temprature": 0.7},
            "generation.temprature: unknown key (did you mean 'temperature'?)",
        ),
        ({"orginal_batch": "x", "original_batch": None}, "orginal_batch: unknown key"),
        ({"generation__top_p": 0.9}, "is not the fingerprint of these parameters"),
        ({"generation__max_tokens": "many", "parameter_fingerprint": None}, "is not of type"),
        ({"dataset": "CB", "parameter_fingerprint": None}, "dataset is 'CB' but the experiment"),
        ({"fingerprint_version": 7}, "fingerprint_version 7 is not supported"),
        ({"original_batch": None}, "original_batch is missing: give --batch"),
        ({"created_at": "yesterday"}, "created_at: 'yesterday' does not match"),
    ],
)
def test_bad_metadata_is_a_usage_error(
    cli: Cli,
    root: Path,
    plan_file: Path,
    tmp_path: Path,
    changes: dict[str, Any],
    message: str,
) -> None:
    bad_metadata(plan_file, tmp_path, **changes)
    argv = ["add", f"Copa/{NEW}", "--from", f"out/{NEW}", "--metadata", "meta.json"]
    refused(cli, tmp_path, argv, 2, message)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["Copa/temp05_topp06_gpt4o"], "outside the naming convention: temp05 but"),
        (["Copa/.hidden"], "'.hidden' is not a valid experiment name"),
        (["Copa/a\tb"], "is not a valid experiment name"),
        (["Copa"], "expected Dataset/experiment"),
        ([f"Copa/{NEW}", "--batch", "batch_2025_x"], "batch name 'batch_2025_x'"),
        ([f"Copa/{NEW}", "--batch", "batch_20250107_other"], "but --batch is"),
    ],
)
def test_bad_names_are_usage_errors(
    cli: Cli, root: Path, plan_file: Path, tmp_path: Path, argv: list[str], message: str
) -> None:
    (tmp_path / "meta.json").write_text(json.dumps(planned(plan_file)))
    bad_metadata(plan_file, tmp_path, experiment_name=None)
    full = ["add", *argv[:1], "--from", f"out/{NEW}", "--metadata", "meta.json", *argv[1:]]
    refused(cli, tmp_path, full, 2, message)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("out/nothing", "No such file or directory (no data to add)"),
        ("out/empty", "is empty: no data to add"),
        ("Data_v2/synthetic/_shared/Copa/temp07_topp08_gpt4o/Copa", "is inside _shared or a batch"),
        (f"Data_v2/synthetic/{TOPP}/Copa", "is inside _shared or a batch"),
        ("Data_v2", "holds the store"),
        ("out/link", "is a symlink: moving it would move the link"),
        ("out/plain.txt", "is not a folder"),
    ],
)
def test_bad_sources_are_usage_errors(
    cli: Cli, root: Path, plan_file: Path, tmp_path: Path, source: str, message: str
) -> None:
    make_tree(tmp_path, {"out/empty": None, "out/link": f"-> {NEW}", "out/plain.txt": "x"})
    argv = ["add", f"Copa/{NEW}", "--from", source, "--metadata", "plan.yaml"]
    refused(cli, tmp_path, argv, 2, message)


def test_a_special_file_in_the_source_is_refused(
    cli: Cli, root: Path, plan_file: Path, tmp_path: Path
) -> None:
    os.mkfifo(tmp_path / "out" / NEW / "pipe")
    argv = ["add", f"Copa/{NEW}", "--from", f"out/{NEW}", "--metadata", "plan.yaml", "--copy"]
    refused(cli, tmp_path, argv, 2, "pipe is not a file or a folder")


def test_a_symlinked_source_is_copied_and_links_inside_stay_links(
    cli: Cli, root: Path, plan_file: Path, tmp_path: Path
) -> None:
    make_tree(tmp_path, {"out/alias": f"-> {NEW}", f"out/{NEW}/annexed.jsonl": "-> train.jsonl"})
    result = add(cli, "--copy", source="out/alias")
    assert result.code == 0, result.err
    data = root / "_shared/Copa" / NEW / "Copa"
    assert os.readlink(data / "annexed.jsonl") == "train.jsonl"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("generate: []\nbatch: x\n", "the plan has no entry for Copa/temp07_topp06_gpt4o"),
        ("generate: []\nbatches: x\n", "batches: unknown key in a plan"),
        ("- a list\n", "expected a mapping"),
        ("a: 1\na: 2\n", "key 'a' is given twice"),
        ("a: " + "[" * 150 + "]" * 150 + "\n", "nested deeper than 100 levels"),
        ('a: "\\ud800"\n', "a lone UTF-16 surrogate"),
        ("a: " + "9" * 5000 + "\n", "Exceeds the limit (4300 digits)"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
            "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
            "YAML aliases expand past 10,000 nodes",
        ),
        ("\x00", "not valid YAML"),
    ],
)
def test_bad_metadata_files_are_usage_errors(
    cli: Cli, root: Path, tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "meta.yaml").write_text(text, encoding="utf-8")
    argv = ["add", f"Copa/{NEW}", "--from", f"out/{NEW}", "--metadata", "meta.yaml"]
    refused(cli, tmp_path, argv, 2, message)


def test_a_plan_entry_with_an_unknown_key_is_refused(
    cli: Cli, root: Path, plan_file: Path, tmp_path: Path
) -> None:
    entry = yaml.safe_load(plan_file.read_text())["generate"][0]
    entry["notes"] = "x"
    (tmp_path / "entry.yaml").write_text(yaml.safe_dump(entry))
    argv = ["add", f"Copa/{NEW}", "--from", f"out/{NEW}", "--metadata", "entry.yaml"]
    refused(cli, tmp_path, argv, 2, "notes: unknown key in a plan entry")
    del entry["notes"]
    (tmp_path / "entry.yaml").write_text(yaml.safe_dump(entry))
    assert cli(*argv).code == 0


def test_a_link_that_cannot_be_made_refuses_the_whole_add(
    cli: Cli, root: Path, plan_file: Path, tmp_path: Path
) -> None:
    make_tree(root, {f"{BATCH}/Copa/{NEW}/copied.jsonl": "{}\n"})
    argv = [
        "add",
        f"Copa/{NEW}",
        "--from",
        f"out/{NEW}",
        "--metadata",
        "plan.yaml",
        "--batch",
        BATCH,
    ]
    refused(cli, tmp_path, argv, 1, "a real folder holds the name")


def test_a_shared_dataset_folder_that_is_a_symlink_is_never_written_through(
    cli: Cli, root: Path, plan_file: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.move(root / "_shared" / "Copa", elsewhere / "Copa")
    os.symlink(elsewhere / "Copa", root / "_shared" / "Copa")
    argv = ["add", f"Copa/{NEW}", "--from", f"out/{NEW}", "--metadata", "plan.yaml"]
    refused(cli, tmp_path, argv, 1, "Copa is a symlink (never followed)")


def test_another_file_system_needs_copy(
    cli: Cli, root: Path, plan_file: Path, tmp_path: Path
) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second file system to move from")
    source = Path(shutil.copytree(tmp_path / "out" / NEW, shm / f"batchcheck-{os.getpid()}-{NEW}"))
    try:
        argv = ["add", f"Copa/{NEW}", "--from", str(source), "--metadata", "plan.yaml"]
        refused(cli, tmp_path, argv, 2, "on another file system than the store")
        assert cli(*argv, "--copy").code == 0
        assert (root / "_shared/Copa" / NEW / "Copa/train.jsonl").is_file()
    finally:
        shutil.rmtree(source)


# -- a rerun finishes what a crash left staged ----------------------------------------------------


def stage(root: Path, mode: str, value: str, parts: dict[str, Any]) -> Path:
    folder = root / "_shared" / "Copa" / f".{NEW}.add-{mode}-{value[:12]}-0badc0de"
    make_tree(folder, parts)
    return folder


def test_a_rerun_finishes_data_moved_into_a_stage(
    cli: Cli, root: Path, plan_file: Path, tmp_path: Path
) -> None:
    """Killed after the data was renamed into the stage: the source is gone, the data is whole."""
    value = planned(plan_file)["parameter_fingerprint"]
    staged = stage(root, "move", value, {})
    shutil.move(tmp_path / "out" / NEW, staged / "Copa")
    assert cli("list-shared-experiments", "--format", "json").json()["experiments"] == 1
    result = add(cli, "--no-emoji")
    assert result.code == 0, result.err
    assert f"[OK] Finished an interrupted add of _shared/Copa/{NEW}" in result.out
    assert not staged.exists()
    assert (root / "_shared/Copa" / NEW / "Copa/train.jsonl").is_file()
    assert json.loads((root / "_shared/Copa" / NEW / "experiment_metadata.json").read_text())


def test_a_rerun_removes_a_partial_copy_and_starts_over(
    cli: Cli, root: Path, plan_file: Path, tmp_path: Path
) -> None:
    value = planned(plan_file)["parameter_fingerprint"]
    partial = stage(root, "copy", value, {"Copa/half.jsonl": "{"})
    empty = stage(root, "move", value, {})
    result = add(cli, "--copy")
    assert result.code == 0, result.err
    assert not partial.exists() and not empty.exists()
    data = root / "_shared/Copa" / NEW / "Copa"
    assert sorted(os.listdir(data)) == ["extra", "train.jsonl"]


def test_a_rerun_commits_a_complete_stage_whatever_the_source(
    cli: Cli, root: Path, plan_file: Path, tmp_path: Path
) -> None:
    meta = {**planned(plan_file), "created_at": "2025-01-06T12:00:00"}
    stage(
        root,
        "copy",
        meta["parameter_fingerprint"],
        {"Copa/a.jsonl": "{}\n", "experiment_metadata.json": meta},
    )
    shutil.rmtree(tmp_path / "out")
    result = add(cli, "--copy", "--format", "json")
    assert result.code == 0, result.err
    assert result.json()["action"] == "finish"
    stored = json.loads((root / "_shared/Copa" / NEW / "experiment_metadata.json").read_text())
    assert stored["created_at"] == "2025-01-06T12:00:00"


def test_a_stage_of_other_parameters_is_left_alone(
    cli: Cli, root: Path, plan_file: Path, tmp_path: Path
) -> None:
    other = stage(root, "move", "f" * 32, {"Copa/x.jsonl": "{}\n"})
    assert add(cli).code == 0
    assert other.exists()


def test_the_link_is_made_when_a_crash_came_after_the_add(
    cli: Cli, root: Path, plan_file: Path
) -> None:
    assert add(cli).code == 0
    result = add(cli, "--batch", BATCH, "--format", "json")
    assert result.code == 0, result.err
    assert result.json()["action"] == "present"
    assert result.json()["link"]["links"][0]["created"] is True
    assert os.readlink(root / BATCH / "Copa" / NEW) == f"../../_shared/Copa/{NEW}/"
