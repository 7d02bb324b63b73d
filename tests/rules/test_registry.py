"""The registry: every rule module registered, documented, tested, and in the README."""

from __future__ import annotations

import pkgutil
import re
from pathlib import Path

import pytest
from conftest import README

import batchcheck.rules
from batchcheck.findings import Severity
from batchcheck.rules import RULES, by_code

HERE = Path(__file__).resolve().parent

MODULES = sorted(
    info.name for info in pkgutil.iter_modules(batchcheck.rules.__path__) if info.name[0] != "_"
)


def test_every_rule_module_is_registered() -> None:
    assert sorted(rule.__name__.rsplit(".", 1)[1] for rule in RULES) == MODULES


@pytest.mark.parametrize("name", MODULES)
def test_rule_module_shape(name: str) -> None:
    rule = next(r for r in RULES if r.__name__.endswith("." + name))
    assert re.fullmatch(r"BC\d{3}", rule.CODE)
    assert name.startswith(rule.CODE.lower() + "_")
    assert isinstance(rule.SEVERITY, Severity)
    assert rule.SUMMARY and "\n" not in rule.SUMMARY
    assert rule.SCOPE in ("any", "batches", "shared", "all")
    assert rule.__doc__ and rule.__doc__.startswith(f"{rule.CODE} ({rule.SEVERITY.value}): ")
    assert callable(rule.check)
    assert (HERE / f"test_{name}.py").is_file(), f"no tests/rules/test_{name}.py"


def test_codes_are_unique_and_cover_the_spec() -> None:
    spec = {"BC101", "BC102", "BC103", "BC104", "BC105", "BC106", "BC107", "BC201", "BC202"}
    spec |= {"BC301"}
    spec |= {"BC302"}
    spec |= {"BC303", "BC304", "BC305", "BC306", "BC401", "BC402"}
    assert len(by_code()) == len(RULES)
    assert set(by_code()) == spec


def test_readme_rules_table_matches_the_registry() -> None:
    rows = [f"| {r.CODE} | {r.SEVERITY.value} | {r.SUMMARY} |" for r in RULES]
    table = "\n".join(["| code | severity | what |", "| --- | --- | --- |", *rows])
    assert table in README.read_text(encoding="utf-8")
