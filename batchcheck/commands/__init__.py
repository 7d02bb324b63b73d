"""The subcommands. Each module has NAME, HELP, NEEDS_ROOT, ``add_arguments`` and ``run``.

Adding a command is one module and one line here; ``cli`` builds the parser from this list.
Command modules import heavy libraries inside ``run`` so that start-up stays quick.
"""

from __future__ import annotations

from types import ModuleType

from batchcheck.commands import (
    check,
    check_configs,
    compare_experiments,
    fingerprint_cmd,
    link,
    list_batch_experiments,
    list_batches,
    list_data_paths,
    list_shared_experiments,
    plan,
    report_cmd,
    resolve_data_path,
)

COMMANDS: tuple[ModuleType, ...] = (
    list_batches,
    list_batch_experiments,
    list_shared_experiments,
    list_data_paths,
    resolve_data_path,
    compare_experiments,
    fingerprint_cmd,
    report_cmd,
    check_configs,
    check,
    plan,
    link,
)
