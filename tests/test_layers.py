"""The package's layers: data flows one way (argv -> settings -> scan -> model -> rules and
lookups -> results -> formats -> output), so no module imports one above it, and no import
cycle exists, not even through imports made inside functions.

The imports are read from the source with ``ast`` (every ``import`` statement, at any depth),
so a lazy import that would hide a cycle at run time is seen here too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from conftest import PROJECT

from batchcheck.commands import COMMANDS

PACKAGE = PROJECT / "batchcheck"

# Lowest first. A module may import modules of its own layer or below, never above; the
# names are module paths or package prefixes (the longest match wins).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("batchcheck.errors", "batchcheck.names", "batchcheck.layout", "batchcheck.fingerprint"),
    ("batchcheck.forking", "batchcheck.atomic", "batchcheck.records", "batchcheck.progress"),
    (
        "batchcheck.config",
        "batchcheck.metadata",
        "batchcheck.stamps",
        "batchcheck.sweep",
        "batchcheck.documents",
        "batchcheck.gitfiles",
    ),
    ("batchcheck.model", "batchcheck.findings"),
    ("batchcheck.scan",),
    ("batchcheck.index",),
    ("batchcheck.rules", "batchcheck.engine", "batchcheck.result_cache"),
    ("batchcheck.lookups", "batchcheck.configs", "batchcheck.parameters", "batchcheck.locating"),
    ("batchcheck.linking", "batchcheck.moving", "batchcheck.collecting", "batchcheck.fixing"),
    ("batchcheck.planning", "batchcheck.adding"),
    ("batchcheck.formats",),
    ("batchcheck.report",),
    ("batchcheck.context",),
    ("batchcheck.commands",),
    ("batchcheck.cli", "batchcheck.__main__", "batchcheck.api", "batchcheck.helptext"),
)


def _module(path: Path) -> str:
    parts = path.relative_to(PROJECT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(path) for path in PACKAGE.rglob("*.py")}


def _imports(path: Path) -> set[str]:
    """Every batchcheck module ``path`` imports, wherever the import statement stands."""
    found: set[str] = set()
    package = _module(path) if path.name == "__init__.py" else _module(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [*package.split(".")[: len(package.split(".")) - node.level + 1], base]
                ).rstrip(".")
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name in MODULES and name != _module(path)}


def _layer(module: str) -> int:
    best = (-1, -1)
    for level, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > best[0]:
                best = (len(name), level)
    if module == "batchcheck":
        return len(LAYERS)  # the package's own __init__ re-exports the public API
    assert best[1] >= 0, f"{module} is in no layer: add it to LAYERS"
    return best[1]


GRAPH = {_module(path): _imports(path) for path in PACKAGE.rglob("*.py")}


def test_every_module_has_a_layer() -> None:
    for module in GRAPH:
        _layer(module)


def test_no_module_imports_a_higher_layer() -> None:
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if target != "batchcheck" and _layer(target) > _layer(module)
    )
    assert upward == []


def test_no_import_cycle() -> None:
    """Depth-first search over the import graph (package ``__init__`` re-exports included)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(GRAPH.get(module, ())):
            if target == "batchcheck":
                continue  # the top package: ``__version__`` and the public API re-exports
            if state.get(target) == 1:
                cycles.append(
                    [*path[path.index(target) :], target] if target in path else [module, target]
                )
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_no_command_imports_another() -> None:
    """Commands share helpers (``_lookup``, ``gate``), never each other."""
    commands = {f"batchcheck.commands.{name}" for name in COMMANDS.values()}
    crossing = sorted(
        f"{module} -> {target}" for module in commands for target in GRAPH[module] & commands
    )
    assert crossing == []


def test_the_graph_is_read() -> None:
    """The tests above would pass on an empty graph: make sure it is the real one."""
    assert "batchcheck.model" in GRAPH["batchcheck.rules.bc101_dangling"]
    assert "batchcheck.scan.links" in GRAPH["batchcheck.scan.scanner"]
    assert _layer("batchcheck.scan.links") < _layer("batchcheck.lookups.common")


def _after(store: Path, shown: str, *argv: str) -> str:
    """What a real process prints (on stderr) of ``rc`` and the expression ``shown`` after
    running the command line on ``argv`` in ``store``."""
    probe = f"import sys; from batchcheck.cli import main; rc = main(sys.argv[1:]); {shown}"
    run = subprocess.run(
        [sys.executable, "-c", probe, "--root", ".", *argv],
        capture_output=True,
        text=True,
        cwd=store,
    )
    return run.stderr


def test_a_lookup_imports_no_more_than_it_uses(seed_store: Path) -> None:
    """A point lookup pays Python start-up and its own modules only: not the rule engine, the
    report or the libraries of other commands (on a network mount start-up is most of it)."""
    shown = (
        "print(rc, sorted(m for m in sys.modules if m.split('.')[0] in "
        "('yaml', 'jsonschema', 'deepdiff', 'jinja2') "
        "or m.startswith(('batchcheck.engine', 'batchcheck.rules', 'batchcheck.report'))), "
        "file=sys.stderr)"
    )
    for argv in (
        ["list-batch-experiments", "batch_20241229_temperature"],
        ["resolve-data-path", "batch_20241229_temperature/Copa/temp05_topp10_gpt4o"],
    ):
        assert _after(seed_store, shown, *argv) == "0 []\n", argv


def test_compare_loads_deepdiff_without_array_libraries(seed_store: Path) -> None:
    """deepdiff would import numpy and pandas (0.4 s) to know arrays no parameter holds; the
    command line blocks them for its run only, so a later import in the same process works."""
    shown = (
        "loaded = sorted(m for m in ('deepdiff', 'numpy', 'pandas') if sys.modules.get(m)); "
        "import numpy, pandas; print(rc, loaded, file=sys.stderr)"
    )
    argv = ["compare-experiments", "--shared", "Copa/temp05_topp10_gpt4o"]
    said = _after(seed_store, shown, *argv, "--shared", "Copa/temp09_topp10_gpt4o")
    assert said == "0 ['deepdiff']\n"
