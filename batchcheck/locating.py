"""Where a finding lands for a CI service: the repository's top, and an experiment's findings
on its ``experiment_metadata.json`` at the line of the offending key.

A folder never appears in a diff, so GitHub and GitLab only attach an annotation to a file.
The metadata file is read beneath the root (no symlink followed, at most 1 MiB) only to find
a line; what it says was judged by the scan.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from batchcheck.configs import repository_root
from batchcheck.findings import CheckResult, Finding, Severity
from batchcheck.layout import METADATA_FILE as METADATA
from batchcheck.layout import SHARED

_LIMIT = 1024 * 1024
# The key a finding of each code is about; BC302 and BC306 name theirs in the message.
_KEYS = {
    "BC201": "parameter_fingerprint",
    "BC202": "parameter_fingerprint",
    "BC305": "original_batch",
}
# BC302: "metadata breaks the schema: generation.top_p: missing; ..."; BC303: "dataset is ...".
_SCHEMA_KEY = re.compile(r"schema: ([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")
_FOLDER_KEY = re.compile(r"^([A-Za-z_]\w*) is ")


def repository_top(cwd: Path) -> Path:
    """The top of the git work tree holding ``cwd`` (as ``cwd`` spells it), else ``cwd``."""
    return repository_root(cwd) or cwd


def _key(finding: Finding) -> str | None:
    if finding.code in _KEYS:
        return _KEYS[finding.code]
    if finding.code in ("BC302", "BC303"):
        pattern = _SCHEMA_KEY if finding.code == "BC302" else _FOLDER_KEY
        match = pattern.search(finding.message)
        return match.group(1) if match else None
    if finding.code == "BC306":
        match = re.search(r"generation\.\w+", finding.message)
        return match.group() if match else "experiment_name"
    return None


def _read(root: Path, parts: Sequence[str]) -> str | None:
    """The text of ``root/parts...``, each step checked not to be a symlink."""
    path = root
    for part in parts:
        path = path / part
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            return None
        if stat.S_ISLNK(mode):
            return None
    if not stat.S_ISREG(mode):
        return None
    try:
        fd = os.open(
            path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        )
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        return handle.read(_LIMIT).decode("utf-8", "replace")


def key_line(text: str, dotted: str) -> int | None:
    """The line (1-based) of the deepest key of ``dotted`` found in JSON ``text``, looking
    for each part after its parent; None when not even the first part is there."""
    at, line = 0, None
    for part in dotted.split("."):
        match = re.compile(r'"' + re.escape(part) + r'"\s*:').search(text, at)
        if match is None:
            break
        at = match.start()
        line = text.count("\n", 0, at) + 1
    return line


def located(result: CheckResult, root: Path) -> CheckResult:
    """Findings on a shared experiment folder moved to its metadata file (with the line of
    the key when there is one); errors before warnings, then as they were."""
    texts: dict[Path, str | None] = {}
    out = []
    for finding in result.findings:
        try:
            parts = finding.path.relative_to(root).parts
        except ValueError:
            parts = ()
        if len(parts) == 3 and parts[0] == SHARED and finding.code[2] in "234":
            path, key, line = finding.path / METADATA, _key(finding), None
            if key is not None:  # only then is the file read (BC401 on 100k orphans: never)
                # Findings come sorted by path: one file read serves all of its findings.
                if path not in texts:
                    texts = {path: _read(root, (*parts, METADATA))}
                text = texts[path]
                line = key_line(text, key) if text else None
            finding = replace(finding, path=path, line=line)
        out.append(finding)
    out.sort(key=lambda f: f.severity is not Severity.ERROR)
    return replace(result, findings=tuple(out))


def without_ignored(
    result: CheckResult,
    root: Path,
    per_path: Sequence[tuple[str, tuple[str, ...]]],
    project: Path,
) -> CheckResult:
    """``per_path_ignores``: a finding is dropped when its path (relative to the store root,
    or to the project's folder outside the store) matches a glob whose codes cover it."""
    if not per_path:
        return result
    kept = []
    for finding in result.findings:
        shown = _relative(finding.path, root) or _relative(finding.path, project)
        if shown is None or not any(
            fnmatch.fnmatchcase(shown, pattern) and finding.code.startswith(codes)
            for pattern, codes in per_path
        ):
            kept.append(finding)
    return replace(result, findings=tuple(kept))


def _relative(path: Path, base: Path) -> str | None:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return None
