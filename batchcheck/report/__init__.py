"""The store report: the model, its index and a check result turned into pages.

Everything the pages show is computed in Python (:mod:`.build`, on :mod:`.facts`,
:mod:`.navigation`, :mod:`.values` and :mod:`.pictures`) into the plain views of
:mod:`.views`; the Jinja2 templates in ``batchcheck.templates`` (or a team's own folder)
only lay them out (:mod:`.render`). Every store gets an index (a bounded Markdown summary;
one self-contained HTML page with pictures and a searchable experiment table) plus one page
per batch and per dataset. Folder sizes are measured in worker processes meanwhile
(:mod:`.sizes`).
"""

from __future__ import annotations

from batchcheck.report.build import METADATA_FIELDS, build
from batchcheck.report.render import publish, summary_text
from batchcheck.report.sizes import measuring
from batchcheck.report.store_report import report_fields, store_report

__all__ = [
    "METADATA_FIELDS",
    "build",
    "measuring",
    "publish",
    "report_fields",
    "store_report",
    "summary_text",
]
