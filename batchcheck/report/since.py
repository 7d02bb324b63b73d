"""``report --since REV``: what changed in the store between a git revision and the working
tree: experiments and batches added, removed or renamed, links added or dropped, metadata
whose parameters changed (deepdiff), and the findings that are new.

The revision is read from git without checking it out (the working tree and the index are
left alone): ``git ls-tree -r`` lists its files (a symlink is a blob of mode 120000 whose
content is the link's target) and one ``git cat-file --batch`` reads the link targets and
metadata files. From these the revision's store is rebuilt in a temporary folder (every other
file empty: no rule reads data files, BC304 only needs the data folder not empty), scanned and
checked as the working tree is, so both sides are one model and a finding is new when the
revision's check did not have it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from batchcheck.config import Settings
from batchcheck.engine import run_check
from batchcheck.errors import UsageError
from batchcheck.findings import CheckResult
from batchcheck.layout import METADATA_FILE, SHARED
from batchcheck.lookups.common import dotted_path, parameters
from batchcheck.model import Store
from batchcheck.names import display
from batchcheck.report.facts import Facts, Key
from batchcheck.report.views import Since, SinceRow
from batchcheck.scan import ScanOptions, scan

SINCE_ROWS = 20  # rows of each list of the section; the rest are counted
SYMLINK = "120000"
LinkKey = tuple[str, str, str]  # batch, dataset, link name
Spot = tuple[str, str]  # a finding as compared across revisions: code, path under the root


@dataclass(frozen=True, slots=True)
class Side:
    """The store at one revision: its experiments' parameters, batches, link targets and the
    findings of its check."""

    experiments: dict[Key, dict[str, Any] | None]  # None: no readable metadata
    batches: set[str]
    links: dict[LinkKey, str]
    findings: frozenset[Spot]


def _git(top: str, *args: str, data: bytes | None = None) -> bytes:
    proc = subprocess.run(
        ["git", "-C", top, *args], input=data, capture_output=True, check=False, timeout=600
    )
    if proc.returncode:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"--since: git {args[0]}: {message[-1] if message else 'failed'}")
    return proc.stdout


def read_revision(settings: Settings, options: ScanOptions, rev: str) -> Side:
    """The store under ``settings.root`` as revision ``rev`` of its git repository holds it,
    scanned with ``options`` (no cache) and checked with ``settings``."""
    root = str(settings.root)
    try:
        top = _git(root, "rev-parse", "--show-toplevel").decode().strip()
    except FileNotFoundError as exc:
        raise UsageError("--since: git is not installed") from exc
    prefix = os.path.relpath(os.path.realpath(root), os.path.realpath(top))
    prefix = "" if prefix == "." else prefix.replace(os.sep, "/") + "/"
    listing = _git(top, "ls-tree", "-r", "-z", "--full-tree", rev, "--", prefix or ".")
    files: dict[str, tuple[str, str]] = {}  # path under the root -> mode, blob
    for entry in listing.split(b"\0"):
        meta, _, raw = entry.partition(b"\t")
        if raw:
            mode, _, sha = meta.decode().split(" ")
            files[raw.decode("utf-8", "surrogateescape")[len(prefix) :]] = (mode, sha)
    wanted = {
        sha
        for path, (mode, sha) in files.items()
        if mode == SYMLINK or path.rsplit("/", 1)[-1] == METADATA_FILE
    }
    blobs = _blobs(top, sorted(wanted), settings.max_metadata_bytes)
    with tempfile.TemporaryDirectory(prefix="batchcheck-since-") as scratch:
        copy = os.path.join(scratch, "store")
        try:
            moved = _rebuild(copy, files, blobs, _roots(root))
        except OSError as exc:
            why = exc.strerror or str(exc)
            raise UsageError(f"--since: cannot rebuild {display(rev)}'s store: {why}") from exc
        plain = replace(options, cache_dir=None, read=replace(options.read, sizes=False))
        store = scan(Path(copy), plain)
        result = run_check(store, replace(settings, root=Path(copy), configs=()))
        return _side(store, result, settings.fingerprint_fields, moved)


def _blobs(top: str, shas: list[str], limit: int) -> dict[str, bytes]:
    """The content of each blob (one ``git cat-file --batch``); a blob over ``limit`` bytes
    is cut to ``limit + 1`` (still too big for check) without being read whole."""
    if not shas:
        return {}
    query = "".join(s + "\n" for s in shas).encode()
    sizes = {}
    for line in _git(top, "cat-file", "--batch-check", data=query).decode().splitlines():
        sha, _, size = [*line.split(" "), "", ""][:3]  # "<sha> missing" has no size
        if size.isdigit():
            sizes[sha] = int(size)
    small = [sha for sha in shas if sizes.get(sha, limit + 1) <= limit]
    found = {sha: b"\0" * (limit + 1) for sha in sizes.keys() - set(small)}
    out = _git(top, "cat-file", "--batch", data="".join(s + "\n" for s in small).encode())
    at = 0
    while at < len(out):
        end = out.index(b"\n", at)
        sha, _, length = out[at:end].decode().split(" ")
        at = end + 1
        found[sha] = out[at : at + int(length)]
        at += int(length) + 1
    return found


def _roots(root: str) -> re.Pattern[str]:
    """The spellings of ``root`` an absolute link into the store may start with (as given,
    and the physical path when the root is reached through a symlink)."""
    spellings = sorted({os.path.abspath(root), os.path.realpath(root)}, key=len, reverse=True)
    return re.compile("|".join(re.escape(s) for s in spellings) + "(?=/|$)")


def _rebuild(
    copy: str,
    files: Mapping[str, tuple[str, str]],
    blobs: Mapping[str, bytes],
    roots: re.Pattern[str],
) -> dict[str, str]:
    """Write the revision's store under ``copy``: folders, symlinks, metadata files, every
    other file empty; return the absolute link targets into the store that now point into
    the copy instead (new target -> the revision's). A scratch folder of ours, so plain
    writes; an entry below another file or link of the tree (git never makes one) is
    skipped."""
    os.makedirs(copy)
    leaves: set[str] = set()
    moved: dict[str, str] = {}
    for path, (mode, sha) in sorted(files.items()):
        parts = path.split("/")
        if any(p in ("", ".", "..") for p in parts) or any(
            "/".join(parts[:i]) in leaves for i in range(1, len(parts))
        ):
            continue
        leaves.add(path)
        where = os.path.join(copy, *parts)
        os.makedirs(os.path.dirname(where), exist_ok=True)
        if mode == SYMLINK:
            target = blobs.get(sha, b"").decode("utf-8", "surrogateescape")
            inside = roots.sub(lambda _: copy, target, count=1) if target[:1] == "/" else target
            if inside != target:
                moved[inside] = target
            os.symlink(inside, where)
        elif mode.startswith("100"):
            with open(where, "wb") as out:
                if parts[-1] == METADATA_FILE:
                    out.write(blobs.get(sha, b""))
    return moved


def _side(
    store: Store, result: CheckResult, fields: Iterable[str], moved: Mapping[str, str]
) -> Side:
    """One side of the comparison from a scan and its check; ``moved`` gives back the link
    targets :func:`_rebuild` pointed into the copy."""
    fields = tuple(fields)
    under = str(store.root) + os.sep
    return Side(
        experiments={
            key: parameters(exp, fields) if exp.metadata.ok else None
            for key, exp in store.experiments.items()
        },
        batches=set(store.batches),
        links={
            (link.batch, link.dataset, link.name): moved.get(link.target, link.target)
            for batch in store.batches.values()
            for link in batch.links
        },
        findings=frozenset((f.code, _under(str(f.path), under)) for f in result.findings),
    )


def working_tree(facts: Facts) -> Side:
    """The store as scanned now."""
    return _side(facts.store, facts.result, facts.index.settings.fingerprint_fields, {})


def changes(before: Side, facts: Facts, rev: str) -> Since:
    """What changed from ``before`` (the store at ``rev``) to the store as scanned now, each
    list bounded to its first rows."""
    after = working_tree(facts)
    gone = {k: before.experiments[k] for k in before.experiments.keys() - after.experiments}
    new = {k: after.experiments[k] for k in after.experiments.keys() - before.experiments}
    # A removed and an added experiment of one dataset with the same parameters: a rename.
    renamed, renames = [], {}
    by_params: dict[str, list[Key]] = defaultdict(list)
    for key, params in gone.items():
        if params is not None:
            by_params[_same(key[0], params)].append(key)
    for key, params in sorted(new.items()):
        old = by_params.get(_same(key[0], params)) if params is not None else None
        if old:
            was = old.pop()
            renamed.append(SinceRow(_name(key), f"was {_name(was)}"))
            renames[was] = key
            del gone[was]
            del new[key]
    added = [SinceRow(_name(k), "") for k in sorted(new)]
    removed = [SinceRow(_name(k), "") for k in sorted(gone)]
    changed = []
    for key in sorted(before.experiments.keys() & after.experiments.keys()):
        old_params, new_params = before.experiments[key], after.experiments[key]
        if (old_params is None) != (new_params is None):  # its metadata was or is refused
            now = "readable now (refused" if old_params is None else "refused now (readable"
            changed.append(SinceRow(_name(key), f"metadata {now} before)"))
            continue
        if old_params is None or new_params is None or old_params == new_params:
            continue
        from deepdiff import DeepDiff  # 0.4 s to import: only once parameters differ

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
    batch_gone = before.batches - after.batches
    batch_new = after.batches - before.batches
    batch_renamed, batch_renames = [], {}
    was_links, now_links = _links_by_batch(before.links), _links_by_batch(after.links)
    for name in sorted(batch_new):
        mine = now_links.get(name)
        match = next((b for b in sorted(batch_gone) if was_links.get(b) == mine), None)
        if match is not None and mine:
            batch_renamed.append(SinceRow(display(name), f"was {display(match)}"))
            batch_renames[match] = name
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
    spots = _renamed(before.findings, renames, batch_renames)
    findings = [
        SinceRow(f"{f.code} {facts.rel(str(f.path))}", display(f.message))
        for f in facts.result.findings
        if (f.code, _under(str(f.path), facts.root)) not in spots
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
            _bounded("New findings", findings),
        ],
    )


def _renamed(
    spots: frozenset[Spot], experiments: Mapping[Key, Key], batches: Mapping[str, str]
) -> set[Spot]:
    """The revision's findings under the names the renamed experiments and batches have now
    (a finding that only moved with its folder is not new)."""
    out = set()
    for code, path in spots:
        parts = path.split(os.sep)
        if len(parts) >= 3 and parts[0] == SHARED and (parts[1], parts[2]) in experiments:
            parts[2] = experiments[parts[1], parts[2]][1]
        elif parts[0] in batches:
            parts[0] = batches[parts[0]]
            if len(parts) >= 3 and (parts[1], parts[2]) in experiments:
                parts[2] = experiments[parts[1], parts[2]][1]
        out.add((code, os.sep.join(parts)))
    return out


def _bounded(title: str, rows: list[SinceRow]) -> tuple[str, int, list[SinceRow]]:
    return title, len(rows), rows[:SINCE_ROWS]


def _same(dataset: str, params: Mapping[str, Any] | None) -> str:
    """What a renamed experiment keeps: its dataset and parameters."""
    return dataset + "\0" + json.dumps(params, sort_keys=True, default=str)


def _links_by_batch(links: Mapping[LinkKey, str]) -> dict[str, set[tuple[str, str, str]]]:
    """Each batch's links as (dataset, name, target): what a renamed batch keeps."""
    out: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    for (batch, dataset, name), target in links.items():
        out[batch].add((dataset, name, target))
    return out


def _under(path: str, root: str) -> str:
    """``path`` relative to ``root`` (with its separator) when under it, else as it is."""
    return path[len(root) :] if path.startswith(root) else path


def _name(key: Key) -> str:
    return f"{display(key[0])}/{display(key[1])}"


def _link(key: LinkKey) -> str:
    return "/".join(display(part) for part in key)
