"""How the report shows metadata values: as short one-line texts (on the seed's
:func:`~batchcheck.formats.seed.value`), in natural order, and which parameters vary among a
batch's experiments."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from batchcheck.formats.seed import value
from batchcheck.metadata import number
from batchcheck.names import display
from batchcheck.report.views import Param

VALUE_MAX = 60  # characters of a parameter value shown in a table cell
# Leaf path -> (comparable value, value) of each experiment that has it (varying_parameters).
Leaves = defaultdict[tuple[str, ...], list[tuple[Any, Any]]]


def show_value(item: Any) -> str:
    """A metadata value as the seed shows it, on one line of at most ``VALUE_MAX``
    characters; nothing for None."""
    kind = type(item)
    if kind is int or (kind is float and math.isfinite(item)):
        # value()'s str(item), one ASCII word, without its type checks: a batch shows many.
        text = repr(item)
    elif item is None:
        return ""
    elif kind is str:
        # Folded before value() displays it: escaped bytes may decode to a space (b"\xc2\xa0").
        text = value(" ".join(item.split()))
    elif kind is float:
        text = json.dumps(item)  # NaN, Infinity as in the file; value() would say nan, inf
    else:
        text = display(" ".join(value(item).split()))
    return text if len(text) <= VALUE_MAX else text[: VALUE_MAX - 1] + "…"


@lru_cache(maxsize=4096, typed=True)
def _shown_cached(item: Any) -> str:
    return show_value(item)


def shown(item: Any) -> str:
    """:func:`show_value`, once per value: the experiments of a store repeat a few values
    (a model, a temperature, a prompt template) many times."""
    try:
        return _shown_cached(item)
    except TypeError:  # a list or an object: not hashable
        return show_value(item)


def natural(text: str) -> tuple[int, float, str]:
    """Shown values with numbers in numeric order before other text.

    Not lookups' sort_values: that orders values, this the texts shown (a number's text, a
    cut one, "(missing)"), ties by text.
    """
    try:
        return (0, float(text), text)
    except ValueError:
        return (1, 0.0, text)


def section(fields: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """A sub-object of the metadata (``generation``), or an empty one when it is not one."""
    found = fields.get(name)
    return found if isinstance(found, dict) else {}


def varying_parameters(params: Iterable[Mapping[str, Any]]) -> list[Param]:
    """Parameters whose values differ among ``params`` (a value missing somewhere counts).

    One pass over each experiment's leaves, so a batch of any size costs what reading it
    costs; ``compare-experiments`` shows the full deepdiff of two experiments.
    """
    trees = list(params)
    leaves: Leaves = defaultdict(list)
    for tree in trees:
        _leaves(tree, (), leaves)
    out = []
    for path, found in sorted(leaves.items()):
        if len(found) == len(trees):  # every tree has this leaf: its values say it all
            if len({comparable for comparable, _ in found}) < 2:
                continue
            texts = {shown(item) or "(missing)" for _, item in found}
        else:
            texts = {shown(_lookup(tree, path)) or "(missing)" for tree in trees}
        out.append(Param(".".join(path), sorted(texts, key=natural)))
    return out


def _leaves(data: Mapping[str, Any], prefix: tuple[str, ...], out: Leaves) -> None:
    """Add (comparable value, value) of every leaf of ``data`` to ``out`` under its path.

    Not lookups' flatten: a list is one leaf here, shown whole. Strings compare as themselves,
    numbers as floats (1 and 1.0 are one configuration, as in the fingerprint), anything else
    as its JSON text in a 1-tuple, so it never equals a string.
    """
    for key, item in data.items():
        path = (*prefix, key if type(key) is str else str(key))
        kind = type(item)
        if kind is str:
            out[path].append((item, item))
        elif kind is float or kind is int:
            # An integer past every float (310+ digits) compares as itself.
            out[path].append((number(item) or item, item))
        elif (kind is dict or isinstance(item, Mapping)) and item:
            _leaves(item, path, out)
        else:
            out[path].append(((json.dumps(item, sort_keys=True, default=str),), item))


def _lookup(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    found: Any = data
    for part in path:
        if not isinstance(found, Mapping) or part not in found:
            return None
        found = found[part]
    return found
