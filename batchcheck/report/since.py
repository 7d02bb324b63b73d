"""``report --since REV``: what changed in the store between a git revision and the working
tree: experiments and batches added, removed or renamed, links added or dropped, metadata
whose parameters changed (deepdiff), and the findings on what changed.

The revision is read from git without checking it out: ``git ls-tree -r`` lists its files
(a symlink is a blob of mode 120000 whose content is the link's target) and one
``git cat-file --batch`` reads the link targets and metadata files it needs.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from batchcheck.errors import UsageError
from batchcheck.layout import METADATA_FILE, SHARED
from batchcheck.lookups.common import dotted_path, parameters
from batchcheck.names import display
from batchcheck.report.facts import Facts, Key
from batchcheck.report.views import Since, SinceRow

SINCE_ROWS = 20  # rows of each list of the section; the rest are counted
SYMLINK = "120000"
LinkKey = tuple[str, str, str]  # batch, dataset, link name


@dataclass(frozen=True, slots=True)
class Side:
    """The store at one revision: its experiments' parameters, batches and link targets."""

    experiments: dict[Key, dict[str, Any] | None]  # None: no readable metadata
    batches: set[str]
    links: dict[LinkKey, str]


def _git(top: str, *args: str, data: bytes | None = None) -> bytes:
    proc = subprocess.run(
        ["git", "-C", top, *args], input=data, capture_output=True, check=False, timeout=600
    )
    if proc.returncode:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"--since: git {args[0]}: {message[-1] if message else 'failed'}")
    return proc.stdout


def read_revision(root: str, rev: str, fields: Iterable[str], limit: int) -> Side:
    """The store under ``root`` as revision ``rev`` of its git repository holds it."""
    try:
        top = _git(root, "rev-parse", "--show-toplevel").decode().strip()
    except FileNotFoundError as exc:
        raise UsageError("--since: git is not installed") from exc
    prefix = os.path.relpath(os.path.realpath(root), os.path.realpath(top))
    prefix = "" if prefix == "." else prefix.replace(os.sep, "/") + "/"
    listing = _git(top, "ls-tree", "-r", "-z", "--full-tree", rev, "--", prefix or ".")
    experiments: dict[Key, str | None] = {}
    batches: set[str] = set()
    links: dict[LinkKey, str] = {}
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, raw = entry.partition(b"\t")
        mode, _, sha = meta.decode().split(" ")
        parts = raw.decode("utf-8", "surrogateescape")[len(prefix) :].split("/")
        if parts[0] == SHARED and len(parts) >= 4:
            key = (parts[1], parts[2])
            found = experiments.setdefault(key, None)
            if parts[3] == METADATA_FILE and len(parts) == 4 and found is None:
                experiments[key] = sha
        elif parts[0].startswith("batch_") and len(parts) >= 2:
            batches.add(parts[0])
            if len(parts) == 3 and mode == SYMLINK:
                links[parts[0], parts[1], parts[2]] = sha
    wanted = [sha for sha in experiments.values() if sha] + list(links.values())
    blobs = _blobs(top, wanted, limit)
    fields = tuple(fields)
    return Side(
        experiments={
            key: _parameters(blobs.get(sha), fields) if sha else None
            for key, sha in experiments.items()
        },
        batches=batches,
        links={
            key: blobs.get(sha, b"").decode("utf-8", "surrogateescape")
            for key, sha in links.items()
        },
    )


def _blobs(top: str, shas: list[str], limit: int) -> dict[str, bytes]:
    """The content of each blob (one ``git cat-file --batch``); a blob over ``limit`` bytes
    is left out."""
    if not shas:
        return {}
    out = _git(top, "cat-file", "--batch", data="".join(s + "\n" for s in shas).encode())
    found: dict[str, bytes] = {}
    at = 0
    while at < len(out):
        end = out.index(b"\n", at)
        header = out[at:end].decode().split(" ")
        at = end + 1
        if len(header) < 3:  # "<sha> missing"
            continue
        size = int(header[2])
        if size <= limit:
            found[header[0]] = out[at : at + size]
        at += size + 1
    return found


def _parameters(raw: bytes | None, fields: tuple[str, ...]) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return {k: data[k] for k in fields if k in data} if isinstance(data, dict) else None


def working_tree(facts: Facts) -> Side:
    """The store as scanned now."""
    fields = facts.index.settings.fingerprint_fields
    store = facts.store
    return Side(
        experiments={
            key: parameters(exp, fields) if exp.metadata.ok else None
            for key, exp in store.experiments.items()
        },
        batches=set(store.batches),
        links={
            (link.batch, link.dataset, link.name): link.target
            for batch in store.batches.values()
            for link in batch.links
        },
    )


def changes(before: Side, facts: Facts, rev: str) -> Since:
    """What changed from ``before`` (the store at ``rev``) to the store as scanned now, each
    list bounded to its first rows."""
    from deepdiff import DeepDiff

    after = working_tree(facts)
    gone = {k: before.experiments[k] for k in before.experiments.keys() - after.experiments}
    new = {k: after.experiments[k] for k in after.experiments.keys() - before.experiments}
    # A removed and an added experiment of one dataset with the same parameters: a rename.
    renamed = []
    by_params: dict[str, list[Key]] = defaultdict(list)
    for key, params in gone.items():
        if params is not None:
            by_params[_same(key[0], params)].append(key)
    for key, params in sorted(new.items()):
        old = by_params.get(_same(key[0], params)) if params is not None else None
        if old:
            was = old.pop()
            renamed.append(SinceRow(_name(key), f"was {_name(was)}"))
            del gone[was]
            del new[key]
    added = [SinceRow(_name(k), "") for k in sorted(new)]
    removed = [SinceRow(_name(k), "") for k in sorted(gone)]
    changed, changed_keys = [], []
    for key in sorted(before.experiments.keys() & after.experiments.keys()):
        old_params, new_params = before.experiments[key], after.experiments[key]
        if old_params is None or new_params is None or old_params == new_params:
            continue
        diff = DeepDiff(old_params, new_params, view="tree", ignore_numeric_type_changes=True)
        paths = sorted(
            {
                dotted_path(level.path(output_format="list"))
                for kind in diff.values()
                for level in kind
            }
        )
        if paths:
            changed.append(SinceRow(_name(key), ", ".join(paths)))
            changed_keys.append(key)
    batch_gone = before.batches - after.batches
    batch_new = after.batches - before.batches
    batch_renamed = []
    for name in sorted(batch_new):
        mine = _links_of(after.links, name)
        match = next((b for b in sorted(batch_gone) if _links_of(before.links, b) == mine), None)
        if match is not None and mine:
            batch_renamed.append(SinceRow(display(name), f"was {display(match)}"))
            batch_gone.discard(match)
            batch_new.discard(name)
    links_added = [
        SinceRow(_link(k), display(after.links[k]))
        for k in sorted(after.links.keys() - before.links.keys())
    ]
    links_dropped = [
        SinceRow(_link(k), display(before.links[k]))
        for k in sorted(before.links.keys() - after.links.keys())
    ]
    root = str(facts.store.root)
    touched = {os.path.join(root, SHARED, *k) for k in [*new, *changed_keys]}
    touched |= {os.path.join(root, *k) for k in after.links.keys() - before.links.keys()}
    touched |= {os.path.join(root, k) for k in batch_new}
    findings = [
        SinceRow(f"{f.code} {facts.rel(str(f.path))}", display(f.message))
        for f in facts.result.findings
        if any(str(f.path) == t or str(f.path).startswith(t + os.sep) for t in touched)
    ]
    return Since(
        rev=display(rev),
        lists=[
            _bounded("Experiments added", added),
            _bounded("Experiments removed", removed),
            _bounded("Experiments renamed", renamed),
            _bounded("Parameters changed", changed),
            _bounded("Batches added", [SinceRow(display(b), "") for b in sorted(batch_new)]),
            _bounded("Batches removed", [SinceRow(display(b), "") for b in sorted(batch_gone)]),
            _bounded("Batches renamed", batch_renamed),
            _bounded("Links added", links_added),
            _bounded("Links dropped", links_dropped),
            _bounded("Findings on what changed", findings),
        ],
    )


def _bounded(title: str, rows: list[SinceRow]) -> tuple[str, int, list[SinceRow]]:
    return title, len(rows), rows[:SINCE_ROWS]


def _same(dataset: str, params: Mapping[str, Any] | None) -> str:
    """What a renamed experiment keeps: its dataset and parameters."""
    return dataset + "\0" + json.dumps(params, sort_keys=True, default=str)


def _links_of(links: Mapping[LinkKey, str], batch: str) -> set[tuple[str, str, str]]:
    return {(k[1], k[2], t) for k, t in links.items() if k[0] == batch}


def _name(key: Key) -> str:
    return f"{display(key[0])}/{display(key[1])}"


def _link(key: LinkKey) -> str:
    return "/".join(display(part) for part in key)
