"""Multi-line values (prompts) in listings and comparisons, and the ``❌`` lines listings give an
experiment whose metadata breaks the schema or whose stored fingerprint is stale."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import TEMP, Cli, make_tree, metadata, store_spec

from batchcheck import fingerprint

LINES = [f"Line {i} of the prompt." for i in range(1, 13)]
PROMPT = "\n".join(LINES)
CONCISE = "\n".join([*LINES[:-1], LINES[-1] + " Be concise."])


def stored(name: str, **generation: Any) -> dict[str, Any]:
    meta = metadata("Copa", name, TEMP)
    meta["generation"].update(generation)
    meta["parameter_fingerprint"] = fingerprint(meta)
    return {
        f"_shared/Copa/{name}/experiment_metadata.json": meta,
        f"_shared/Copa/{name}/Copa/train.jsonl": "{}\n",
        f"{TEMP}/Copa/{name}": f"-> ../../_shared/Copa/{name}/",
    }


@pytest.fixture
def root(tmp_path: Path) -> Path:
    spec = {**stored("a", prompt_template=PROMPT), **stored("b", prompt_template=CONCISE)}
    return make_tree(tmp_path / "Data_v2" / "synthetic", spec)


def test_compare_shows_a_multi_line_difference_as_a_unified_diff(cli: Cli, root: Path) -> None:
    out = cli("compare-experiments", "--shared", "Copa/a", "--shared", "Copa/b", "--no-emoji").out
    assert (
        "[!] Different parameters:\n"
        "  generation.prompt_template:\n"
        "    --- Experiment 1\n"
        "    +++ Experiment 2\n"
        "    @@ -9,4 +9,4 @@\n"
        "     Line 9 of the prompt.\n"
        "     Line 10 of the prompt.\n"
        "     Line 11 of the prompt.\n"
        "    -Line 12 of the prompt.\n"
        "    +Line 12 of the prompt. Be concise.\n"
        "\n"
    ) in out


def test_the_same_multi_line_value_is_an_indented_block(cli: Cli, root: Path) -> None:
    make_tree(root, stored("c", prompt_template=PROMPT, temperature=0.9))
    out = cli("compare-experiments", "--shared", "Copa/a", "--shared", "Copa/c").out
    same = "  generation.prompt_template: |\n" + "".join(f"    {line}\n" for line in LINES)
    assert same in out
    verbose = cli("list-shared-experiments", "--verbose", "--dataset", "Copa").out
    assert "       Prompt template: |\n" + "".join(f"         {x}\n" for x in LINES) in verbose


def test_control_characters_in_a_value_never_reach_the_terminal_raw(cli: Cli, root: Path) -> None:
    make_tree(root, stored("d", prompt_template="red \x1b[31mtext\nsecond\rline"))
    out = cli("list-shared-experiments", "--verbose", "--dataset", "Copa").out
    assert "\x1b" not in out and "\r" not in out
    assert "         red \\x1b[31mtext\n         second\\rline\n" in out


def test_a_multi_line_description_is_a_block_too(cli: Cli, root: Path) -> None:
    meta_path = root / "_shared/Copa/a/experiment_metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["experiment_description"] = "First line.\nSecond line."
    meta_path.write_text(json.dumps(meta))
    out = cli("list-shared-experiments", "--verbose", "--dataset", "Copa").out
    assert "     Experiment description: |\n       First line.\n       Second line.\n" in out


def test_the_batch_form_lists_each_multi_line_value_as_a_block(cli: Cli, root: Path) -> None:
    make_tree(root, {"batch_20250101_x/Copa/a": "-> ../../_shared/Copa/a/"})
    out = cli(
        "compare-experiments",
        *("--batch1", TEMP, "--dataset1", "Copa", "--batch2", "batch_20250101_x"),
        *("--dataset2", "Copa"),
    ).out
    assert "  generation.prompt_template:\n    Side 1: |\n      Line 1 of the prompt.\n" in out
    assert out.count("    Side 1: |\n") == 2 and out.count("    Side 2: |\n") == 1


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """One experiment breaking the schema, one with a stale fingerprint, one healthy."""
    schema = metadata("Copa", "schema", TEMP)
    del schema["generation"]["top_p"]
    schema["parameter_fingerprint"] = fingerprint(schema)
    stale = metadata("Copa", "stale", TEMP, parameter_fingerprint="0" * 32)
    spec = store_spec([("Copa", "healthy", TEMP, 0.7, 1.0)], [(TEMP, "Copa", "healthy")])
    for name, meta in (("schema", schema), ("stale", stale)):
        spec[f"_shared/Copa/{name}/experiment_metadata.json"] = meta
        spec[f"_shared/Copa/{name}/Copa/train.jsonl"] = "{}\n"
        spec[f"{TEMP}/Copa/{name}"] = f"-> ../../_shared/Copa/{name}/"
    return make_tree(tmp_path / "Data_v2" / "synthetic", spec)


SCHEMA = "metadata breaks the schema: generation.top_p: missing"
STALE = "stale fingerprint: stored '00000000000000000000000000000000', the parameters give "


def test_listings_mark_schema_problems_and_stale_fingerprints(cli: Cli, broken: Path) -> None:
    shared = cli("list-shared-experiments").out
    where = "     Physical path: Data_v2/synthetic/_shared/Copa/schema\n"
    assert f"  📦 schema\n{where}     ❌ {SCHEMA}\n" in shared
    assert f"     ❌ {STALE}" in shared
    assert shared.count("❌") == 2
    in_batch = cli("list-batch-experiments", TEMP).out
    assert f"     ❌ {SCHEMA}\n" in in_batch and f"     ❌ {STALE}" in in_batch
    assert in_batch.count("❌") == 2


def test_the_json_problems_say_the_same(cli: Cli, broken: Path) -> None:
    doc = cli("list-shared-experiments", "--format", "json").json()
    problems = {e["name"]: e["problems"] for e in doc["datasets"][0]["experiments"]}
    assert problems["healthy"] == []
    assert problems["schema"] == [SCHEMA]
    assert problems["stale"][0].startswith(STALE)
    doc = cli("list-batch-experiments", TEMP, "--format", "json").json()
    problems = {e["name"]: e["problems"] for e in doc["datasets"][0]["experiments"]}
    assert problems == {
        "healthy": [],
        "schema": [SCHEMA],
        "stale": [problems["stale"][0]],
    }
    assert problems["stale"][0].startswith(STALE)
