"""``batchcheck fingerprint FILE``: the fingerprint of a metadata JSON or a parameters YAML."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from batchcheck.context import Context
from batchcheck.errors import UsageError
from batchcheck.fingerprint import FingerprintError, fingerprint

NAME = "fingerprint"
HELP = "print the parameter fingerprint of a metadata JSON or parameters YAML file"
NEEDS_ROOT = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE, and json output for pipelines that want the short form too."""
    parser.add_argument("file", metavar="FILE", help="experiment_metadata.json or a YAML file")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def load_parameters(path: Path) -> dict[str, Any]:
    """The top-level mapping of a JSON or YAML file; anything else is a usage error."""
    import yaml

    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise UsageError(
            f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: "
            f"{str(exc).splitlines()[0]}"
        ) from exc
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a mapping with dataset / generation / validation")
    return data


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Print all 32 digits (or a JSON object with the short form and the hashed fields)."""
    path = ctx.cwd / args.file
    params = load_parameters(path)
    fields = ctx.settings.fingerprint_fields
    version = params.get("fingerprint_version", 1)
    try:
        value = fingerprint(params, fields, version)
    except FingerprintError as exc:
        raise UsageError(f"{args.file}: {exc}") from exc
    if args.format == "json":
        json.dump(
            {
                "file": args.file,
                "fingerprint": value,
                "short": value[:12],
                "fingerprint_version": version,
                "fields": list(fields),
            },
            ctx.out,
        )
        ctx.out.write("\n")
    else:
        ctx.out.write(value + "\n")
    return 0
