"""Where the report shows each thing and how its pages link to each other: the page of each
batch and dataset, file-name-safe slugs, the page and anchor (:class:`Target`) of every
batch, dataset, experiment and link row, and relative links between pages.

Links are kept free of formats: a :class:`Ref` holds its target's page relative to the page
laid out, without extension, and :func:`link` (the templates' ``link`` filter) and
:func:`href` add the extension of the format being rendered.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections import defaultdict
from collections.abc import Collection, Iterable
from functools import lru_cache

from batchcheck.findings import Finding
from batchcheck.layout import SHARED
from batchcheck.model import Experiment
from batchcheck.names import display
from batchcheck.report.facts import Facts, Key
from batchcheck.report.views import FindingView, Ref, Target

INDEX = "index"  # the page every report has
# The folder of each kind of page -> its template stem, which also starts its anchor.
KINDS = {"batches": "batch", "datasets": "dataset"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def slug(name: str) -> str:
    """A file-name-safe form of a store name (also used for anchors)."""
    text = _UNSAFE.sub("-", display(name)).strip("-.")
    return text[:100] or "x"


class Slugs:
    """Unique slugs per namespace: two names that slug alike get ``-2``, ``-3``."""

    def __init__(self) -> None:
        self.seen: dict[str, set[str]] = defaultdict(set)

    def __call__(self, space: str, name: str) -> str:
        base = candidate = slug(name)
        n = 1
        while candidate.lower() in self.seen[space]:
            n += 1
            candidate = f"{base}-{n}"
        self.seen[space].add(candidate.lower())
        return candidate


@lru_cache(maxsize=8192)
def relative(page: str, folder: str) -> str:
    """``page`` (relative to the output folder, without extension) as a page in ``folder``
    reaches it. A page refers to hundreds of others: each pair is worked out once."""
    way = _relative_folder(posixpath.dirname(page), folder)
    name = posixpath.basename(page)
    return name if way == "." else f"{way}/{name}"


@lru_cache(maxsize=256)
def _relative_folder(folder: str, start: str) -> str:
    """Pages live in a handful of folders: each pair is worked out once."""
    return posixpath.relpath(folder or ".", start or ".")


def href(
    target: Target,
    page: str,
    ext: str,
    stems: Collection[str] | None = None,
    rows: bool = True,
) -> str:
    """The link from ``page`` to ``target``: ``#anchor`` on the same page, else a relative path
    to the file of the format whose extension is ``ext``.

    ``stems``: the kinds of page that format writes (all when None). A page it does not write
    is never linked to: a batch or a dataset is linked to its row on the index instead when
    that index has one (``rows``; its anchor is the row's id there), anything else on such a
    page not at all (empty).
    """
    if target.page == page:
        return f"#{target.anchor}"
    folder, _, name = target.page.partition("/")
    if stems is None or target.page == INDEX or KINDS.get(folder, folder) in stems:
        return f"{relative(target.page, posixpath.dirname(page))}{ext}#{target.anchor}"
    if rows and folder in KINDS and target.anchor == f"{KINDS[folder]}-{name}":
        return href(Target(INDEX, target.anchor), page, ext, stems)
    return ""


def link(ref: Ref, ext: str) -> str:
    """What :func:`href` gives for ``ref``, from the relative file it holds (empty when the
    name is not shown in the report)."""
    target = ref.target
    if target is None:
        return ""
    return f"{ref.file}{ext}#{target.anchor}" if ref.file else f"#{target.anchor}"


def home(page: str, ext: str) -> str:
    """The index file as ``page`` links to it."""
    return relative(INDEX, posixpath.dirname(page)) + ext


class SiteMap:
    """The page and anchor of every batch, dataset, experiment and link row of one report.

    Made once, before the page renderers fork, and never changed after.
    """

    def __init__(self, facts: Facts) -> None:
        store = facts.store
        self.root = facts.root
        self.batches = store.batches
        slugs = Slugs()
        self.batch_slugs = {name: slugs("batches", name) for name in store.batches}
        self.dataset_slugs = {name: slugs("datasets", name) for name in store.datasets()}
        self.batch_targets = {
            name: self._target("batches", s) for name, s in self.batch_slugs.items()
        }
        self.dataset_targets = {
            name: self._target("datasets", s) for name, s in self.dataset_slugs.items()
        }
        # Where each experiment is described (see exp_target): its page, and the slug of its
        # name where that is not the name itself. A Target for each of a large store's
        # experiments would cost more memory than the rest of the report.
        self.exp_pages: dict[Key, str] = {}
        self.exp_slugs: dict[Key, str] = {}
        # The experiments each page describes.
        self.described: dict[str, list[Experiment]] = defaultdict(list)
        for key, exp in store.experiments.items():
            page = self.exp_pages[key] = self._home(exp, facts)
            name = slugs("exp-" + key[0], key[1])
            if name != key[1]:
                self.exp_slugs[key] = name
            self.described[page].append(exp)
        self.link_targets = lru_cache(maxsize=4)(self._link_targets)

    def _target(self, folder: str, name: str) -> Target:
        return Target(f"{folder}/{name}", f"{KINDS[folder]}-{name}")

    def _home(self, exp: Experiment, facts: Facts) -> str:
        """The page that describes an experiment: the page of the batch that generated it (so
        no page grows with the whole store), else its dataset's page."""
        origin = exp.metadata.fields.get("original_batch")
        if origin in facts.linked(exp.key):
            return self.batch_targets[origin].page
        return self.dataset_targets[exp.dataset].page

    def _link_targets(self, batch: str) -> dict[str, Target]:
        """Link path -> where its row is, for one batch (anchors are unique per batch)."""
        slugs = Slugs()
        page, prefix = self.batch_targets[batch].page, f"link-{self.batch_slugs[batch]}-"
        return {
            link.location: Target(page, prefix + slugs("", f"{link.dataset}-{link.name}"))
            for link in self.batches[batch].links
        }

    def exp_target(self, key: Key) -> Target:
        """Where an experiment of the store is described."""
        anchor = f"exp-{self.dataset_slugs[key[0]]}-{self.exp_slugs.get(key, key[1])}"
        return Target(self.exp_pages[key], anchor)

    def finding_target(self, finding: Finding) -> Target | None:
        """The experiment, link row or batch a finding is about, when the report shows it."""
        text = str(finding.path)
        if not text.startswith(self.root):
            return None
        parts = text[len(self.root) :].split(os.sep)
        if len(parts) >= 3 and parts[0] == SHARED:
            key = (parts[1], parts[2])
            return self.exp_target(key) if key in self.exp_pages else None
        if parts[0] in self.batches:
            return self.link_targets(parts[0]).get(text) or self.batch_targets[parts[0]]
        return None


class Links:
    """Makes the :class:`Ref` objects of one page; the reference to each batch once per page."""

    def __init__(self, site: SiteMap, page: str) -> None:
        self.site = site
        self.page = page
        self.folder = posixpath.dirname(page)
        self._batches: dict[str, Ref] = {}

    def __call__(self, name: str, target: Target | None) -> Ref:
        if target is None:
            return Ref(name)
        if target.page == self.page:
            return Ref(name, target)
        return Ref(name, target, relative(target.page, self.folder))

    def batch(self, name: str) -> Ref:
        """A batch by name (one the store does not hold is named, not linked)."""
        ref = self._batches.get(name)
        if ref is None:
            ref = self._batches[name] = self(display(name), self.site.batch_targets.get(name))
        return ref

    def batches(self, names: Iterable[str]) -> list[Ref]:
        """Batches by name, each once, sorted."""
        return [self.batch(name) for name in sorted(set(names))]

    def experiment(self, key: Key, name: str | None = None) -> Ref:
        """An experiment of the store, named by its folder unless ``name`` is given."""
        return self(display(key[1]) if name is None else name, self.site.exp_target(key))


def finding_view(facts: Facts, site: SiteMap, finding: Finding) -> FindingView:
    """A finding of ``check`` as the report shows it, linked to what it is about."""
    return FindingView(
        severity=finding.severity.value,
        path=facts.rel(str(finding.path)),
        message=display(finding.message),
        target=site.finding_target(finding),
        related=[facts.rel(str(p)) for p in finding.related],
        code=finding.code,
    )
