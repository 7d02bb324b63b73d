"""Facts derived from a scanned store that several rules and the report need, computed once."""

from __future__ import annotations

import os
from collections import defaultdict
from functools import cached_property
from pathlib import Path

from batchcheck.config import Settings
from batchcheck.layout import SHARED
from batchcheck.model import Experiment, Link, Store, Stray


class StoreIndex:
    """Lazily computed views of one :class:`Store`; each is built at most once."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    @cached_property
    def schema_problems(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """Schema violations of every experiment whose metadata parsed as JSON.

        Judged when the file was read (metadata.Judge): an unknown ``fingerprint_version`` is
        one too, even when a project's own schema does not say so.
        """
        return {
            key: exp.metadata.violations  # the tuple itself: no copy per experiment
            for key, exp in self.store.experiments.items()
            if exp.metadata.ok
        }

    def recomputed(self, exp: Experiment) -> str | None:
        """The fingerprint recomputed from the parameters; None when they cannot be hashed."""
        return exp.metadata.fingerprint

    @cached_property
    def fingerprints(self) -> dict[tuple[str, str], str]:
        """Recomputed fingerprints of experiments whose metadata is an object that hashes."""
        return {
            key: exp.metadata.fingerprint
            for key, exp in self.store.experiments.items()
            if exp.metadata.fingerprint is not None
        }

    @cached_property
    def duplicates(self) -> dict[str, list[tuple[str, str]]]:
        """Recomputed fingerprints shared by two or more experiments, with those experiments."""
        groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for key, value in self.fingerprints.items():
            groups[value].append(key)
        return {value: keys for value, keys in groups.items() if len(keys) > 1}

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

    def pointed(self, stray: Stray) -> tuple[str, str] | None:
        """The experiment a destroyed link's text names (read lexically, as ``Link.key``):
        ``_shared/<D>/<E>`` right below the root; None for anything else."""
        if not stray.destroyed_link or stray.pointer is None:
            return None
        joined = Path(os.path.normpath(stray.path.parent / stray.pointer))
        root = self.store.root
        parts = joined.relative_to(root).parts if root in joined.parents else ()
        return (parts[1], parts[2]) if len(parts) == 3 and parts[0] == SHARED else None

    def target_path(self, link: Link) -> Path | None:
        """Where the link's target text points, read lexically (never followed); None when
        that is outside the store or the link itself.

        Through other links the target may really lead elsewhere: this is what the text says.
        """
        joined = Path(os.path.normpath(link.path.parent / link.target))
        root = self.store.root
        inside = joined == root or root in joined.parents
        return joined if inside and joined != link.path else None
