"""``--format text`` of ``add``: what happened to the experiment, then the link into the batch
(the ``link`` layout) or the check of the experiment."""

from __future__ import annotations

from typing import TextIO

from batchcheck.adding import AddRun
from batchcheck.formats import check_text, linking_text
from batchcheck.formats.seed import RULE, header, short
from batchcheck.formats.view import View, plural
from batchcheck.layout import SHARED
from batchcheck.lookups.common import data_path
from batchcheck.names import display

_DONE = {
    "add": "Added",
    "finish": "Finished an interrupted add of",
    "present": "Already in the store (same parameters), nothing to do:",
}
_DRY = {"add": "Would add", "finish": "Would finish an interrupted add of"}


def add(run: AddRun, out: TextIO, view: View) -> None:
    """The experiment, where its data is, then the link or the check."""
    sym = view.symbols
    rel = f"{SHARED}/{display(run.dataset)}/{display(run.name)}"
    header(out, f"Add: {display(run.dataset)}/{display(run.name)}")
    dry = run.dry_run and run.action != "present"
    verb = _DRY[run.action] if dry else _DONE[run.action]
    how = ""
    if run.action == "add":
        taken = "copied" if run.copy else "moved"
        how = f" ({'to be ' if dry else ''}{taken} from {view.path(run.source)}, "
        how += f"{plural(run.files, 'item')})"
    lines = [f"\n{sym.new if dry else sym.ok} {verb} {rel}{how}"]
    meta = run.metadata
    lines.append(f"   Parameter fingerprint: {short(run.fingerprint)}")
    lines.append(f"   Original batch: {display(str(meta.get('original_batch')))}")
    lines.append(f"   Training data path: {view.path(data_path(run.folder, run.dataset))}")
    if dry:
        lines.append(f"   {sym.info} Dry run: nothing written")
    out.write("\n".join(lines) + "\n")
    if run.links is not None:
        out.write("\n")
        linking_text.link(run.links, out, view)
    elif run.check is not None:
        out.write(f"\n{RULE}\nCheck of {rel}\n{RULE}\n\n")
        check_text.write(run.check, out, view)
