"""BC301: metadata missing, not a file, too large, not JSON."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import TEMP, experiment, make_tree
from ruletest import found, healthy, messages

META = "experiment_metadata.json"


def test_unreadable_metadata(tmp_path: Path) -> None:
    spec = healthy()
    for name in ("missing", "folder", "large", "just", "broken", "binary", "symlinked", "digits"):
        spec.update(experiment("Copa", name, TEMP, 0.5, 1.0))
    spec[f"_shared/Copa/broken/{META}"] = '{"dataset": '
    spec[f"_shared/Copa/binary/{META}"] = b"\xff\xfe\x00\x81garbage"
    spec[f"_shared/Copa/symlinked/{META}"] = f"-> ../temp05_topp10_gpt4o/{META}"
    # Valid JSON that Python refuses to read (an integer of more than 4300 digits).
    spec[f"_shared/Copa/digits/{META}"] = '{"seed": ' + "9" * 5000 + "}"
    root = make_tree(tmp_path / "store", spec)
    os.remove(root / f"_shared/Copa/missing/{META}")
    os.remove(root / f"_shared/Copa/folder/{META}")
    os.mkdir(root / f"_shared/Copa/folder/{META}")
    os.truncate(root / f"_shared/Copa/large/{META}", 2 * 1024 * 1024)
    os.truncate(root / f"_shared/Copa/just/{META}", 1024 * 1024 + 1)
    names = ("missing", "folder", "large", "just", "broken", "binary", "symlinked", "digits")
    assert found(root, "BC301") == {("BC301", f"_shared/Copa/{name}") for name in names}
    said = messages(root, "BC301")
    assert said["_shared/Copa/missing"] == f"{META} is missing"
    assert said["_shared/Copa/large"] == f"{META} is 2.0 MiB, over the 1.0 MiB limit"
    assert said["_shared/Copa/just"] == f"{META} is 1,048,577 bytes, over the 1.0 MiB limit"
    assert said["_shared/Copa/broken"].startswith(f"{META}: not JSON")
    assert "not followed" in said["_shared/Copa/symlinked"]
    assert said["_shared/Copa/digits"] == (
        f"{META}: unreadable JSON: Exceeds the limit (4300 digits) for integer string "
        "conversion: value has 5000 digits"
    )


def test_size_limit_setting(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "store", healthy())
    assert len(found(root, "BC301", max_metadata_bytes=100)) == 3


def test_healthy_store_is_clean(tmp_path: Path) -> None:
    assert found(make_tree(tmp_path / "store", healthy()), "BC301") == set()
