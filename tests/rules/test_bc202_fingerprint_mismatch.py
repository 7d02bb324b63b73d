"""BC202: the stored fingerprint against the recomputed one."""

from __future__ import annotations

from pathlib import Path

from conftest import TEMP, experiment, make_tree, metadata
from ruletest import found, healthy, messages

from batchcheck import fingerprint

META = "experiment_metadata.json"


def test_stale_fingerprint(tmp_path: Path) -> None:
    spec = healthy()
    spec.update(experiment("Copa", "stale", TEMP, 0.5, 1.0, parameter_fingerprint="0" * 32))
    good = metadata("Copa", "upper", TEMP, 0.3, 1.0)
    spec.update(experiment("Copa", "upper", TEMP, 0.3, 1.0))
    spec[f"_shared/Copa/upper/{META}"] = {
        **good,
        "parameter_fingerprint": good["parameter_fingerprint"].upper(),
    }
    spec.update(
        experiment("Copa", "future", TEMP, 0.2, 1.0, parameter_fingerprint="1" * 32)
        | {f"_shared/Copa/future/{META}": metadata("Copa", "future", TEMP, fingerprint_version=2)}
    )
    root = make_tree(tmp_path / "store", spec)
    # upper case is a schema matter (BC302); an unknown version cannot be recomputed (BC302)
    assert found(root, "BC202") == {("BC202", "_shared/Copa/stale")}
    recomputed = fingerprint(metadata("Copa", "stale", TEMP, 0.5, 1.0))
    assert messages(root, "BC202")["_shared/Copa/stale"] == (
        f"stored fingerprint '{'0' * 32}' differs from the one recomputed from the "
        f"parameters: {recomputed}"
    )


def test_fingerprint_fields_setting(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "store", healthy())
    assert len(found(root, "BC202", fingerprint_fields=("generation",))) == 3


def test_healthy_store_is_clean(tmp_path: Path) -> None:
    assert found(make_tree(tmp_path / "store", healthy()), "BC202") == set()
