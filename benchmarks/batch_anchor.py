#!/usr/bin/env python3
"""The yardstick for ``list-batch-experiments`` on a slow filesystem, in the style of
``../shared/tools/latfs/anchor.py`` (which has none for it): the I/O the command cannot avoid,
issued from a thread pool so that the round trips overlap.

    batch_anchor.py ROOT BATCH [--threads N]

List the batch folder and each of its dataset folders, readlink every link, then read and
parse the metadata of every experiment a link names the usual way
(``../../_shared/<Dataset>/<experiment>``). Level by level, each level mapped over the pool,
items interleaved across folders (the kernel may serialise the first lookups of names within
one folder). Prints what it did as key=value pairs. Only the standard library.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

METADATA = "experiment_metadata.json"
USUAL = "../../_shared/"


def listdir(path: str) -> list[os.DirEntry[str]]:
    with os.scandir(path) as entries:
        return [e for e in entries if not e.name.startswith(".")]


def interleave(groups: list[list[Any]]) -> list[Any]:
    gap = object()
    rows = itertools.zip_longest(*groups, fillvalue=gap)
    return [x for row in rows for x in row if x is not gap]


def read_metadata(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        json.loads(os.read(fd, 1 << 20))
    finally:
        os.close(fd)


def run(root: str, batch: str, pool: ThreadPoolExecutor) -> str:
    folders = [
        e.path for e in listdir(os.path.join(root, batch)) if e.is_dir(follow_symlinks=False)
    ]
    listed = list(pool.map(listdir, folders))
    links = interleave([[e.path for e in entries if e.is_symlink()] for entries in listed])
    targets = list(pool.map(os.readlink, links, chunksize=16))
    by_dataset: dict[str, list[str]] = {}
    for target in targets:
        if target.startswith(USUAL):
            dataset, name = target[len(USUAL) :].strip("/").split("/")[:2]
            path = os.path.join(root, "_shared", dataset, name, METADATA)
            by_dataset.setdefault(dataset, []).append(path)
    metas = interleave(list(by_dataset.values()))
    list(pool.map(read_metadata, metas))
    return f"folders={1 + len(folders)} links={len(links)} metadata={len(metas)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", metavar="ROOT")
    parser.add_argument("batch", metavar="BATCH")
    parser.add_argument("--threads", type=int, default=64, help="pool size (default 64)")
    args = parser.parse_args(argv)
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        try:
            print(run(args.root, args.batch, pool))
        except (OSError, ValueError) as err:
            print(f"batch_anchor: {err}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
