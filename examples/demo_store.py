"""Make a scratch copy of the example store to try ``mv``, ``gc`` and ``check --fix`` on.

    python examples/demo_store.py build/demo      (what ``make demo-store`` runs)

DEST gets the example store (``Data_v2/synthetic``), its training config (paths made relative
to DEST) and a ``pyproject.toml`` naming both, then the store is broken the ways stores break:

- ``batch_20241230_topp`` is deleted: ``temp07_topp08_gpt4o`` becomes an orphan (BC401);
- ``batch_20241229_temperature/Copa/temp09_topp10_gpt4o`` is made absolute (BC103);
- ``batch_20241229_temperature/Copa/temp07_topp10_gpt4o`` gets an untidy target text;
- ``batch_20241229_temperature/CB/temp07_topp10_gpt4o`` is renamed ``cb_temp07`` (BC104);
- ``batch_20241228_pilot/Copa/temp07_topp09_gpt4o`` is checked out as a file (BC106).

DEST is emptied first. Only the standard library is used.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent
PYPROJECT = '[tool.batchcheck]\nroot = "Data_v2/synthetic"\nconfigs = ["configs/*.yaml"]\n'


def make_demo(dest: Path) -> Path:
    """Write the demo under ``dest`` (emptied first); return the store root."""
    dest = dest.resolve()
    shutil.rmtree(dest, ignore_errors=True)
    (dest / "configs").mkdir(parents=True)
    shutil.copytree(EXAMPLES / "Data_v2", dest / "Data_v2", symlinks=True)
    config = (EXAMPLES / "configs" / "train_copa_temperature.yaml").read_text("utf-8")
    (dest / "configs" / "train_copa_temperature.yaml").write_text(
        config.replace("examples/Data_v2/", "Data_v2/"), "utf-8"
    )
    (dest / "pyproject.toml").write_text(PYPROJECT, "utf-8")
    root = dest / "Data_v2" / "synthetic"
    shutil.rmtree(root / "batch_20241230_topp")
    temperature = root / "batch_20241229_temperature"
    copa = temperature / "Copa"
    _relink(copa / "temp09_topp10_gpt4o", f"{root}/_shared/Copa/temp09_topp10_gpt4o")
    _relink(copa / "temp07_topp10_gpt4o", "..//../_shared/./Copa/temp07_topp10_gpt4o/")
    os.rename(temperature / "CB" / "temp07_topp10_gpt4o", temperature / "CB" / "cb_temp07")
    pilot = root / "batch_20241228_pilot" / "Copa" / "temp07_topp09_gpt4o"
    target = os.readlink(pilot)
    pilot.unlink()
    pilot.write_text(target, "utf-8")
    return root


def _relink(path: Path, target: str) -> None:
    path.unlink()
    os.symlink(target, path)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python examples/demo_store.py DEST")
    print(f"demo store: {make_demo(Path(sys.argv[1]))}")
