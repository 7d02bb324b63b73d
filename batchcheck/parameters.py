"""``batchcheck fingerprint FILE``: the parameters of a metadata JSON or a parameters YAML, and
their fingerprint, as a result the CLI and JSON share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batchcheck.documents import read_document
from batchcheck.errors import UsageError
from batchcheck.fingerprint import SHORT, FingerprintError, fingerprint


@dataclass(frozen=True)
class FileFingerprint:
    """The fingerprint of one file, as given on the command line."""

    file: str
    fingerprint: str
    version: Any
    fields: tuple[str, ...]

    def to_json(self, cwd: Path) -> dict[str, Any]:
        """``{"file", "fingerprint", "short", "fingerprint_version", "fields"}``."""
        return {
            "file": self.file,
            "fingerprint": self.fingerprint,
            "short": self.fingerprint[:SHORT],
            "fingerprint_version": self.version,
            "fields": list(self.fields),
        }


def load_parameters(path: Path, shown: str) -> dict[str, Any]:
    """The top-level mapping of a JSON or YAML file, read as a command's input is
    (``documents``: a JSON file exactly as ``check`` reads metadata); anything else is a
    usage error."""
    data = read_document(path, shown)
    if not isinstance(data, dict):
        raise UsageError(f"{shown}: expected a mapping with dataset / generation / validation")
    return data


def file_fingerprint(path: Path, given: str, fields: Sequence[str]) -> FileFingerprint:
    """The fingerprint of the parameters in ``path`` (``given``: the name the user typed)."""
    params = load_parameters(path, given)
    version = params.get("fingerprint_version", 1)
    try:
        value = fingerprint(params, fields, version)
    except FingerprintError as exc:
        raise UsageError(f"{given}: {exc}") from exc
    return FileFingerprint(given, value, version, tuple(fields))
