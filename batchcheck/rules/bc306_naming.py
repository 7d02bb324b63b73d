"""BC306 (warning): an experiment name that states parameters disagrees with its metadata.

The team's convention names an experiment after its settings: ``temp07_topp09_gpt4o`` is
temperature 0.7, top_p 0.9, model gpt-4o. A name matching ``temp<TT>_topp<PP>_<rest>`` is
judged: ``TT`` must equal round(generation.temperature x 10), ``PP`` round(generation.top_p x
10), and ``<rest>`` must be the model lowercased without punctuation (``gpt-4o`` -> ``gpt4o``)
or start with it followed by ``_`` (``temp07_topp09_gpt4o_v2``). The message says which part
disagrees and what the metadata holds. Other names are not judged, nor is a name whose
metadata lacks the value (BC302 reports that).

Set ``naming_convention = false`` in ``[tool.batchcheck]`` when your names do not follow this
convention: the rule then reports nothing. (Batch folder names are judged by BC402 either way.)
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from functools import lru_cache

from batchcheck.findings import Finding, Severity
from batchcheck.index import StoreIndex
from batchcheck.metadata import number
from batchcheck.model import Experiment, Store
from batchcheck.names import quoted

CODE = "BC306"
SEVERITY = Severity.WARNING
SUMMARY = "an experiment name that states parameters disagrees with its metadata"
SCOPE = "any"
FIELDS = (
    "generation.model",
    "generation.temperature",
    "generation.top_p",
)  # the metadata fields it reads (a full check keeps only these)

PATTERN = re.compile(r"temp(\d\d)_topp(\d\d)_(.+)", re.ASCII)


@lru_cache(maxsize=1024)
def model_token(model: str) -> str:
    """The model as names write it: lowercased, punctuation dropped (``gpt-4o`` -> ``gpt4o``)."""
    return "".join(ch for ch in model.lower() if ch.isalnum())


def disagreements(exp: Experiment) -> list[str]:
    """What the name states that the metadata contradicts; empty when it is not judged."""
    match = PATTERN.fullmatch(exp.name)
    if match is None:
        return []
    temp, topp, rest = match.groups()
    out = []
    generation = exp.metadata.get("generation")
    if not isinstance(generation, dict):
        return []  # missing or not an object: BC302
    for digits, label, field in (
        (temp, "temp", "temperature"),
        (topp, "topp", "top_p"),
    ):
        value = number(generation.get(field))
        if value is None or not math.isfinite(value * 10):
            continue  # missing, not a number or not finite: BC302
        stated = round(value * 10)
        if int(digits) != stated:
            out.append(f"{label}{digits} but generation.{field} is {value:g} ({label}{stated:02d})")
    model = generation.get("model")
    if isinstance(model, str):
        token = model_token(model)
        if rest != token and not rest.startswith(token + "_"):
            out.append(f"{quoted(rest)} but generation.model is {quoted(model)} ({token})")
    return out


def check(store: Store, index: StoreIndex) -> Iterator[Finding]:
    """Every experiment whose parameter-stating name contradicts its metadata."""
    if not index.settings.naming_convention:
        return
    for exp in store.experiments.values():
        parts = disagreements(exp)
        if parts:
            yield Finding(
                exp.path,
                CODE,
                "name disagrees with the metadata: " + "; ".join(parts),
                SEVERITY,
            )
