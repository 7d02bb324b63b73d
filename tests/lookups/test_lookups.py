"""The six lookup commands on real trees with real symlinks, through the real CLI.

Golden text for the seed's examples lives in tests/lookups/golden/ (run with
BATCHCHECK_UPDATE_GOLDEN=1 to rewrite it after an intended layout change, then read the diff).
"""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import (
    EXAMPLE_ROOT,
    README,
    TEMP,
    TOPP,
    Cli,
    experiment,
    link,
    make_tree,
    metadata,
    run_script,
    seed_spec,
)

from batchcheck.lookups.common import dotted_path, flatten
from batchcheck.lookups.resolve import parse_store_path
from batchcheck.scan import ScanOptions, scan

GOLDEN = Path(__file__).parent / "golden"
ALL_COMMANDS = (
    ("list-batches",),
    ("list-batch-experiments", TEMP),
    ("list-shared-experiments",),
    ("list-data-paths",),
    ("resolve-data-path", f"Data_v2/synthetic/{TEMP}/Copa/temp05_topp10_gpt4o"),
    (
        "compare-experiments",
        "--shared",
        "Copa/temp05_topp10_gpt4o",
        "--shared",
        "Copa/temp09_topp10_gpt4o",
    ),
)

# (golden file, argv) for the seed's own examples, run on the seed's tree.
GOLDEN_CASES = [
    ("list_batches.txt", ["list-batches"]),
    ("list_batches_verbose.txt", ["list-batches", "--verbose"]),
    ("list_batch_experiments.txt", ["list-batch-experiments", TEMP]),
    ("list_batch_experiments_copa.txt", ["list-batch-experiments", TEMP, "--dataset", "Copa"]),
    ("list_batch_experiments_verbose.txt", ["list-batch-experiments", TOPP, "--verbose"]),
    ("list_shared_experiments.txt", ["list-shared-experiments"]),
    (
        "list_shared_experiments_copa_verbose.txt",
        ["list-shared-experiments", "--dataset", "Copa", "--verbose"],
    ),
    ("list_data_paths.txt", ["list-data-paths"]),
    ("list_data_paths_batch.txt", ["list-data-paths", "--batch", TEMP]),
    ("list_data_paths_copa.txt", ["list-data-paths", "--dataset", "Copa"]),
    (
        "resolve_batch_path.txt",
        ["resolve-data-path", f"Data_v2/synthetic/{TEMP}/Copa/temp09_topp10_gpt4o/Copa"],
    ),
    (
        "resolve_shared_path.txt",
        ["resolve-data-path", "Data_v2/synthetic/_shared/Copa/temp09_topp10_gpt4o/Copa"],
    ),
    (
        "compare_shared.txt",
        [
            "compare-experiments",
            "--shared",
            "Copa/temp05_topp10_gpt4o",
            "--shared",
            "Copa/temp09_topp10_gpt4o",
        ],
    ),
    (
        "compare_batches.txt",
        [
            "compare-experiments",
            "--batch1",
            TEMP,
            "--dataset1",
            "Copa",
            "--batch2",
            TOPP,
            "--dataset2",
            "Copa",
        ],
    ),
    ("list_batch_experiments_ascii.txt", ["--no-emoji", "list-batch-experiments", TOPP]),
]


@pytest.mark.parametrize(("name", "argv"), GOLDEN_CASES, ids=[c[0] for c in GOLDEN_CASES])
def test_golden_text(
    cli: Cli, seed_store: Path, tmp_path: Path, name: str, argv: list[str]
) -> None:
    result = cli(*argv)
    assert (result.code, result.err) == (0, "")
    golden = GOLDEN / name
    if os.environ.get("BATCHCHECK_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(result.out, encoding="utf-8")
    assert result.out == golden.read_text(encoding="utf-8")


def test_seed_layout(cli: Cli, seed_store: Path) -> None:
    """The seed's own lines, byte for byte: 80-char rules, emoji, singular/plural, reuse."""
    out = cli("list-batches", "--verbose").out
    assert out.startswith("=" * 80 + "\nFound 2 batches\n" + "=" * 80 + "\n\n📦 " + TEMP)
    assert "   CB: 1 experiment\n      - temp07_topp10_gpt4o\n" in out
    out = cli("list-batch-experiments", TEMP, "--verbose", "--dataset", "Copa").out
    assert "📊 Copa (3 experiments)\n" + "-" * 80 + "\n" in out
    assert (
        "  🔧 temp05_topp10_gpt4o\n"
        f"     Batch view: {TEMP}/Copa/temp05_topp10_gpt4o\n"
        "     Physical storage: _shared/Copa/temp05_topp10_gpt4o\n"
        "     Created: 2024-12-29 10:30:00\n"
    ) in out
    assert "     ⚡ Data reuse: No (newly generated)\n     Generation model: gpt-4o\n" in out
    out = cli("list-batch-experiments", TOPP).out
    assert "⚡ Data reuse: Yes (original batch: batch_20241228_pilot)" in out


def test_dangling_links_are_listed_and_marked(cli: Cli, seed_store: Path) -> None:
    out = cli("list-batch-experiments", TOPP, "--verbose").out
    assert "  🔧 temp07_topp08_gpt4o\n" in out
    assert "❌ link dangling: the target does not exist" in out
    data = cli("list-batches", "--format", "json").json()
    topp = next(b for b in data["batches"] if b["name"] == TOPP)
    states = {e["name"]: e["link"]["state"] for e in topp["datasets"][0]["experiments"]}
    assert states == {"temp07_topp08_gpt4o": "dangling", "temp07_topp09_gpt4o": "ok"}
    assert topp["problems"] == [
        "Copa/temp07_topp08_gpt4o: link dangling: the target does not exist "
        "(../../_shared/Copa/temp07_topp08_gpt4o/)"
    ]


def test_ascii_fallback(cli: Cli, seed_store: Path) -> None:
    for argv in ALL_COMMANDS:
        out = cli("--no-emoji", *argv).out
        assert out.isascii(), argv
    assert "[B] " + TEMP in cli("list-batches", "--no-emoji").out


@pytest.mark.parametrize("argv", ALL_COMMANDS, ids=[a[0] for a in ALL_COMMANDS])
def test_json_of_every_command(cli: Cli, seed_store: Path, argv: tuple[str, ...]) -> None:
    result = cli(*argv, "--format", "json")
    assert result.code == 0, result.err
    assert isinstance(result.json(), dict)


@pytest.mark.parametrize("position", ["before", "after"])
def test_root_before_or_after_the_command(
    cli: Cli, seed_store: Path, tmp_path: Path, position: str
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    argv = ["--root", str(seed_store), "list-batches"]
    if position == "after":
        argv = ["list-batches", "--root", str(seed_store)]
    result = cli(*argv, "--format", "json", cwd=elsewhere)
    assert [b["name"] for b in result.json()["batches"]] == [TEMP, TOPP]


# -- list-batches ------------------------------------------------------------------------------


def test_list_batches_json_shape(cli: Cli, seed_store: Path) -> None:
    data = cli("list-batches", "--format", "json").json()
    assert data["root"] == "Data_v2/synthetic"
    first = data["batches"][0]
    assert first["name"] == TEMP and first["experiments"] == 4
    assert first["path"] == f"Data_v2/synthetic/{TEMP}"
    assert [d["name"] for d in first["datasets"]] == ["CB", "Copa"]


def test_list_batches_reads_no_metadata(seed_store: Path) -> None:
    store = scan(seed_store, ScanOptions.of(shared="none", metadata=False, data=False))
    assert store.experiments == {} and store.stats["metadata"] == 0
    states = {link.name: link.state.value for link in store.batches[TOPP].links}
    assert states == {"temp07_topp08_gpt4o": "dangling", "temp07_topp09_gpt4o": "ok"}


def test_list_batches_marks_strays_and_non_folders(cli: Cli, tmp_path: Path) -> None:
    root = tmp_path / "Data_v2" / "synthetic"
    spec: dict[str, Any] = experiment("Copa", "e1", "batch_20240101_a", 0.7, 1.0)
    spec.update(link("batch_20240101_a", "Copa", "e1"))
    spec["batch_20240101_a/Copa/copied"] = None
    spec["batch_20240101_b"] = "not a folder\n"
    make_tree(root, spec)
    out = cli("list-batches").out
    assert "❌ Copa/copied: not a symlink: a folder" in out
    assert "📦 batch_20240101_b\n   Experiments: 0\n   ❌ not a folder: a file\n" in out
    result = cli("list-batch-experiments", "batch_20240101_b")
    assert result.code == 1 and "unknown batch 'batch_20240101_b'" in result.err


def test_empty_store(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "Data_v2" / "synthetic").mkdir(parents=True)
    assert "Found 0 batches" in cli("list-batches").out
    assert "Experiments: 0" in cli("list-shared-experiments").out
    assert cli("list-data-paths", "--format", "json").json()["data_paths"] == []


# -- list-batch-experiments --------------------------------------------------------------------


def test_list_batch_experiments_json(cli: Cli, seed_store: Path) -> None:
    data = cli("list-batch-experiments", TOPP, "--format", "json").json()
    assert data["batch"] == TOPP and data["experiments"] == 2
    entries = {e["name"]: e for e in data["datasets"][0]["experiments"]}
    reused = entries["temp07_topp09_gpt4o"]
    assert reused["reuse"] == {"status": "reused", "original_batch": "batch_20241228_pilot"}
    assert reused["batch_view"] == f"{TOPP}/Copa/temp07_topp09_gpt4o"
    assert reused["physical_storage"] == "_shared/Copa/temp07_topp09_gpt4o"
    assert reused["generation"]["top_p"] == 0.9
    assert len(reused["parameter_fingerprint"]) == 32
    dangling = entries["temp07_topp08_gpt4o"]
    assert dangling["reuse"]["status"] == "unknown" and dangling["physical_storage"] is None
    assert dangling["link"]["state"] == "dangling"


def test_list_batch_experiments_reads_only_its_batch(seed_store: Path) -> None:
    store = scan(seed_store, ScanOptions.of(batches=(TOPP,), shared="linked", data=False))
    assert list(store.batches) == [TOPP]
    assert list(store.experiments) == [("Copa", "temp07_topp09_gpt4o")]
    assert store.stats["metadata"] == 1


def test_batch_given_as_path_or_with_slash(cli: Cli, seed_store: Path) -> None:
    for given in (f"{TOPP}/", f"Data_v2/synthetic/{TOPP}"):
        assert cli("list-batch-experiments", given).out.startswith("=" * 80 + f"\nBatch: {TOPP}")


def test_broken_metadata_still_lists_the_rest(cli: Cli, tmp_path: Path) -> None:
    root = tmp_path / "Data_v2" / "synthetic"
    batch = "batch_20240101_mix"
    spec: dict[str, Any] = {}
    for name in ("a_good", "b_broken", "c_missing", "d_list"):
        spec.update(experiment("Copa", name, batch, 0.7, 1.0))
        spec.update(link(batch, "Copa", name))
    spec["_shared/Copa/b_broken/experiment_metadata.json"] = "{not json"
    spec["_shared/Copa/d_list/experiment_metadata.json"] = "[1, 2]"
    make_tree(root, spec)
    os.remove(root / "_shared/Copa/c_missing/experiment_metadata.json")
    result = cli("list-batch-experiments", batch, "--verbose")
    assert result.code == 0
    assert "❌ metadata: not JSON: Expecting property name" in result.out
    assert "❌ metadata: experiment_metadata.json is missing" in result.out
    assert "❌ metadata: not a JSON object (it is list)" in result.out
    assert "  🔧 a_good\n" in result.out and "Data reuse: No (newly generated)" in result.out
    shared = cli("list-shared-experiments", "--verbose")
    assert shared.code == 0 and "Experiments: 4" in shared.out
    assert shared.out.count("❌ metadata:") == 3
    data = cli("list-shared-experiments", "--format", "json").json()
    states = {e["name"]: e["metadata"]["state"] for e in data["datasets"][0]["experiments"]}
    assert states == {"a_good": "ok", "b_broken": "invalid", "c_missing": "missing", "d_list": "ok"}
    compared = cli("compare-experiments", "--shared", "Copa/a_good", "--shared", "Copa/b_broken")
    assert compared.code == 1 and "❌ metadata: not JSON" in compared.out
    assert "no verdict" in compared.out and compared.err == ""


def test_an_unknown_dataset_is_told_with_every_known_one(cli: Cli, seed_store: Path) -> None:
    """Only the chosen dataset is read, yet the message still names every one there is."""
    for command in ("list-shared-experiments", "list-data-paths"):
        result = cli(command, "--dataset", "MNLI")
        where = "_shared" if command == "list-shared-experiments" else "the store"
        assert result.err == f"batchcheck: unknown dataset 'MNLI' in {where} (known: CB, Copa)\n"
    assert cli("list-shared-experiments", "--dataset", "CB").out.count("📦") == 1


def test_unknown_batch_and_dataset(cli: Cli, seed_store: Path) -> None:
    result = cli("list-batch-experiments", "batch_20990101_nope")
    assert result.code == 1 and result.out == ""
    assert result.err.count("\n") == 1 and "unknown batch 'batch_20990101_nope'" in result.err
    result = cli("list-batch-experiments", TEMP, "--dataset", "MNLI")
    assert result.code == 1
    assert result.err == (f"batchcheck: unknown dataset 'MNLI' in batch {TEMP} (known: CB, Copa)\n")
    for argv in (
        ("list-shared-experiments", "--dataset", "MNLI"),
        ("list-data-paths", "--dataset", "MNLI"),
        ("list-data-paths", "--batch", "batch_nope"),
        ("list-batch-experiments", "../etc"),
        ("compare-experiments", "--shared", "Copa/nope", "--shared", "Copa/temp05_topp10_gpt4o"),
        (
            "compare-experiments",
            "--batch1",
            TEMP,
            "--dataset1",
            "MNLI",
            "--batch2",
            TOPP,
            "--dataset2",
            "Copa",
        ),
    ):
        result = cli(*argv)
        assert result.code == 1 and result.err.count("\n") == 1, argv
        assert "Traceback" not in result.err


def test_missing_root_is_exit_2(cli: Cli, tmp_path: Path) -> None:
    for argv in ALL_COMMANDS:
        result = cli(*argv)
        assert result.code == 2 and result.out == "", argv
        assert result.err.startswith("batchcheck: error: store root ")
        assert result.err.count("\n") == 1


# -- list-shared-experiments ---------------------------------------------------------------------


def test_list_shared_experiments(cli: Cli, seed_store: Path) -> None:
    out = cli("list-shared-experiments").out
    assert "Physical experiment data in _shared/\nExperiments: 4\n" in out
    assert "📊 Copa (3 experiments)" in out and "📊 CB (1 experiment)" in out
    assert "     Physical path: Data_v2/synthetic/_shared/Copa/temp05_topp10_gpt4o\n" in out
    verbose = cli("list-shared-experiments", "--dataset", "CB", "--verbose").out
    assert "     Generation config:\n       Model: gpt-4o\n       Temperature: 0.7\n" in verbose
    assert "       Top_p: 1.0\n       Max tokens: 256\n" in verbose
    assert "Copa" not in verbose
    data = cli("list-shared-experiments", "--dataset", "CB", "--format", "json").json()
    (exp,) = data["datasets"][0]["experiments"]
    assert exp["original_batch"] == TEMP and exp["metadata"] == {"state": "ok", "error": ""}


# -- list-data-paths -----------------------------------------------------------------------------


def test_list_data_paths_json_and_the_yaml_to_paste(cli: Cli, seed_store: Path) -> None:
    data = cli("list-data-paths", "--batch", TEMP, "--dataset", "Copa", "--format", "json").json()
    by_name = {e["experiment"]: e for e in data["data_paths"]}
    assert sorted(by_name) == ["temp05_topp10_gpt4o", "temp07_topp10_gpt4o", "temp09_topp10_gpt4o"]
    good = by_name["temp05_topp10_gpt4o"]
    assert good["path"] == f"Data_v2/synthetic/{TEMP}/Copa/temp05_topp10_gpt4o/Copa"
    assert good["shared_path"] == "Data_v2/synthetic/_shared/Copa/temp05_topp10_gpt4o/Copa"
    assert (seed_store.parent.parent / good["path"]).is_dir()
    broken = by_name["temp07_topp10_gpt4o"]
    assert broken["batch_paths"][0]["link"] == "dangling"
    assert broken["problems"] == ["the shared experiment folder does not exist"]
    # The YAML holds only what trains: the recommended path of each usable experiment; the
    # broken one is a comment.
    text = cli("list-data-paths", "--batch", TEMP, "--dataset", "Copa", "--format", "yaml").out
    assert yaml.safe_load(text) == {
        "data_paths": [
            {k: by_name[name][k] for k in ("dataset", "experiment", "path")}
            for name in ("temp05_topp10_gpt4o", "temp09_topp10_gpt4o")
        ]
    }
    assert text.startswith("# Training data paths of Data_v2/synthetic (batchcheck)\n")
    assert text.endswith(
        "# Left out, no usable path (batchcheck check says more):\n"
        "#   Copa/temp07_topp10_gpt4o: the shared experiment folder does not exist\n"
    )


def test_list_data_paths_orphan_and_reuse(cli: Cli, seed_store: Path) -> None:
    make_tree(seed_store, experiment("CB", "orphan", TEMP, 0.2, 1.0))
    make_tree(seed_store, link("batch_20241228_pilot", "Copa", "temp07_topp09_gpt4o"))
    out = cli("list-data-paths").out
    assert "📁 CB / orphan\n   ⚠️  No batch links this experiment: use the shared path\n" in out
    reused = out.split("📁 Copa / temp07_topp09_gpt4o\n")[1].split("\n\n")[0]
    assert reused.count("/Copa/temp07_topp09_gpt4o/Copa") == 2


def test_list_data_paths_marks_missing_training_data(cli: Cli, seed_store: Path) -> None:
    os.remove(seed_store / "_shared/CB/temp07_topp10_gpt4o/CB/train.jsonl")
    result = cli("list-data-paths", "--dataset", "CB")
    assert "❌ training data folder CB: empty" in result.out


# -- resolve-data-path ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/", "/Copa", "/Copa/", "/Copa/train.jsonl"])
def test_resolve_batch_path_forms(cli: Cli, seed_store: Path, suffix: str) -> None:
    path = f"Data_v2/synthetic/{TEMP}/Copa/temp05_topp10_gpt4o{suffix}"
    data = cli("resolve-data-path", path, "--format", "json").json()
    assert data["kind"] == "batch"
    assert data["shared_path"] == "Data_v2/synthetic/_shared/Copa/temp05_topp10_gpt4o"
    assert data["shared_data_path"] == "Data_v2/synthetic/_shared/Copa/temp05_topp10_gpt4o/Copa"
    assert [b["batch"] for b in data["batch_paths"]] == [TEMP]


def test_resolve_absolute_and_from_inside_the_store(cli: Cli, seed_store: Path) -> None:
    absolute = str(seed_store / "_shared/Copa/temp07_topp09_gpt4o")
    data = cli("resolve-data-path", absolute, "--format", "json").json()
    assert data["batch_paths"][0]["data_path"] == (
        f"Data_v2/synthetic/{TOPP}/Copa/temp07_topp09_gpt4o/Copa"
    )
    inside = seed_store / TOPP / "Copa"
    result = cli(
        "resolve-data-path",
        "temp07_topp09_gpt4o/Copa",
        "--format",
        "json",
        "--root",
        str(seed_store),
        cwd=inside,
    )
    assert result.json()["shared_path"] == str(seed_store / "_shared/Copa/temp07_topp09_gpt4o")


def test_resolve_shared_path_lists_every_batch(cli: Cli, seed_store: Path) -> None:
    make_tree(seed_store, link("batch_20241228_pilot", "Copa", "temp07_topp09_gpt4o"))
    result = cli("resolve-data-path", "Data_v2/synthetic/_shared/Copa/temp07_topp09_gpt4o/Copa")
    assert "Referenced by 2 batch links (recommended paths):" in result.out
    assert "batch_20241228_pilot/Copa/temp07_topp09_gpt4o/Copa" in result.out
    assert f"{TOPP}/Copa/temp07_topp09_gpt4o/Copa" in result.out


def test_resolve_orphan_succeeds(cli: Cli, seed_store: Path) -> None:
    make_tree(seed_store, experiment("CB", "orphan", TEMP, 0.2, 1.0))
    result = cli("resolve-data-path", "Data_v2/synthetic/_shared/CB/orphan")
    assert result.code == 0
    assert "No batch links this experiment: use the shared path" in result.out
    data = cli("resolve-data-path", "Data_v2/synthetic/_shared/CB/orphan", "--format", "json")
    assert data.json()["batch_paths"] == []


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/etc", "/etc: outside the store Data_v2/synthetic"),
        ("Data_v2", "Data_v2: outside the store Data_v2/synthetic"),
        ("Data_v2/synthetic", "not an experiment path"),
        (f"Data_v2/synthetic/{TEMP}", "not an experiment path"),
        ("Data_v2/synthetic/README.md/x/y", "not an experiment path"),
        (f"Data_v2/synthetic/{TEMP}/Copa/temp05_topp10_gpt4o/CB", "not an experiment path"),
        (f"Data_v2/synthetic/{TEMP}/Copa/nope", f"no such link in batch {TEMP}"),
        (f"Data_v2/synthetic/{TEMP}/Copa/temp07_topp10_gpt4o", "link dangling"),
        ("Data_v2/synthetic/batch_20990101_x/Copa/e", "unknown batch 'batch_20990101_x'"),
        ("Data_v2/synthetic/_shared/Copa/nope", "no shared experiment Copa/nope"),
    ],
)
def test_resolve_errors(cli: Cli, seed_store: Path, path: str, message: str) -> None:
    result = cli("resolve-data-path", path)
    assert result.code == 1 and result.out == ""
    assert message in result.err and result.err.count("\n") == 1


def test_parse_store_path_accepts_the_real_root(seed_store: Path, tmp_path: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(seed_store)
    query = parse_store_path(str(seed_store / TEMP / "CB" / "x"), alias, tmp_path)
    assert (query.kind, query.batch, query.dataset, query.name) == ("batch", TEMP, "CB", "x")


# -- compare-experiments -------------------------------------------------------------------------


def test_compare_shared_seed_layout(cli: Cli, seed_store: Path) -> None:
    out = cli(
        "compare-experiments",
        "--shared",
        "Copa/temp05_topp10_gpt4o",
        "--shared",
        "Copa/temp09_topp10_gpt4o",
    ).out
    assert out.startswith(
        "=" * 80 + "\nExperiment Parameter Comparison\n" + "=" * 80 + "\n\n"
        "Experiment 1: Copa/temp05_topp10_gpt4o\nExperiment 2: Copa/temp09_topp10_gpt4o\n\n"
        "✅ Same parameters:\n  generation.model: gpt-4o\n  generation.top_p: 1.0\n"
        "  generation.max_tokens: 256\n  validation.model: gpt-4o\n"
        "  validation.temperature: 0.0\n\n"
        "⚠️  Different parameters:\n  generation.temperature:\n"
        "    Experiment 1: 0.5\n    Experiment 2: 0.9\n\n"
        "🔧 Note: Parameters differ, need to generate data separately\n"
    )


def test_compare_same_fingerprint_can_share(cli: Cli, tmp_path: Path) -> None:
    root = tmp_path / "Data_v2" / "synthetic"
    make_tree(root, experiment("Copa", "a", TEMP, 0.7, 1.0))
    make_tree(root, experiment("Copa", "b", TOPP, 0.7, 1))  # 1 and 1.0 hash the same
    result = cli("compare-experiments", "--shared", "Copa/a", "--shared", "_shared/Copa/b/")
    assert "✅ Note: Same fingerprint, the data can be shared" in result.out
    assert "Different parameters" not in result.out
    data = cli(
        "compare-experiments", "--shared", "Copa/a", "--shared", "Copa/b", "--format", "json"
    ).json()
    assert data["verdict"] == "same" and data["can_share_data"] is True
    fp = data["experiments"][0]["fingerprint"]
    assert len(fp) == 32 and data["experiments"][1]["fingerprint"] == fp


def test_compare_added_removed_nested_and_stored_fingerprint(cli: Cli, tmp_path: Path) -> None:
    root = tmp_path / "Data_v2" / "synthetic"
    left = metadata("Copa", "a", TEMP, stop=["x"])
    left["generation"]["stop"] = ["###", "END"]
    left["generation"]["seed"] = 1
    right = metadata("Copa", "b", TEMP)
    right["generation"]["stop"] = ["###"]
    right["validation"]["rubric"] = {"strict": True}
    right["parameter_fingerprint"] = "0" * 32
    make_tree(
        root,
        {
            "_shared/Copa/a/experiment_metadata.json": left,
            "_shared/Copa/b/experiment_metadata.json": right,
        },
    )
    result = cli("compare-experiments", "--shared", "Copa/a", "--shared", "Copa/b")
    assert (
        "  generation.stop[1]:\n    Experiment 1: END\n    Experiment 2: (missing)\n" in result.out
    )
    assert "  generation.seed:\n    Experiment 1: 1\n    Experiment 2: (missing)\n" in result.out
    assert "  validation.rubric:\n    Experiment 1: (missing)\n" in result.out
    assert '    Experiment 2: {"strict": true}\n' in result.out
    assert "  generation.stop[0]: ###\n" in result.out
    assert "(stored: 000000000000)" in result.out
    data = cli(
        "compare-experiments", "--shared", "Copa/a", "--shared", "Copa/b", "--format", "json"
    ).json()
    changes = {c["path"]: c for c in data["different"]}
    assert changes["validation.rubric"] == {
        "path": "validation.rubric",
        "experiment1": None,
        "experiment2": {"strict": True},
        "change": "added",
    }
    assert changes["generation.seed"]["change"] == "removed"
    assert data["experiments"][1]["stored_fingerprint"] == "0" * 32


def test_compare_batches_pairs_by_fingerprint(cli: Cli, seed_store: Path) -> None:
    make_tree(seed_store, link(TOPP, "Copa", "temp05_topp10_gpt4o"))
    data = cli(
        "compare-experiments",
        "--batch1",
        TEMP,
        "--dataset1",
        "Copa",
        "--batch2",
        TOPP,
        "--dataset2",
        "Copa",
        "--format",
        "json",
    ).json()
    assert [(b["side1"], b["side2"]) for b in data["both"]] == [
        (["temp05_topp10_gpt4o"], ["temp05_topp10_gpt4o"])
    ]
    assert [c["experiments"] for c in data["only_1"]] == [["temp09_topp10_gpt4o"]]
    assert [c["experiments"] for c in data["only_2"]] == [["temp07_topp09_gpt4o"]]
    varying = {v["path"]: (v["side1"], v["side2"]) for v in data["varying"]}
    assert varying == {
        "generation.temperature": ([0.5, 0.9], [0.5, 0.7]),
        "generation.top_p": ([1.0], [0.9, 1.0]),
    }
    assert [s["skipped"][0]["name"] for s in data["sides"]] == [
        "temp07_topp10_gpt4o",
        "temp07_topp08_gpt4o",
    ]


def test_compare_usage_errors(cli: Cli, seed_store: Path) -> None:
    for argv in (
        ("compare-experiments",),
        ("compare-experiments", "--shared", "Copa/temp05_topp10_gpt4o"),
        ("compare-experiments", "--batch1", TEMP, "--dataset1", "Copa"),
        ("compare-experiments", "--shared", "Copa/a", "--shared", "Copa/b", "--batch1", TEMP),
    ):
        result = cli(*argv)
        assert result.code == 2 and result.err.count("\n") == 1, argv
    result = cli("compare-experiments", "--shared", "Copa", "--shared", "Copa/x")
    assert result.code == 2 and "expected Dataset/experiment" in result.err


def test_compare_across_datasets(cli: Cli, seed_store: Path) -> None:
    result = cli(
        "compare-experiments",
        "--shared",
        "Copa/temp05_topp10_gpt4o",
        "--shared",
        "CB/temp07_topp10_gpt4o",
    )
    assert result.code == 0
    assert "  dataset:\n    Experiment 1: Copa\n    Experiment 2: CB\n" in result.out


def test_flatten_and_dotted() -> None:
    flat = flatten({"g": {"stop": ["a", {"b": 1}], "e": {}}, "d": "Copa"})
    assert flat == {("g", "stop", 0): "a", ("g", "stop", 1, "b"): 1, ("g", "e"): {}, ("d",): "Copa"}
    assert dotted_path(("g", "stop", 1, "b")) == "g.stop[1].b"


# -- unusual names and the example store ---------------------------------------------------------


def test_undecodable_names_are_escaped(cli: Cli, tmp_path: Path) -> None:
    root = tmp_path / "Data_v2" / "synthetic"
    make_tree(root, experiment("Copa", "e1", TEMP, 0.7, 1.0))
    name = os.fsdecode(b"caf\xe9")
    os.makedirs(root / TEMP / "Copa")
    os.symlink("../../_shared/Copa/e1/", root / TEMP / "Copa" / name)
    result = cli("list-batch-experiments", TEMP)
    assert result.code == 0 and "🔧 caf\\xe9\n" in result.out
    data = json.loads(cli("list-batch-experiments", TEMP, "--format", "json").out)
    assert data["datasets"][0]["experiments"][0]["name"] == "caf\\xe9"
    assert cli("list-batches", "--verbose").out.count("caf\\xe9") == 1
    # A link in a dataset folder whose name is not UTF-8 (so misplaced): shown escaped too.
    os.makedirs(root / TEMP / name)
    os.symlink("../../_shared/Copa/e1/", root / TEMP / name / "e1")
    said = cli("check").out
    assert "the target is in dataset 'Copa', not 'caf\\xe9'" in said and "\\udc" not in said


def test_example_store_lists_cleanly(cli: Cli) -> None:
    for argv in ALL_COMMANDS[:4]:
        result = cli(*argv[:1], *argv[1:2], "--root", str(EXAMPLE_ROOT))
        assert result.code == 0 and "❌" not in result.out, argv
    reused = cli("list-batch-experiments", TOPP, "--root", str(EXAMPLE_ROOT)).out
    assert "⚡ Data reuse: Yes (original batch: batch_20241228_pilot)" in reused


def test_real_process(seed_store: Path, tmp_path: Path) -> None:
    result = run_script("list-batch-experiments", TOPP, "--verbose", cwd=tmp_path)
    assert result.code == 0
    assert result.out == (GOLDEN / "list_batch_experiments_verbose.txt").read_text("utf-8")
    result = run_script("resolve-data-path", "/nowhere", cwd=tmp_path)
    assert result.code == 1 and result.out == ""
    assert result.err == "batchcheck: /nowhere: outside the store Data_v2/synthetic\n"


def test_real_process_yaml_from_the_environment(seed_store: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"BATCHCHECK_ROOT": str(seed_store)}
    result = run_script(
        "list-data-paths", "--batch", TOPP, "--format", "yaml", cwd=elsewhere, env=env
    )
    data = yaml.safe_load(result.out)
    # temp07_topp08_gpt4o is a dangling link in the seed's tree: left out, as a comment.
    assert [e["experiment"] for e in data["data_paths"]] == ["temp07_topp09_gpt4o"]
    assert "#   Copa/temp07_topp08_gpt4o: the shared experiment folder does not exist" in result.out
    assert seed_spec()  # the fixture tree is the seed's own


LOOKUPS = {
    "list-batches",
    "list-batch-experiments",
    "list-shared-experiments",
    "list-data-paths",
    "resolve-data-path",
    "compare-experiments",
    "fingerprint",
}


def test_readme_examples_are_real(cli: Cli) -> None:
    """Each ``$ batchcheck <lookup>`` block of the README is what the command prints today."""
    blocks = re.findall(
        r"```console\n\$ batchcheck ([^\n]+)\n(.*?)```", README.read_text("utf-8"), re.S
    )
    checked = 0
    for command, shown in blocks:
        argv = shlex.split(command)
        if argv[0] not in LOOKUPS:
            continue
        result = cli(*argv, cwd=README.parent)
        assert (result.code, result.out) == (0, shown), command
        checked += 1
    assert checked >= 10
