"""The subcommands. Each module has NAME, HELP, NEEDS_ROOT, ``add_arguments`` and ``run``.

Adding a command is one module and one line here; ``cli`` builds the parser from this table.
A run imports only the module of its command (start-up is most of a quick lookup's time), and
command modules import heavy libraries inside ``run`` for the same reason.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

# Command name -> its module in this package, in the order ``--help`` lists them.
COMMANDS: dict[str, str] = {
    "list-batches": "list_batches",
    "list-batch-experiments": "list_batch_experiments",
    "list-shared-experiments": "list_shared_experiments",
    "list-data-paths": "list_data_paths",
    "resolve-data-path": "resolve_data_path",
    "compare-experiments": "compare_experiments",
    "fingerprint": "fingerprint_cmd",
    "report": "report_cmd",
    "check-configs": "check_configs",
    "check": "check",
    "plan": "plan",
    "link": "link",
    "add": "add",
    "mv": "mv",
    "gc": "gc",
    "completion": "completion",
}


def load(name: str) -> ModuleType:
    """The module of command ``name``."""
    return import_module(f"{__name__}.{COMMANDS[name]}")
