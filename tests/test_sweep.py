"""Sweep files: expansion, explicit configurations, and strictness (one clear error, exit 2)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Result, experiment, make_tree, snapshot

from batchcheck.errors import UsageError
from batchcheck.sweep import load_sweep

BASE = """\
datasets: [Copa]
generation: {model: gpt-4o, temperature: 0.7, top_p: 1.0, max_tokens: 256}
validation: {model: gpt-4o, temperature: 0.0}
"""


def write(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_sweep_expands_every_combination_in_file_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        BASE.replace("[Copa]", "[Copa, CB]")
        + "sweep:\n  temperature: [0.5, 0.9]\n  top_p: [0.9, 1.0]\n",
    )
    sweep = load_sweep(path, "sweep.yaml")
    got = [
        (c.dataset, c.generation["temperature"], c.generation["top_p"])
        for c in sweep.configurations
    ]
    assert got == [
        ("Copa", 0.5, 0.9),
        ("Copa", 0.5, 1.0),
        ("Copa", 0.9, 0.9),
        ("Copa", 0.9, 1.0),
        ("CB", 0.5, 0.9),
        ("CB", 0.5, 1.0),
        ("CB", 0.9, 0.9),
        ("CB", 0.9, 1.0),
    ]
    assert [c.number for c in sweep.configurations] == list(range(1, 9))
    assert sweep.configurations[0].values == {"temperature": 0.5, "top_p": 0.9}
    assert sweep.configurations[0].label == "Copa, temperature=0.5, top_p=0.9"


def test_explicit_configurations_dotted_keys_and_dataset_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
datasets:
  Copa: {prompt_template: "copa prompt"}
  CB: {prompt_template: "cb prompt", validation.temperature: 0.1}
generation: {model: gpt-4o, temperature: 0.7, top_p: 1.0, max_tokens: 256}
validation: {model: gpt-4o, temperature: 0.0}
configurations:
  - {top_p: 0.9}
  - {generation.temperature: 0.9, validation.model: gpt-4o-mini}
""",
    )
    configs = load_sweep(path, "s").configurations
    assert len(configs) == 4
    copa, copa2, cb, _ = configs
    assert copa.generation == {
        "model": "gpt-4o",
        "temperature": 0.7,
        "top_p": 0.9,
        "max_tokens": 256,
        "prompt_template": "copa prompt",
    }
    assert copa2.validation == {"model": "gpt-4o-mini", "temperature": 0.0}
    assert copa2.generation["temperature"] == 0.9
    assert cb.generation["prompt_template"] == "cb prompt"
    assert cb.validation == {"model": "gpt-4o", "temperature": 0.1}


def test_extra_block_is_merged_flat_and_can_be_swept(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        BASE.replace("max_tokens: 256}", "max_tokens: 256, extra: {frequency_penalty: 0.0}}")
        + "sweep: {frequency_penalty: [0.0, 0.5]}\n",
    )
    configs = load_sweep(path, "s").configurations
    assert [c.generation["frequency_penalty"] for c in configs] == [0.0, 0.5]
    assert "extra" not in configs[0].generation
    assert list(configs[0].generation) == [
        "model",
        "temperature",
        "top_p",
        "max_tokens",
        "frequency_penalty",
    ]


def test_no_sweep_is_one_configuration_and_dataset_may_be_a_string(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace("datasets: [Copa]", "dataset: Copa"))
    (config,) = load_sweep(path, "s").configurations
    assert config.params() == {
        "dataset": "Copa",
        "generation": {"model": "gpt-4o", "temperature": 0.7, "top_p": 1.0, "max_tokens": 256},
        "validation": {"model": "gpt-4o", "temperature": 0.0},
    }
    assert config.values == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [unclosed", "s.yaml: not valid YAML"),
        ("a: " + "9" * 5000, "s.yaml: not valid YAML: Exceeds the limit (4300 digits)"),
        ("- just\n- a list\n", "s.yaml: expected a mapping"),
        (
            BASE.replace("temperature: 0.7", "temprature: 0.7"),
            "s.yaml: generation.temprature: unknown key (did you mean 'temperature'?); "
            "other parameters go under generation.extra",
        ),
        (
            BASE + "sweep: {temprature: [0.5, 0.7]}\n",
            "s.yaml: sweep.temprature: unknown key (did you mean 'temperature'?)",
        ),
        (BASE + "sweeps: {top_p: [0.9]}\n", "s.yaml: sweeps: unknown key (did you mean 'sweep'?)"),
        (
            BASE + "configurations: [{validation.temprature: 0.1}]\n",
            "s.yaml: configurations[0].validation.temprature: unknown key",
        ),
        (
            BASE.replace("temperature: 0.7", "temperature: '0.7'"),
            "s.yaml: generation.temperature: '0.7' is not of type 'number'",
        ),
        (
            BASE.replace("max_tokens: 256", "max_tokens: 1.5"),
            "s.yaml: generation.max_tokens: 1.5 is not of type 'integer'",
        ),
        (BASE + "sweep: {top_p: 0.9}\n", "s.yaml: sweep.top_p: 0.9 is not of type 'array'"),
        (
            BASE + "sweep: {top_p: [0.9, yes]}\n",
            "s.yaml: sweep.top_p[1]: True is not of type 'number'",
        ),
        (BASE + "sweep: {top_p: []}\n", "s.yaml: sweep.top_p: [] should be non-empty"),
        (BASE + "sweep: {top_p: [0.9]}\nsweep: {top_p: [1.0]}\n", "key 'sweep' is given twice"),
        (
            BASE + "sweep: {top_p: [0.9]}\nconfigurations: [{top_p: 0.9}]\n",
            "s.yaml: use either sweep (every combination) or configurations, not both",
        ),
        (
            BASE + "sweep: {top_p: [0.9], generation.top_p: [1.0]}\n",
            "s.yaml: sweep: generation.top_p is swept under two keys",
        ),
        (BASE.replace("datasets: [Copa]\n", ""), "s.yaml: name the data with"),
        (
            BASE.replace("max_tokens: 256}", "max_tokens: 256, extra: {top_p: 0.5}}"),
            "s.yaml: generation.extra.top_p: a known parameter; set it as generation.top_p",
        ),
        (
            BASE.replace("validation: {model: gpt-4o, ", "validation: {"),
            "s.yaml: configuration 1 (Copa): validation.model: missing",
        ),
        (
            BASE.replace("temperature: 0.7", "temperature: .nan"),
            "s.yaml: configuration 1 (Copa): generation.temperature: nan is not a finite number",
        ),
        (
            BASE + "sweep: {top_p: [0.9, 0.90]}\n",
            "s.yaml: configurations 1 and 2 (Copa, top_p=0.9) are the same configuration",
        ),
        (
            BASE.replace("[Copa]", "[Copa, Coppa]"),
            "s.yaml: dataset 'Coppa' is not in the store (it has: Copa)",
        ),
    ],
)
def test_bad_sweep_files_are_one_line_exit_2_and_write_nothing(
    cli: Callable[..., Result], tmp_path: Path, text: str, message: str
) -> None:
    root = make_tree(
        tmp_path / "Data_v2" / "synthetic",
        experiment("Copa", "temp07_topp10_gpt4o", "batch_20241229_t", 0.7, 1.0),
    )
    write(tmp_path, text, "s.yaml")
    before = snapshot(tmp_path)
    result = cli("plan", "s.yaml", "--batch", "batch_20250106_sweep", "--apply")
    assert result.code == 2, result.err
    assert result.out == ""
    assert result.err.startswith("batchcheck: error: ")
    assert message in result.err
    assert result.err.count("\n") == 1
    assert snapshot(tmp_path) == before
    assert (root / "batch_20250106_sweep").exists() is False


def test_missing_sweep_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"^nope\.yaml: cannot read: No such file"):
        load_sweep(tmp_path / "nope.yaml", "nope.yaml")
