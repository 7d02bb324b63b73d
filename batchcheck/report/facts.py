"""What the report says about each link and experiment, derived once from the scan, the store
index and the check result: which batches link an experiment, a link's reuse status, the short
fingerprint, the check codes on a path.

The reuse status itself is the lookups' (:func:`~batchcheck.lookups.common.reuse_status`); the
report adds ``broken`` and whether the original batch still exists.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from batchcheck.findings import CheckResult, Finding
from batchcheck.formats.seed import short
from batchcheck.index import StoreIndex
from batchcheck.lookups.common import reuse_status
from batchcheck.model import Experiment, Link, LinkState, Store
from batchcheck.names import display

Key = tuple[str, str]  # (dataset, experiment): an experiment of the store
Status = tuple[str, str]  # new / reused / unknown / broken, and its text
_WORDS = {"new": "new", "unknown": "unknown (no original_batch)"}


@dataclass(frozen=True, slots=True)
class Facts:
    """The scan, its index and check's findings, with the lookups the report's sections share.

    Paths stay text: the model keeps them so.
    """

    store: Store
    index: StoreIndex
    result: CheckResult
    root: str  # the store's path and a separator: what a path under it starts with
    links_to: Mapping[Key, list[Link]]  # the links that name each experiment, as check saw them
    # The status of each link, by batch and dataset in link order: counted for the index, shown
    # in the batch's rows.
    statuses: dict[str, dict[str, list[Status]]]
    by_path: dict[str, list[Finding]]
    batch_findings: Counter[str]  # findings on each batch folder or anything in it
    by_dataset: dict[str, list[Experiment]]  # the experiments of each dataset, in store order
    # The batch of every link that reaches each experiment, in scan order: asked for by every
    # section, so worked out once.
    batches_of: dict[Key, tuple[str, ...]]

    @classmethod
    def of(cls, store: Store, index: StoreIndex, result: CheckResult) -> Facts:
        """The facts of a fully scanned store and the check result over it."""
        root = str(store.root) + os.sep
        # A store's links have a handful of distinct statuses: each held once, not per link.
        held: dict[Status, Status] = {}
        statuses = {
            name: {
                ds: [
                    held.setdefault(found, found)
                    for found in (status(store, link, reached(store, link)) for link in links)
                ]
                for ds, links in batch.datasets.items()
            }
            for name, batch in store.batches.items()
        }
        by_path: dict[str, list[Finding]] = defaultdict(list)
        batch_paths = {str(batch.path): name for name, batch in store.batches.items()}
        batch_findings: Counter[str] = Counter()
        for finding in result.findings:
            text = str(finding.path)
            by_path[text].append(finding)
            if text.startswith(root):
                top = root + text[len(root) :].split(os.sep, 1)[0]
                if top in batch_paths:
                    batch_findings[batch_paths[top]] += 1
        by_dataset: dict[str, list[Experiment]] = defaultdict(list)
        for key, exp in store.experiments.items():
            by_dataset[key[0]].append(exp)
        ok = LinkState.OK
        batches_of = {
            key: tuple(link.batch for link in links if link.state is ok)
            for key, links in index.links_to.items()
        }
        return cls(
            store=store,
            index=index,
            result=result,
            root=root,
            links_to=index.links_to,
            statuses=statuses,
            by_path=by_path,
            batch_findings=batch_findings,
            by_dataset=by_dataset,
            batches_of=batches_of,
        )

    def linked(self, key: Key) -> tuple[str, ...]:
        """The batch of every link that reaches experiment ``key``, in scan order."""
        return self.batches_of.get(key, ())

    def short(self, exp: Experiment) -> str:
        """The stored fingerprint as shown, else the recomputed one, else nothing."""
        stored = exp.metadata.fields.get("parameter_fingerprint")
        if isinstance(stored, str) and stored:
            return short(stored)
        recomputed = self.index.recomputed(exp)
        return short(recomputed) if recomputed else ""

    def codes(self, *paths: str) -> list[str]:
        """The codes of the findings on ``paths``, sorted once each."""
        if not self.by_path:
            return []
        return sorted({f.code for path in paths for f in self.by_path.get(path, ())})

    def level(self, *paths: str) -> str:
        """The worst severity of the findings on ``paths``: error, warning, or empty."""
        found = {f.severity.value for path in paths for f in self.by_path.get(path, ())}
        return "error" if "error" in found else "warning" if found else ""

    def rel(self, path: str) -> str:
        """A path as shown: relative to the store's root when under it."""
        return display(path[len(self.root) :] if path.startswith(self.root) else path)


def reached(store: Store, link: Link) -> Experiment | None:
    """The experiment a link's target names, when the store holds it."""
    return store.experiments.get(link.key) if link.key else None


def status(store: Store, link: Link, exp: Experiment | None) -> Status:
    """How a batch holds what its link names: new / reused / unknown (the lookups'
    :func:`reuse_status`) or broken, with the text the report shows."""
    if link.state is not LinkState.OK or exp is None:
        return "broken", f"{link.state.value}: {link.detail}".rstrip(": ")
    found = reuse_status(link.batch, exp).status
    if found != "reused":
        return found, _WORDS[found]
    # reuse_status names the original batch as shown (display()ed): the store knows it raw.
    known = exp.metadata.fields["original_batch"] in store.batches
    return found, "reused from" if known else "reused from (no such batch)"
