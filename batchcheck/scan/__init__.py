"""One read of a store into the model: listing, link resolution, experiment reads, caches.

``scan`` reads as much as its options ask; ``load_experiments`` reads a few shared experiments.
"""

from __future__ import annotations

from batchcheck.scan.options import ScanOptions
from batchcheck.scan.scanner import load_experiments, scan, scan_stamped

__all__ = ["ScanOptions", "load_experiments", "scan", "scan_stamped"]
