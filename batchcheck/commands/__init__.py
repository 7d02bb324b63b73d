"""The subcommands. Each module has NAME, HELP, NEEDS_ROOT, ``add_arguments`` and ``run``.

Adding a command is one module and one line here; ``cli`` builds the parser from this list.
Command modules import heavy libraries inside ``run`` so that start-up stays quick.
"""

from __future__ import annotations

from types import ModuleType

from batchcheck.commands import fingerprint_cmd

COMMANDS: tuple[ModuleType, ...] = (fingerprint_cmd,)
