"""Cache files: checksummed records of plain data, written atomically, keyed per store.

Each record is marshalled on its own behind its length (plain data only, nothing executable),
so only one is held as bytes at a time; the MD5 of everything after it comes first. The caches
live under ``$BATCHCHECK_CACHE_DIR``, ``$XDG_CACHE_HOME/batchcheck`` or ``~/.cache/batchcheck``
and are safe to delete at any time.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from batchcheck.atomic import write_atomic

# 2: signatures stamp the file mode too; 3: records marshalled one by one; 4: packed signatures;
# 5: a JSON key given twice is refused (entries that accepted one are read again)
FORMAT = 5
_LENGTH = 8  # bytes of the length before each record
# What reading a missing, truncated or otherwise damaged cache file can raise.
DAMAGED = (OSError, EOFError, ValueError, TypeError, KeyError, AttributeError)


def default_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where caches go when ``--cache-dir`` is not given."""
    env = os.environ if env is None else env
    if env.get("BATCHCHECK_CACHE_DIR"):
        return Path(env["BATCHCHECK_CACHE_DIR"])
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "batchcheck"


def untrusted_dir(folder: Path) -> str | None:
    """Why a cache folder must not be trusted (SPEC section 8): it exists and is not owned by
    the current user, or others may write it (and so plant a result). None when it is fine or
    does not exist yet (it is then made for this user alone)."""
    try:
        st = folder.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None  # not there (it cannot even be made under a file: then it is not written)
    except OSError as exc:
        return f"cannot be examined ({exc.strerror})"
    if st.st_uid != os.getuid():
        return "is owned by another user"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return "is writable by others"
    return None


def digest(text: str) -> str:
    """The MD5 of ``text`` (names from the disk included), for cache file names."""
    return hashlib.md5(text.encode("utf-8", "surrogateescape"), usedforsecurity=False).hexdigest()


def write_records(path: Path, records: Iterable[Any]) -> None:
    """Write the records atomically; failing to write only costs speed next time."""

    def fill(handle: BinaryIO) -> None:
        md5 = hashlib.md5(usedforsecurity=False)
        handle.write(bytes(md5.digest_size))
        for record in records:
            blob = marshal.dumps(record)
            for part in (len(blob).to_bytes(_LENGTH, "little"), blob):
                md5.update(part)
                handle.write(part)
        handle.seek(0)
        handle.write(md5.digest())

    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(path, fill)
    except (OSError, ValueError):
        return


def read_records(path: Path) -> Iterator[Any]:
    """The records :func:`write_records` wrote, one at a time.

    The checksum can only be judged at the end: past the last record a mismatch raises
    ValueError, so a caller trusts what it built from them only once the iteration is complete.
    """
    md5 = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        left = os.fstat(handle.fileno()).st_size
        expected = handle.read(md5.digest_size)
        while head := handle.read(_LENGTH):
            size = int.from_bytes(head, "little")
            left -= len(head)
            if len(head) != _LENGTH or size > left:
                raise ValueError("truncated")  # or a damaged length: never read past the end
            blob = handle.read(size)
            left -= size
            md5.update(head)
            md5.update(blob)
            yield marshal.loads(blob)
    if md5.digest() != expected:
        raise ValueError("checksum mismatch")
