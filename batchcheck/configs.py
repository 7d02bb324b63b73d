"""Training configs that name paths into the store: read them safely, judge every store path.

A training config (YAML or JSON) is read with safe loaders only and every string value in it
is taken as a possible path, relative to the config's folder, the current folder or the
repository root (or absolute). Strings that land under the store root are judged against one
scan of just the batches they need; everything else in the config is ignored.

Mapping keys are judged like values (data mixtures written as ``{path: weight}``). A string
with OmegaConf/Hydra interpolations (``${paths.root}/batch_x/...``, ``${oc.env:VAR,default}``)
is resolved with OmegaConf against its own file and the environment first; a glob (``*``,
``?``, ``[...]``) is a path when a store path matches it.

Codes (SPEC section 6): BC500 the config cannot be read, BC501 a path that does not resolve,
BC502 a ``_shared`` path where a batch path exists, BC503 an experiment folder named instead of
its training data folder, BC504 an interpolated path that cannot be resolved here.
"""

from __future__ import annotations

import fnmatch
import glob
import json
import os
import re
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batchcheck.config import Settings
from batchcheck.findings import Finding, Severity
from batchcheck.index import StoreIndex
from batchcheck.layout import BATCH_PREFIX, SHARED
from batchcheck.metadata import MAX_INPUT_BYTES, Unreadable, read_regular
from batchcheck.model import Link, LinkState, Store
from batchcheck.scan import ScanOptions, scan

if TYPE_CHECKING:
    import yaml

UNREADABLE = "BC500"
UNRESOLVED = "BC501"
SHARED_PATH = "BC502"
EXPERIMENT_FOLDER = "BC503"
UNINTERPOLATED = "BC504"

SEVERITY = {
    UNREADABLE: Severity.ERROR,
    UNRESOLVED: Severity.ERROR,
    SHARED_PATH: Severity.WARNING,
    EXPERIMENT_FOLDER: Severity.WARNING,
    UNINTERPOLATED: Severity.WARNING,
}
# How far ``**`` in a config's path is followed into the store: a training data file sits at
# batch/Dataset/experiment/Dataset/file, and a glob that names more paths than this is judged
# on the first ones only.
GLOB_DEPTH = 6
GLOB_PATHS = 100_000

# Config files a folder argument (or a configured glob naming a folder) stands for.
CONFIG_SUFFIXES = (".yaml", ".yml", ".json")
_INTERPOLATION = "${"

_YAML_STR = "tag:yaml.org,2002:str"
# In text that already parsed as JSON, quotes only ever delimit strings.
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_SPACE = re.compile(r"[ \t\r\n]*")


@dataclass(frozen=True)
class ConfigString:
    """A string (a value or a mapping key) of a config and the line it starts on (1-based).

    ``resolved``: the text after OmegaConf interpolation when it holds one (None: no
    interpolation, or ``problem`` says why it could not be resolved).
    """

    text: str
    line: int
    resolved: str | None = None
    problem: str | None = None

    @property
    def judged(self) -> str:
        """The text that is taken as a path."""
        return self.text if self.resolved is None else self.resolved


@dataclass(frozen=True)
class Config:
    """What reading one config gave: its string values, or why it could not be read."""

    path: Path
    strings: tuple[ConfigString, ...] = ()
    error: str | None = None
    error_line: int | None = None


def read_config(path: Path) -> Config:
    """Every string value of a YAML or JSON file (by suffix); a failure is data, not a raise."""
    try:
        # A regular file only: a FIFO would hang the hook, /dev/zero fill the memory.
        text = read_regular(path, MAX_INPUT_BYTES).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = exc.object.count(b"\n", 0, exc.start) + 1
        return Config(path, error=f"cannot read: not UTF-8 ({exc.reason})", error_line=line)
    except Unreadable as exc:
        return Config(path, error=str(exc))
    return parse_config(path, text)


def parse_config(path: Path, text: str) -> Config:
    """:func:`read_config` of ``text`` (the file's decoded content)."""
    try:
        return _read_json(path, text) if path.suffix.lower() == ".json" else _read_yaml(path, text)
    except RecursionError:
        return Config(path, error="cannot parse: nested too deeply")


def _read_json(path: Path, text: str) -> Config:
    """JSON has no positions, so the string tokens of the (valid) text are found by scanning."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        line = exc.lineno if isinstance(exc, json.JSONDecodeError) else None
        msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        return Config(path, error=f"not valid JSON: {msg}", error_line=line)
    strings = []
    line, last = 1, 0
    for match in _JSON_STRING.finditer(text):
        line += text.count("\n", last, match.start())
        last = match.start()
        strings.append(ConfigString(json.loads(match.group()), line))
    return Config(path, tuple(_interpolated(strings, [data])))


def _read_yaml(path: Path, text: str) -> Config:
    """Compose each document (nodes keep their line), construct it safely, walk its scalars."""
    import yaml

    try:
        # The reader refuses a character YAML does not allow (U+0080, say) as it is made.
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        return Config(path, error=_yaml_error(exc), error_line=line)
    strings: list[ConfigString] = []
    documents: list[Any] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            # Constructing is what refuses tags like !!python/object: composing alone accepts them.
            documents.append(loader.construct_document(node))
            strings.extend(_yaml_strings(node))
    except yaml.YAMLError as exc:
        return Config(path, error=_yaml_error(exc), error_line=_yaml_line(exc))
    except ValueError as exc:  # a scalar its tag cannot hold: 2024-13-45, !!int x
        return Config(path, error=f"not valid YAML: {exc}")
    finally:
        loader.dispose()
    return Config(path, tuple(_interpolated(strings, documents)))


def _yaml_strings(root: yaml.Node | None) -> Iterator[ConfigString]:
    """String scalars among the keys and values of a node tree; an alias is walked once."""
    import yaml

    stack, seen = [root] if root is not None else [], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _YAML_STR:
                yield ConfigString(node.value, node.start_mark.line + 1)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(item for pair in reversed(node.value) for item in reversed(pair))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))


def _yaml_error(exc: yaml.YAMLError) -> str:
    import yaml

    if isinstance(exc, yaml.constructor.ConstructorError):
        return f"cannot be loaded safely: {exc.problem}"
    if isinstance(exc, yaml.MarkedYAMLError):
        what = ", ".join(part for part in (exc.context, exc.problem) if part)
        return f"not valid YAML: {what}"
    return f"not valid YAML: {str(exc).splitlines()[0]}"


def _yaml_line(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 if mark is not None else None


# -- interpolation ----------------------------------------------------------------------------

# A key no config uses, set for a moment on the loaded config to resolve one string in it.
_SCRATCH = "__batchcheck_interpolation__"


def _interpolated(strings: list[ConfigString], documents: list[Any]) -> Iterator[ConfigString]:
    """Each string, those holding ``${`` resolved with OmegaConf against the first document
    that is a mapping (as Hydra composes one); absolute interpolations and resolvers such as
    ``oc.env`` work, relative ones (``${.x}``) are taken from the top."""
    if not any(_INTERPOLATION in s.text and looks_like_path(s.text) for s in strings):
        yield from strings
        return
    resolve = _resolver(next((d for d in documents if isinstance(d, dict)), {}))
    for string in strings:
        if _INTERPOLATION in string.text and looks_like_path(string.text):
            value, problem = resolve(string.text)
            yield ConfigString(string.text, string.line, value, problem)
        else:
            yield string


def _resolver(document: dict[Any, Any]) -> Any:
    """``text -> (resolved, None) | (None, why not)`` over one loaded document."""
    try:
        from omegaconf import OmegaConf
    except ImportError:
        return lambda text: (
            None,
            "OmegaConf is not installed (pip install 'batchcheck[hydra]')",
        )
    try:
        config = OmegaConf.create(document)
    except Exception as exc:  # OmegaConf refuses what YAML allows (e.g. non-string keys)
        message = _one_line(exc)
        return lambda text: (None, f"OmegaConf cannot load the config: {message}")

    def resolve(text: str) -> tuple[str | None, str | None]:
        try:
            config[_SCRATCH] = text
            value = config[_SCRATCH]
        except Exception as exc:  # any resolver may raise anything: it is data here
            return None, _one_line(exc)
        finally:
            if _SCRATCH in config:
                del config[_SCRATCH]
        if not isinstance(value, str):
            return None, f"it resolves to {type(value).__name__}, not a string"
        return value, None

    return resolve


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


# -- locating store paths ------------------------------------------------------------------


def looks_like_path(text: str) -> bool:
    """Worth resolving: has a separator, is one line, is not a URL, can be a file name."""
    if "/" not in text or "\n" in text or "\0" in text or "://" in text:
        return False
    try:
        os.fsencode(text)  # a lone surrogate from JSON ("\ud800") names no file
    except UnicodeEncodeError:
        return False
    return True


def repository_root(folder: Path) -> Path | None:
    """The nearest folder upward holding ``.git`` (a folder, or a file in worktrees)."""
    for candidate in (folder, *folder.parents):
        if os.path.lexists(candidate / ".git"):
            return candidate
    return None


class _Locator:
    """Turns config strings into parts under the store root, trying each base in order."""

    def __init__(self, root: Path, cwd: Path) -> None:
        roots = [str(root), os.path.realpath(root)]
        self.prefixes = [r.rstrip(os.sep) + os.sep for r in dict.fromkeys(roots)]
        self.cwd = cwd
        self.repos: dict[Path, Path | None] = {}

    def _parts(self, path: str) -> tuple[str, ...] | None:
        """``path`` (normalised) relative to the root, or None when it is not below it."""
        for prefix in self.prefixes:
            if path.startswith(prefix):
                return tuple(path[len(prefix) :].split(os.sep))
        return None

    def bases(self, config: Path) -> list[Path]:
        """The config's folder, the current folder, the repository root: each once.

        A folder below the root is no base: a file there (an experiment's metadata handed
        over by a pre-commit hook) is no training config, and ``yes/no`` in it is no path.
        """
        folder = config.parent
        if folder not in self.repos:
            self.repos[folder] = repository_root(folder)
        bases = (folder, self.cwd, self.repos[folder])
        return list(
            dict.fromkeys(b for b in bases if b is not None and self._parts(str(b)) is None)
        )

    def locate(self, text: str, bases: Sequence[Path]) -> tuple[str, ...] | None:
        """The parts of the first reading of ``text`` that lands in ``_shared`` or a batch.

        Bases lie outside the store (or are its root), so in practice at most one of them
        lands inside it; should two, the first base wins.
        """
        joined = [text] if os.path.isabs(text) else [os.path.join(b, text) for b in bases]
        for path in joined:
            parts = self._parts(os.path.normpath(path))
            if parts and (parts[0] == SHARED or parts[0].startswith(BATCH_PREFIX)):
                return parts
        return None


# -- judging them ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NamedPath:
    """One config string that names a store path, and that path's parts under the root."""

    config: Path
    string: ConfigString
    parts: tuple[str, ...]


def _walk(start: Path, parts: Sequence[str]) -> tuple[str, int]:
    """Look ``parts`` up below ``start`` with lstat only, following no link.

    Returns ("folder" | "file", len(parts)) when all exist, ("missing", i) when part i does not,
    ("unknown", i) when part i is a symlink or cannot be read (not judged: ``check`` reports
    symlinks that are out of place, and nothing behind one is read here).
    """
    path, mode = start, stat.S_IFDIR
    for i, part in enumerate(parts):
        path = path / part
        try:
            mode = os.lstat(path).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return "missing", i
        except OSError:
            return "unknown", i
        if stat.S_ISLNK(mode):
            return "unknown", i
        if not stat.S_ISDIR(mode) and i < len(parts) - 1:
            return "missing", i + 1
    return ("folder" if stat.S_ISDIR(mode) else "file"), len(parts)


class _Judge:
    """Judges store paths against one scan; each verdict is (code, message) pairs."""

    def __init__(self, store: Store, index: StoreIndex) -> None:
        self.store = store
        self.index = index

    def verdicts(self, text: str, parts: tuple[str, ...]) -> list[tuple[str, str]]:
        """What is wrong with ``text``, read as ``parts`` under the root (empty: nothing).

        A glob is fine when some store path matches it (what HF ``datasets`` accepts), and
        BC501 when none does.
        """
        if any(glob.has_magic(part) for part in parts):
            for match in self._matches(parts):
                if not any(code == UNRESOLVED for code, _ in self._plain(text, match)):
                    return []
            return [(UNRESOLVED, f"{text!r} matches nothing in the store")]
        return self._plain(text, parts)

    def _matches(self, parts: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        """Store paths matching ``parts`` (``**``: zero or more folders, as far as
        ``GLOB_DEPTH`` levels and ``GLOB_PATHS`` paths go), found by listing folders without
        following a symlink, except batch links through the model."""
        found: list[tuple[str, ...]] = [()]
        for part in parts:
            if part == "**":
                found = self._below(found)
                continue
            if not glob.has_magic(part):
                found = [(*prefix, part) for prefix in found]
                continue
            found = [
                (*prefix, name)
                for prefix in found
                for name in self._names(prefix)
                if fnmatch.fnmatchcase(name, part) and not name.startswith(".")
            ]
        yield from found

    def _below(self, prefixes: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
        """Each prefix and every folder path under it (what ``**`` stands for)."""
        out = list(prefixes)
        frontier = prefixes
        for _ in range(GLOB_DEPTH):
            frontier = [
                (*prefix, name)
                for prefix in frontier
                for name in self._names(prefix)
                if not name.startswith(".")
            ]
            out.extend(frontier)
            if not frontier or len(out) > GLOB_PATHS:
                break
        return out[:GLOB_PATHS]

    def _names(self, prefix: tuple[str, ...]) -> list[str]:
        """The entries of the store folder ``prefix`` (a batch link read as its experiment)."""
        real: tuple[str, ...] = prefix
        if len(prefix) >= 3 and prefix[0].startswith(BATCH_PREFIX):
            link = self._link(prefix)
            if link is None or link.state is not LinkState.OK or link.key is None:
                return []
            real = (SHARED, *link.key, *prefix[3:])
        state, _ = _walk(self.store.root, real)
        if state != "folder":
            return []
        try:
            return sorted(os.listdir(self.store.root.joinpath(*real)))
        except OSError:
            return []

    def _plain(self, text: str, parts: tuple[str, ...]) -> list[tuple[str, str]]:
        if len(parts) >= 3 and parts[0].startswith(BATCH_PREFIX):
            link = self._link(parts)
            if link is not None:
                return self._through_link(text, parts, link)
        state, at = _walk(self.store.root, parts)
        if state == "missing":
            return [(UNRESOLVED, _missing(text, parts[: at + 1]))]
        if parts[0] == SHARED and at >= 3:
            return self._shared(text, parts, state)
        return []

    def _link(self, parts: tuple[str, ...]) -> Link | None:
        batch = self.store.batches.get(parts[0])
        links = batch.datasets.get(parts[1], ()) if batch is not None else ()
        return next((link for link in links if link.name == parts[2]), None)

    def _through_link(self, text: str, parts: tuple[str, ...], link: Link) -> list[tuple[str, str]]:
        shown = "/".join(parts[:3])
        if link.state is LinkState.DANGLING:
            return [
                (UNRESOLVED, f"{text!r} goes through a dangling link: {shown} -> {link.target}")
            ]
        if link.state is LinkState.LOOP:
            return [(UNRESOLVED, f"{text!r} goes through a link that loops: {shown}")]
        if link.state is not LinkState.OK or link.key is None:
            return []  # leaves the store or lands elsewhere: `check` reports the link itself
        state, at = _walk(self.store.root.joinpath(SHARED, *link.key), parts[3:])
        if state == "missing":
            return [(UNRESOLVED, _missing(text, parts[: 3 + at + 1]))]
        if len(parts) == 3:
            return [(EXPERIMENT_FOLDER, _not_data(text, link.key[0]))]
        return []

    def _shared(self, text: str, parts: tuple[str, ...], state: str) -> list[tuple[str, str]]:
        dataset, name = parts[1], parts[2]
        out = []
        batch_paths = sorted(
            _batch_form(text, parts, link)
            for link in self.index.links_to.get((dataset, name), [])
            if link.state is LinkState.OK
        )
        if batch_paths:
            use = " or ".join(repr(p) for p in batch_paths)
            out.append((SHARED_PATH, f"{text!r} names physical storage; use the batch path {use}"))
        if len(parts) == 3 and state == "folder":
            out.append((EXPERIMENT_FOLDER, _not_data(text, dataset)))
        return out


def _missing(text: str, prefix: Sequence[str]) -> str:
    what = {1: "batch", 3: "experiment"}.get(len(prefix))
    if what == "batch" and not prefix[0].startswith(BATCH_PREFIX):
        what = None
    hint = f" (was the {what} renamed? fix the path here)" if what else ""
    return f"{text!r} does not resolve: {'/'.join(prefix)} does not exist in the store{hint}"


def _not_data(text: str, dataset: str) -> str:
    better = f"{text.rstrip('/')}/{dataset}"
    return f"{text!r} names an experiment folder, not its training data folder {better!r}"


def _batch_form(text: str, parts: tuple[str, ...], link: Link) -> str:
    """``text`` with its ``_shared/<D>/<E>`` replaced by the link's batch path, as written."""
    shared = "/".join(parts[:3])
    batch = f"{link.batch}/{link.dataset}/{link.name}"
    at = text.rfind(shared)
    if at >= 0 and (at == 0 or text[at - 1] == "/"):
        return text[:at] + batch + text[at + len(shared) :]
    return "/".join((batch, *parts[3:]))


def _scan_for(root: Path, named: Sequence[NamedPath]) -> Store:
    """Only the batches the paths go through; every batch when a ``_shared`` path needs its
    links (BC502). Links are judged by lstat alone: no experiment folder is listed."""
    deep = [item.parts for item in named if len(item.parts) >= 3]
    batches: tuple[str, ...] | None = tuple(
        sorted({p[0] for p in deep if p[0].startswith(BATCH_PREFIX)})
    )
    if any(p[0] == SHARED or glob.has_magic(p[0]) for p in deep):
        batches = None
    options = ScanOptions.of(batches=batches, shared="none", metadata=False, data=False)
    return scan(root, options)


def configured(settings: Settings) -> list[Path]:
    """The training configs ``[tool.batchcheck] configs`` names: every file its globs match
    (``**`` too) and the YAML / JSON files in every folder they match, sorted, each once; a
    pattern without wildcards is kept even when missing (reading it then says so)."""
    found: dict[Path, None] = {}
    for pattern in settings.configs:
        if not glob.has_magic(pattern):
            found.update(dict.fromkeys(config_files([Path(pattern)], settings.root)))
            continue
        names = [Path(name) for name in sorted(glob.glob(pattern, recursive=True))]
        found.update(dict.fromkeys(config_files(names, settings.root, only_existing=True)))
    return list(found)


def config_files(paths: Sequence[Path], root: Path, only_existing: bool = False) -> list[Path]:
    """Files as they are; a folder stands for its YAML / JSON files at any depth (sorted; hidden
    folders and the store itself left out: metadata files are no training configs)."""
    out: list[Path] = []
    store = os.path.realpath(root)
    for path in paths:
        if not path.is_dir():
            if path.is_file() or not only_existing:
                out.append(path)
            continue
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(
                d
                for d in dirs
                if not d.startswith(".") and os.path.realpath(os.path.join(folder, d)) != store
            )
            out.extend(
                Path(folder, name)
                for name in sorted(files)
                if name.lower().endswith(CONFIG_SUFFIXES) and not name.startswith(".")
            )
    return out


def configured_store_paths(settings: Settings, cwd: Path) -> tuple[list[Finding], list[NamedPath]]:
    """:func:`store_paths` of the configured training configs (what ``mv`` and ``gc`` read):
    the configs that cannot be read (BC500), and the strings naming store paths."""
    findings, named = store_paths(configured(settings), settings, cwd)
    return [f for f in findings if f.code == UNREADABLE], named


def store_paths(
    paths: Sequence[Path], settings: Settings, cwd: Path
) -> tuple[list[Finding], list[NamedPath]]:
    """BC500 for every config that cannot be read, and every string of the others that names
    a path under the root (in ``_shared`` or a batch)."""
    locator = _Locator(settings.root, cwd)
    findings: list[Finding] = []
    named: list[NamedPath] = []
    for path in paths:
        config = read_config(path)
        if config.error is not None:
            findings.append(Finding(path, UNREADABLE, config.error, line=config.error_line))
            continue
        bases = locator.bases(path)
        for string in config.strings:
            if string.problem is not None:
                findings.append(
                    Finding(
                        path,
                        UNINTERPOLATED,
                        f"{string.text!r} is not checked: its interpolation cannot be resolved "
                        f"here ({string.problem})",
                        SEVERITY[UNINTERPOLATED],
                        line=string.line,
                    )
                )
                continue
            text = string.judged
            parts = locator.locate(text, bases) if looks_like_path(text) else None
            if parts is not None:
                named.append(NamedPath(path, string, parts))
    return findings, named


def check_configs(
    paths: Sequence[Path], settings: Settings, cwd: Path
) -> tuple[list[Finding], dict[str, int]]:
    """Findings for every config (at its default severity) and the counts for the summary."""
    findings, named = store_paths(paths, settings, cwd)
    if named:
        store = _scan_for(settings.root, named)
        judge = _Judge(store, StoreIndex(store, settings))
        for item in named:
            string = item.string
            for code, message in judge.verdicts(string.judged, item.parts):
                if string.resolved is not None:
                    message = f"{message} (written {string.text!r})"
                findings.append(
                    Finding(item.config, code, message, SEVERITY[code], line=string.line)
                )
    return findings, {"configs": len(paths), "paths": len(named)}
