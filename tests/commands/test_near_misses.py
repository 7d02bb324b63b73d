"""``plan`` names near misses: for each configuration to generate, the stored experiments of its
dataset with the fewest differing parameters, and exactly which keys differ, in every format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import PILOT, TOPP, Cli, experiment, make_tree, metadata

from batchcheck import fingerprint
from batchcheck.lookups.nearest import NearIndex, _differences, _leaves
from batchcheck.metadata import Judge, Metadata
from batchcheck.model import Experiment

BATCH = "batch_20250106_topp_sweep"
PROMPT = "Write a COPA item.\nGive two alternatives.\nOutput JSON."
# The sweep of the issue: prompt_template left out, so nothing matches.
SWEEP = """\
datasets: [Copa]
generation: {model: gpt-4o, temperature: 0.7, max_tokens: 256}
validation: {model: gpt-4o, temperature: 0.0}
sweep:
  top_p: [0.6, 0.9]
"""


def with_prompt(dataset: str, name: str, batch: str, temperature: float, top_p: float) -> Any:
    spec = experiment(dataset, name, batch, temperature, top_p)
    meta = spec[f"_shared/{dataset}/{name}/experiment_metadata.json"]
    meta["generation"]["prompt_template"] = PROMPT
    meta["parameter_fingerprint"] = fingerprint(meta)
    return spec


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "sweep.yaml").write_text(SWEEP, encoding="utf-8")
    spec = {
        **with_prompt("Copa", "temp07_topp09_gpt4o", PILOT, 0.7, 0.9),
        **with_prompt("Copa", "temp07_topp08_gpt4o", TOPP, 0.7, 0.8),
        **with_prompt("CB", "temp07_topp06_gpt4o", TOPP, 0.7, 0.6),  # another dataset: never
    }
    return make_tree(tmp_path / "Data_v2" / "synthetic", spec)


def plan(cli: Cli, *extra: str) -> Any:
    result = cli("plan", "sweep.yaml", "--batch", BATCH, *extra)
    assert result.code == 0, result.err
    return result


def test_json_names_the_stored_experiment_that_differs_only_in_the_prompt(
    cli: Cli, root: Path
) -> None:
    doc = plan(cli, "--format", "json").json()
    assert doc["summary"]["generate"] == 2
    by_values = {c["sweep_values"]["top_p"]: c for c in doc["configurations"]}
    topp09 = by_values[0.9]
    assert topp09["experiment_name"].startswith("temp07_topp09_gpt4o_")  # the name is taken
    assert topp09["near_misses"] == [
        {
            "experiment": "temp07_topp09_gpt4o",
            "shared_path": "Data_v2/synthetic/_shared/Copa/temp07_topp09_gpt4o",
            "differing": 1,
            "differences": [
                {
                    "path": "generation.prompt_template",
                    "stored": PROMPT,
                    "planned": None,
                    "change": "removed",
                }
            ],
        }
    ]
    # top_p 0.6: both stored ones differ in top_p and the prompt; ties are listed by name.
    near = by_values[0.6]["near_misses"]
    assert [n["experiment"] for n in near] == ["temp07_topp08_gpt4o", "temp07_topp09_gpt4o"]
    assert [d["path"] for d in near[0]["differences"]] == [
        "generation.top_p",
        "generation.prompt_template",
    ]
    assert near[0]["differences"][0] == {
        "path": "generation.top_p",
        "stored": 0.8,
        "planned": 0.6,
        "change": "changed",
    }


def test_yaml_carries_the_same_near_misses_beside_the_metadata(cli: Cli, root: Path) -> None:
    json_doc = plan(cli, "--format", "json").json()
    entries = yaml.safe_load(plan(cli, "--format", "yaml").out)["generate"]
    generated = [c for c in json_doc["configurations"] if c["status"] == "generate"]
    assert [e["near_misses"] for e in entries] == [c["near_misses"] for c in generated]
    assert [e["metadata"] for e in entries] == [c["metadata"] for c in generated]


def test_text_shows_the_difference_and_calls_out_the_near_miss(cli: Cli, root: Path) -> None:
    out = plan(cli, "--no-emoji").out
    block = out.split("Sweep values: top_p=0.9\n")[1].split("\n\n")[0]
    assert "[!] Nearest stored (1 parameter differs, stored -> planned):" in block
    assert "        temp07_topp09_gpt4o:\n          generation.prompt_template:\n" in block
    assert "            stored: |\n              Write a COPA item.\n" in block
    assert "            planned: (missing)" in block
    assert "[!] Near misses: 1 of them differ from a stored experiment only in a parameter" in out


def test_a_changed_multi_line_prompt_is_a_unified_diff(cli: Cli, root: Path) -> None:
    (root.parents[1] / "sweep.yaml").write_text(
        SWEEP.replace(
            "max_tokens: 256}",
            f"max_tokens: 256, prompt_template: {json.dumps(PROMPT + ' Be concise.')}}}",
        )
    )
    out = plan(cli, "--no-emoji").out
    assert (
        "        temp07_topp09_gpt4o:\n"
        "          generation.prompt_template:\n"
        "            --- stored\n"
        "            +++ planned\n"
        "            @@ -1,3 +1,3 @@\n"
        "             Write a COPA item.\n"
        "             Give two alternatives.\n"
        "            -Output JSON.\n"
        "            +Output JSON. Be concise.\n"
    ) in out


def test_a_swept_difference_is_no_near_miss_and_an_empty_dataset_has_none(
    cli: Cli, root: Path
) -> None:
    sweep = SWEEP.replace(
        "max_tokens: 256}", f"max_tokens: 256, prompt_template: {json.dumps(PROMPT)}}}"
    )
    (root.parents[1] / "sweep.yaml").write_text(sweep.replace("[0.6, 0.9]", "[0.6]"))
    result = plan(cli, "--no-emoji")
    assert "temp07_topp08_gpt4o: generation.top_p: 0.8 -> 0.6" in result.out
    assert "Near misses" not in result.out
    assert NearIndex([], ("dataset", "generation")).nearest("MNLI", {"dataset": "MNLI"}) == ()


def experiments(specs: list[dict[str, Any]]) -> list[Experiment]:
    judge = Judge()
    return [
        Experiment(m["dataset"], m["experiment_name"], "/s", judge(Metadata("ok", data=m)))
        for m in specs
    ]


def test_fewest_differing_leaves_win_and_numbers_compare_as_fingerprinted() -> None:
    stored = experiments(
        [
            metadata("Copa", "one_off", TOPP, 0.7, 1),  # top_p 1 (an int): the same as 1.0
            metadata("Copa", "two_off", TOPP, 0.5, 0.9),
        ]
    )
    index = NearIndex(stored, ("dataset", "generation", "validation"))
    wanted = metadata("Copa", "x", TOPP, 0.7, 1.0)
    wanted["generation"]["max_tokens"] = 512
    (near,) = index.nearest("Copa", wanted)
    assert near.experiment.name == "one_off"
    assert [(d.path, d.stored, d.planned) for d in near.differences] == [
        ("generation.max_tokens", 256, 512)
    ]
    flag = metadata("Copa", "flag", TOPP, 0.7, 1.0)
    flag["generation"]["stream"] = True
    index = NearIndex(experiments([flag]), ("dataset", "generation", "validation"))
    wanted = metadata("Copa", "x", TOPP, 0.7, 1.0)
    wanted["generation"]["stream"] = 1  # a boolean is no number
    (near,) = index.nearest("Copa", wanted)
    assert [d.path for d in near.differences] == ["generation.stream"]


def test_at_most_three_ties_are_named_in_name_order() -> None:
    stored = experiments([metadata("Copa", f"e{i}", TOPP, 0.7, i / 10) for i in range(9, 0, -1)])
    index = NearIndex(stored, ("dataset", "generation", "validation"))
    near = index.nearest("Copa", metadata("Copa", "x", TOPP, 0.7, 0.55))
    assert [n.experiment.name for n in near] == ["e1", "e2", "e3"]


def test_on_a_large_dataset_the_counted_distance_is_the_full_difference() -> None:
    """20k stored experiments, 20 configurations: the distance counted from the value index is
    the number of differences a full comparison finds, so the nearest are the true nearest."""
    stored = experiments(
        [
            metadata("Copa", f"e{i}", TOPP, (i % 20) / 10, (i // 20 % 10) / 10, seed=i)
            for i in range(20_000)
        ]
    )
    index = NearIndex(stored, ("dataset", "generation", "validation"))
    copa = index.datasets["Copa"]
    for i in range(20):
        params = metadata("Copa", "x", TOPP, 0.33, i / 20)
        near = index.nearest("Copa", params)
        wanted = _leaves({key: params[key] for key in index.fields if key in params})
        fewest = min(len(_differences(leaves, wanted)) for leaves in copa.leaves)
        assert near and {len(n.differences) for n in near} == {fewest}
