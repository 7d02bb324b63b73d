"""Facts derived from a scanned store that several rules and the report need, computed once."""

from __future__ import annotations

from collections import defaultdict
from functools import cached_property
from pathlib import Path

from batchcheck.config import Settings
from batchcheck.fingerprint import FingerprintError, fingerprint
from batchcheck.metadata import schema_violations
from batchcheck.store import Experiment, Link, Store


class StoreIndex:
    """Lazily computed views of one :class:`Store`; each is built at most once."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    @cached_property
    def schema_problems(self) -> dict[tuple[str, str], list[str]]:
        """Schema violations of every experiment whose metadata parsed as JSON."""
        schema = self.settings.metadata_schema
        return {
            key: schema_violations(exp.metadata.data, schema)
            for key, exp in self.store.experiments.items()
            if exp.metadata.ok
        }

    def recomputed(self, exp: Experiment) -> str | None:
        """The fingerprint recomputed from the parameters; None when they cannot be hashed."""
        return self.fingerprints.get(exp.key)

    @cached_property
    def fingerprints(self) -> dict[tuple[str, str], str]:
        """Recomputed fingerprints of experiments whose metadata is an object that hashes."""
        out = {}
        fields = self.settings.fingerprint_fields
        for key, exp in self.store.experiments.items():
            data = exp.metadata.fields
            if not data:
                continue
            version = data.get("fingerprint_version", 1)
            try:
                out[key] = fingerprint(data, fields, version)
            except (FingerprintError, TypeError):
                continue
        return out

    @cached_property
    def links_to(self) -> dict[tuple[str, str], list[Link]]:
        """Links whose target text names each shared experiment (whatever their state)."""
        out: dict[tuple[str, str], list[Link]] = defaultdict(list)
        for link in self.store.links():
            if link.key is not None:
                out[link.key].append(link)
        return dict(out)

    @cached_property
    def link_count(self) -> int:
        """How many batch links the scan saw."""
        return sum(1 for _ in self.store.links())

    def rel(self, path: Path) -> str:
        """A path relative to the root, for messages."""
        try:
            return str(path.relative_to(self.store.root))
        except ValueError:
            return str(path)
