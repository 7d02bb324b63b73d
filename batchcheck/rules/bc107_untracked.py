"""BC107 (error): what the commit holds points at something git does not track.

Only with ``check --git`` (on in the pre-commit hook), for a store in a git work tree. A batch
link that git tracks (staged or committed) whose target experiment's
``experiment_metadata.json`` git does not track (an untracked or ignored experiment folder),
and a shared experiment some of whose files git tracks but not its metadata file: the commit
passes here, where the files exist, and is broken in every clone (BC101, BC301). pre-commit
stashes unstaged changes but not untracked files, so only this rule sees it. The message says
what to add. What git tracks is read with one ``git ls-files`` call; training data is not
judged (it often lives outside git: DVC, git-annex).
"""

from __future__ import annotations

from collections.abc import Iterator

from batchcheck.findings import Finding, Severity
from batchcheck.gitfiles import tracked
from batchcheck.index import StoreIndex
from batchcheck.layout import METADATA_FILE, SHARED
from batchcheck.model import Store
from batchcheck.names import display

CODE = "BC107"
SEVERITY = Severity.ERROR
SUMMARY = "(--git) a tracked link or experiment points at something git does not track"
SCOPE = "any"


def check(store: Store, index: StoreIndex) -> Iterator[Finding]:
    """Tracked links to untracked experiments, tracked experiments with untracked metadata."""
    if not index.settings.git:
        return
    files = tracked(store.root)
    if files is None:
        return
    experiments = {
        tuple(name.split("/", 3)[1:3]) for name in files if name.startswith(SHARED + "/")
    }
    for link in store.links():
        if link.key is None or f"{link.batch}/{link.dataset}/{link.name}" not in files:
            continue
        folder = f"{SHARED}/{link.key[0]}/{link.key[1]}"
        if f"{folder}/{METADATA_FILE}" in files or link.key not in store.experiments:
            continue
        yield Finding(
            store.root / link.batch / link.dataset / link.name,
            CODE,
            f"git tracks this link but not its target {display(folder)}/{METADATA_FILE}: every "
            f"clone of the commit finds it dangling; 'git add {display(folder)}' (and check "
            ".gitignore), or unstage the link",
            SEVERITY,
            (store.root.joinpath(SHARED, *link.key),),
        )
    for key in sorted(store.experiments):
        folder = f"{SHARED}/{key[0]}/{key[1]}"
        if key in experiments and f"{folder}/{METADATA_FILE}" not in files:
            yield Finding(
                store.root.joinpath(SHARED, *key),
                CODE,
                f"git tracks files of this experiment but not its {METADATA_FILE}: every clone "
                f"of the commit finds it unreadable; 'git add {display(folder)}/{METADATA_FILE}' "
                "(and check .gitignore)",
                SEVERITY,
            )
