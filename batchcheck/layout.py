"""The store's vocabulary (SPEC section 1): the names that make a folder a Batch Scheme 3++ store.

Every module that needs one of these names imports it from here, so the layout is spelled once.
"""

from __future__ import annotations

SHARED = "_shared"  # <root>/_shared/<Dataset>/<experiment>/: physical storage
BATCH_PREFIX = "batch_"  # <root>/batch_<YYYYMMDD>_<purpose>/<Dataset>/<experiment> -> _shared
METADATA_FILE = "experiment_metadata.json"  # in each experiment folder (SPEC section 2)


def link_target(dataset: str, experiment: str) -> str:
    """The target text of a batch link (SPEC section 1): ``../../_shared/<D>/<E>/``."""
    return f"../../{SHARED}/{dataset}/{experiment}/"
