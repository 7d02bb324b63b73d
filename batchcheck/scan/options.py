"""What one scan reads: which batches, which shared experiments, and how (``ReadOptions``)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batchcheck.config import DEFAULT_IO_THREADS
from batchcheck.metadata import Judge
from batchcheck.scan.experiments import ReadOptions

if TYPE_CHECKING:
    from batchcheck.config import Settings

_READ_FIELDS = frozenset(f.name for f in fields(ReadOptions))


@dataclass(frozen=True)
class ScanOptions:
    """What to read. ``batches=None`` reads every batch; ``shared`` is all, linked or none.

    ``linked`` reads only the experiments that scanned links name; ``none`` reads no
    experiment: a link is judged only by whether its target folder exists. ``datasets`` limits
    ``all`` to the experiments of those dataset folders. ``read`` says what is read of each
    experiment. ``cache_dir`` (None: no cache) keeps earlier reads of a full scan; ``workers``
    0 means one per core. ``io_threads`` is how many requests may be in flight on a filesystem
    that makes calls wait; ``io`` is ``auto`` (threads when the first calls show it waits),
    ``threads`` or ``inline`` (tests and benchmarks pick one).
    """

    batches: tuple[str, ...] | None = None
    shared: str = "all"
    datasets: tuple[str, ...] | None = None
    read: ReadOptions = field(default_factory=ReadOptions)
    workers: int = 0
    cache_dir: Path | None = None
    io_threads: int = DEFAULT_IO_THREADS
    io: str = "auto"

    @classmethod
    def of(cls, **kwargs: Any) -> ScanOptions:
        """Options with the fields of :class:`ReadOptions` (``metadata``, ``data``, ``sizes``,
        ...) given alongside the scan's own."""
        read = {name: kwargs.pop(name) for name in _READ_FIELDS & kwargs.keys()}
        return cls(read=ReadOptions(**read), **kwargs)

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> ScanOptions:
        """Options that honour the project's schema, fingerprint fields and size limit;
        ``keep`` names the metadata fields to keep (None: all)."""
        keep = kwargs.pop("keep", None)
        judge = Judge(settings.metadata_schema, settings.fingerprint_fields, keep)
        kwargs.setdefault("io_threads", settings.io_threads)
        return cls.of(max_metadata_bytes=settings.max_metadata_bytes, judge=judge, **kwargs)
