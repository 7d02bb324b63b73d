"""The bare minimum I/O of a full check, as a plain script: the yardstick for every command.

scandir every folder of the store (batches, their dataset folders, _shared, its dataset and
experiment folders, each training data folder), readlink and stat every link, read and
json-parse every metadata file. No rules, no output: what any checker has to pay.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys


def walk(root: str) -> tuple[int, int, int]:
    """Do the I/O; return (folders, links, metadata files) so the work cannot be skipped."""
    folders = links = metas = 0
    with os.scandir(root) as top:
        tops = [e for e in top if not e.name.startswith(".")]
    folders += 1
    for entry in tops:
        if entry.name == "_shared":
            with os.scandir(entry.path) as it:
                datasets = [d for d in it if d.is_dir(follow_symlinks=False)]
            folders += 1
            for ds in datasets:
                with os.scandir(ds.path) as it:
                    exps = [e for e in it if e.is_dir(follow_symlinks=False)]
                folders += 1
                for exp in exps:
                    with os.scandir(exp.path) as it:
                        for item in it:
                            if item.name == "experiment_metadata.json":
                                with open(item.path, "rb") as handle:
                                    json.loads(handle.read())
                                metas += 1
                            elif item.is_dir(follow_symlinks=False):
                                with os.scandir(item.path) as data:
                                    next(iter(data), None)
                                folders += 1
                    folders += 1
        elif entry.name.startswith("batch_") and entry.is_dir(follow_symlinks=False):
            with os.scandir(entry.path) as it:
                datasets = [d for d in it if d.is_dir(follow_symlinks=False)]
            folders += 1
            for ds in datasets:
                with os.scandir(ds.path) as it:
                    for item in it:
                        os.readlink(item.path)
                        with contextlib.suppress(OSError):  # a dangling link
                            os.stat(item.path)
                        links += 1
                folders += 1
    return folders, links, metas


if __name__ == "__main__":
    print(*walk(sys.argv[1]))
