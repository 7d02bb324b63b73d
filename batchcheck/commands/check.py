"""``batchcheck check``: every rule of SPEC section 6 over one scan of the store.

The exit status comes from the result: 1 when an error was found (or a warning with
``--strict``), else 0. Settings from ``[tool.batchcheck]`` apply first; ``--select`` replaces
the configured select list and ``--ignore`` adds to the configured ignore list (``gate``).
The training configs ``[tool.batchcheck] configs`` names are checked too (BC5xx), so renaming a
batch fails the same gate as the configs that name it; ``--git`` adds BC107 (what the commit
holds).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace

from batchcheck.commands.gate import (
    add_gate_arguments,
    output_format,
    selection,
    write_result,
)
from batchcheck.configs import check_configs, configured
from batchcheck.context import Context
from batchcheck.engine import metadata_fields, rule_table, run_check
from batchcheck.findings import CheckResult, Selection, settle
from batchcheck.formats import changes_text, check_text
from batchcheck.formats.checks import CHECK_FORMATS
from batchcheck.formats.data import write_json
from batchcheck.formats.view import View
from batchcheck.rules import CONFIG_CODES
from batchcheck.scan import scan_stamped

NAME = "check"
HELP = "check the store: symlinks, fingerprints, metadata, data (exit 1 on an error)"
NEEDS_ROOT = True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The gate options, ``--no-data`` and ``--list-rules``."""
    add_gate_arguments(parser)
    parser.add_argument(
        "--no-data",
        action="store_true",
        help="do not look into training data folders (skips BC304; for CI clones without data)",
    )
    parser.add_argument(
        "--git",
        action="store_true",
        help="also check what the commit will hold: a tracked link or experiment pointing at "
        "something git does not track is BC107 (on in the pre-commit hook)",
    )
    parser.add_argument(
        "--fix",
        action="store_true",
        help="repair batch links safely first (BC103 made relative, untidy targets tidied, BC104 "
        "renamed, BC106 restored), then check",
    )
    parser.add_argument(
        "--diff",
        action="store_true",
        help="show what --fix would change, change nothing (exit 1 when something is to fix)",
    )
    parser.add_argument(
        "--list-rules",
        action="store_true",
        help="print every rule (code, severity, summary) and exit; with --format json a list",
    )


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Validate the codes, repair first when asked, scan once, run the rules, write the result."""
    chosen = selection(ctx, args)
    if args.list_rules:
        table = rule_table(ctx.settings)
        write = write_json if args.format == "json" else check_text.write_rules
        write(table, ctx.out, View(ctx.cwd, ctx.settings.root, ctx.symbols))
        return 0
    if args.fix or args.diff:
        from batchcheck.fixing import fix_store

        fixes = fix_store(ctx.settings, chosen, write=not args.diff)
        if not args.diff:
            fixes = replace(fixes, check=_check(ctx, args, chosen))
        view = View(ctx.cwd, ctx.settings.root, ctx.symbols)
        chosen_format = output_format(args.format, os.environ)
        if chosen_format == "json":
            write_json(fixes, ctx.out, view)
        else:
            changes_text.fixes(fixes, ctx.out, view)
            if fixes.check is not None:
                CHECK_FORMATS[chosen_format](fixes.check, ctx.out, view)
        return fixes.exit_code(args.strict)
    return write_result(ctx, args, _with_configs(ctx, _check(ctx, args, chosen), chosen))


def _with_configs(ctx: Context, result: CheckResult, chosen: Selection) -> CheckResult:
    """The store's findings and those of the configured training configs, settled together."""
    settings = ctx.settings
    if not settings.configs or not any(chosen.wants(code) for code in CONFIG_CODES):
        return result
    findings, counts = check_configs(configured(settings), settings, ctx.cwd)
    merged = (*result.findings, *findings)
    return settle(merged, chosen, settings.severity, {**result.counts, **counts})


def _check(ctx: Context, args: argparse.Namespace, chosen: Selection) -> CheckResult:
    """One scan (or the cached result of an unchanged store) and the rules over it."""
    settings = replace(ctx.settings, git=args.git)
    # Rules read only the metadata fields they declare; the rest is judged as it is read.
    options = ctx.scan_options(data=not args.no_data, keep=metadata_fields())
    cache = None
    how: tuple[object, ...] = (
        chosen,
        sorted(settings.severity.items()),
        args.no_data,
        settings.naming_convention,
    )
    if args.git:
        from batchcheck.gitfiles import index_stamp

        # What git tracks changes without the store changing; git rewrites its index then.
        # No index found (not a work tree, an old git): no cached result.
        stamp = index_stamp(settings.root)
        how = (*how, "git", stamp) if stamp is not None else ()
    if options.cache_dir is not None and how:
        from batchcheck.result_cache import ResultCache

        cache = ResultCache(options.cache_dir, settings.root, options.read, repr(how))
        cached = cache.lookup(options)
        if cached is not None:
            return cached
    store, stamps = scan_stamped(settings.root, options, ctx.progress())
    result = run_check(store, settings, chosen, no_data=args.no_data)
    if cache is not None:
        cache.save(store, stamps, result)
    return result
