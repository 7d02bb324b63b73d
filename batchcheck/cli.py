"""The ``batchcheck`` command line: argv -> settings -> a command -> an exit code.

Exit status: 0 success, 1 a finding or a lookup that found nothing, 2 bad usage or
configuration, 3 a bug. Every failure is one line on stderr unless ``--traceback`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import NoReturn, TextIO

from batchcheck import __version__, helptext
from batchcheck.commands import COMMANDS, load
from batchcheck.config import Settings, load_settings
from batchcheck.context import Context
from batchcheck.errors import NotFound, UsageError
from batchcheck.formats.symbols import pick
from batchcheck.names import display


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit 2 through ``main``."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _global_options(parser: argparse.ArgumentParser, default: object) -> None:
    """Options that may stand before or after the command name."""
    parser.add_argument(
        "--root",
        metavar="DIR",
        default=default,
        help="the store (default: BATCHCHECK_ROOT, pyproject.toml, or Data_v2/synthetic)",
    )
    parser.add_argument(
        "--no-emoji",
        action="store_true",
        default=default,
        help="plain ASCII markers instead of the emoji",
    )
    parser.add_argument(
        "--traceback",
        action="store_true",
        default=default,
        help="show the full traceback of an internal error",
    )
    parser.add_argument(
        "--quiet", "-q", action="store_true", default=default, help="no progress output on stderr"
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        default=default,
        help="read every metadata file afresh; neither use nor write the cache",
    )
    parser.add_argument(
        "--cache-dir",
        metavar="DIR",
        default=default,
        help="where the metadata cache lives (default: BATCHCHECK_CACHE_DIR, "
        "XDG_CACHE_HOME/batchcheck or ~/.cache/batchcheck)",
    )
    parser.add_argument(
        "--io-threads",
        metavar="N",
        type=_io_threads,
        default=default,
        help="requests in flight on a filesystem that makes each call wait, e.g. NFS or Lustre "
        "(default: [tool.batchcheck] io_threads, else 64)",
    )


def _io_threads(text: str) -> int:
    """``--io-threads``: a whole number from 1 to 1024."""
    if not text.isdigit() or not 1 <= int(text) <= 1024:
        raise argparse.ArgumentTypeError(f"expected a number from 1 to 1024, not {text!r}")
    return int(text)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser with one subparser per command module.

    ``only`` names the command a command line runs: the other modules are then not imported
    (their subparsers stay empty, as nothing will parse with them).
    """
    parser = _Parser(
        prog="batchcheck",
        description=helptext.DESCRIPTION,
        epilog=helptext.EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"batchcheck {__version__}")
    _global_options(parser, None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        if only is not None and name != only:
            sub.add_parser(name)
            continue
        module = load(name)
        cmd = sub.add_parser(
            name,
            help=module.HELP,
            description=module.HELP,
            epilog=helptext.epilog(name),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        # SUPPRESS: a value given after the command overrides one given before it.
        _global_options(cmd, argparse.SUPPRESS)
        module.add_arguments(cmd)
        cmd.set_defaults(module=module, top_parser=parser)
    return parser


def _command_named(argv: Sequence[str] | None) -> str | None:
    """The command a command line runs, if it names a known one (global options may come
    first); None sends it through the full parser, for ``--help`` and error messages."""
    probe = _Parser(add_help=False)
    _global_options(probe, None)
    probe.add_argument("--version", action="store_true")
    probe.add_argument("command", nargs="?")
    try:
        known, _ = probe.parse_known_args(argv)
    except UsageError:
        return None
    return known.command if known.command in COMMANDS else None


def _settings(args: argparse.Namespace, needs_root: bool, cwd: Path) -> Settings:
    settings = _loaded(args, needs_root, cwd)
    if args.io_threads is not None:
        return replace(settings, io_threads=args.io_threads)
    return settings


def _loaded(args: argparse.Namespace, needs_root: bool, cwd: Path) -> Settings:
    if needs_root:
        return load_settings(args.root, cwd)
    try:
        return load_settings(args.root, cwd)
    except UsageError:
        if args.root:
            raise
        return Settings(root=cwd, root_source="none")


def _cache_dir(args: argparse.Namespace, cwd: Path) -> tuple[Path | None, str | None]:
    """The cache folder to use (None: no cache), and why one was refused."""
    if args.no_cache:
        return None, None
    from batchcheck.records import default_dir, untrusted_dir

    folder = cwd / args.cache_dir if args.cache_dir else default_dir()
    why = untrusted_dir(folder)
    if why:
        return None, f"cache folder {folder} {why}: not used (--no-cache to silence this)"
    return folder, None


def _batch_output(out: TextIO) -> None:
    """Let the text layer gather small writes into blocks when output goes to a file or pipe.

    Listings are written a line or an entry at a time; with unbuffered output (PYTHONUNBUFFERED,
    common in containers) each piece would be a system call: 5 million for a JSON listing of a
    large store. A terminal keeps its line buffering.
    """
    if isinstance(out, io.TextIOWrapper) and not out.isatty():
        out.reconfigure(write_through=False)


def _discard_output() -> None:
    """Point stdout at the null device: Python flushes it once more on the way out, and what
    is left in its buffer has no reader any more (the recipe of the ``signal`` docs)."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError):  # not a real file (a test's capture): nothing to flush
        pass


# deepdiff imports these when they are installed, only to know their arrays and frames, which
# parameters read from JSON never hold: 0.4 s of a 0.5 s compare-experiments. The command line
# marks them absent for its run; the Python API, in a caller's process, leaves them be.
_NOT_USED = ("numpy", "pandas", "polars")


@contextlib.contextmanager
def _absent(names: Sequence[str]) -> Iterator[None]:
    """While the block runs, ``import`` of a module not yet imported raises ImportError."""
    planted = [name for name in names if name not in sys.modules]
    for name in planted:
        sys.modules[name] = None  # type: ignore[assignment]  # the documented way to block
    try:
        yield
    finally:
        for name in planted:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit status."""
    args = None
    try:
        named = _command_named(argv)
        # Completion describes every command: it needs them all built.
        args = build_parser(None if named == "completion" else named).parse_args(argv)
        if args.command is None:
            raise UsageError("a command is needed (see 'batchcheck --help')")
        module = args.module
        cwd = Path.cwd()
        cache_dir, refused = _cache_dir(args, cwd)
        _batch_output(sys.stdout)
        ctx = Context(
            settings=_settings(args, module.NEEDS_ROOT, cwd),
            out=sys.stdout,
            symbols=pick(sys.stdout, bool(args.no_emoji)),
            cwd=cwd,
            show_progress=not args.quiet and sys.stderr.isatty(),
            cache_dir=cache_dir,
        )
        for warning in (*ctx.settings.warnings, *([refused] if refused else [])):
            print(f"batchcheck: warning: {display(warning)}", file=sys.stderr)
        # A run builds hundreds of thousands of small objects and then ends: collection passes
        # would cost more than they free (3x on a 100k-experiment listing).
        gc.disable()
        try:
            with _absent(_NOT_USED):
                return int(module.run(ctx, args))
        finally:
            gc.enable()
            # Before any error line on stderr, and here, so that a reader gone away is the
            # BrokenPipe case below.
            sys.stdout.flush()
    except UsageError as exc:
        print(f"batchcheck: error: {display(str(exc))}", file=sys.stderr)
        return 2
    except NotFound as exc:
        print(f"batchcheck: {display(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("batchcheck: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader (head, less) went away: not an error of ours
        _discard_output()
        return 0
    except Exception as exc:  # a bug: one line unless asked for the rest
        if args is not None and getattr(args, "traceback", False):
            traceback.print_exc()
        print(
            f"batchcheck: internal error: {type(exc).__name__}: {display(str(exc))} "
            "(run with --traceback for details)",
            file=sys.stderr,
        )
        return 3
