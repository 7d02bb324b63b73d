"""The rule registry. Each rule is one module: CODE, SEVERITY, SUMMARY, SCOPE and ``check``.

The module docstring is the rule's documentation (the README's rules table and
``batchcheck check --list-rules`` show SUMMARY). ``SCOPE`` says which part of the store a rule
needs complete: ``"batches"`` (every batch was scanned), ``"shared"`` (all of ``_shared``),
``"all"`` (both) or ``"any"`` (judges what it is given). A rule that reads metadata fields
names them in ``FIELDS`` (dotted paths): a full check keeps only those fields in memory. A
rule that looks into training data folders says ``READS_DATA = True``: ``--no-data`` skips it.
Schema violations and recomputed fingerprints are judged as each file is read.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module
from types import ModuleType

from batchcheck.errors import UsageError

# Each rule module once, in the order findings are reported; a test checks that every module
# of this package is here.
RULES: tuple[ModuleType, ...] = tuple(
    import_module(f"{__name__}.{name}")
    for name in (
        "bc101_dangling",
        "bc102_bad_target",
        "bc103_absolute",
        "bc104_misnamed",
        "bc105_stray",
        "bc106_destroyed_link",
        "bc107_untracked",
        "bc201_duplicate",
        "bc202_fingerprint_mismatch",
        "bc301_metadata_unreadable",
        "bc302_schema",
        "bc303_folder_mismatch",
        "bc304_data",
        "bc305_original_batch",
        "bc306_naming",
        "bc401_orphan",
        "bc402_batch_name",
    )
)

# Codes reported by ``check-configs`` (SPEC section 6): valid in select / ignore / severity,
# which ``[tool.batchcheck]`` shares between both commands.
CONFIG_CODES = ("BC500", "BC501", "BC502", "BC503", "BC504")


def by_code() -> dict[str, ModuleType]:
    """Rule modules keyed by their code."""
    return {rule.CODE: rule for rule in RULES}


def known_codes() -> tuple[str, ...]:
    """Every code batchcheck can report."""
    return (*(rule.CODE for rule in RULES), *CONFIG_CODES)


def check_codes(codes: Iterable[str], where: str, prefixes: bool = True) -> None:
    """Raise a usage error naming the first entry that matches no known code.

    ``prefixes``: an entry may be a prefix (``BC1``) as in select / ignore; severity keys must
    be whole codes.
    """
    known = known_codes()
    for code in codes:
        ok = any(k.startswith(code) for k in known) if prefixes and code else code in known
        if not ok:
            raise UsageError(
                f"{where}: unknown rule code {code!r} (see 'batchcheck check --list-rules')"
            )
