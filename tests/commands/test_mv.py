"""``batchcheck mv``: the folder, experiment_name, every link and the configs; refusals change
nothing; a rerun finishes an interrupted move."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import PILOT, TEMP, TOPP, Cli, batch_links, make_tree, snapshot, store_spec

OLD, NEW = "temp07_topp09_gpt4o", "temp07_topp09_gpt4o_v2"
META = f"_shared/Copa/{NEW}/experiment_metadata.json"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """OLD linked by two batches (one link absolute), plus an unrelated experiment."""
    spec = store_spec(
        [("Copa", OLD, PILOT, 0.7, 0.9), ("Copa", "temp05_topp10_gpt4o", TEMP, 0.5, 1.0)],
        [(PILOT, "Copa", OLD), (TEMP, "Copa", "temp05_topp10_gpt4o")],
    )
    store = make_tree(tmp_path / "Data_v2" / "synthetic", spec)
    (store / TOPP / "Copa").mkdir(parents=True)
    os.symlink(store / "_shared/Copa" / OLD, store / TOPP / "Copa" / OLD)
    return store


def _configs(tmp_path: Path, yaml_text: str, json_text: str) -> None:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "train.yaml").write_text(yaml_text, "utf-8")
    (tmp_path / "configs" / "eval.json").write_text(json_text, "utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.batchcheck]\nroot = "Data_v2/synthetic"\n'
        'configs = ["configs/*.yaml", "configs/*.json"]\n',
        "utf-8",
    )


def test_mv_renames_the_folder_every_link_and_experiment_name(cli: Cli, root: Path) -> None:
    before = (root / "_shared/Copa" / OLD / "experiment_metadata.json").read_bytes()
    result = cli("--no-emoji", "mv", f"Copa/{OLD}", NEW)
    assert result.code == 0, result.err
    assert not (root / "_shared/Copa" / OLD).exists()
    assert batch_links(root) == {
        f"{PILOT}/Copa/{NEW}": f"../../_shared/Copa/{NEW}/",
        f"{TEMP}/Copa/temp05_topp10_gpt4o": "../../_shared/Copa/temp05_topp10_gpt4o/",
        f"{TOPP}/Copa/{NEW}": f"../../_shared/Copa/{NEW}/",  # the absolute link made relative
    }
    after = (root / META).read_bytes()
    assert after == before.replace(
        f'"experiment_name": "{OLD}"'.encode(), f'"experiment_name": "{NEW}"'.encode()
    )
    assert (
        f"[OK] {PILOT}/Copa/{NEW} -> ../../_shared/Copa/{NEW}/  "
        f"(relinked; was {OLD} -> ../../_shared/Copa/{OLD}/)" in result.out
    )
    assert "Check of what the move touched" in result.out
    assert "0 errors, 0 warnings" in result.out
    assert cli("check").code == 0


def test_a_misnamed_link_keeps_its_name_and_is_repointed(cli: Cli, root: Path) -> None:
    os.symlink(f"../../_shared/Copa/{OLD}", root / TEMP / "Copa" / "alias")
    assert cli("mv", f"Copa/{OLD}", NEW).code == 0
    assert batch_links(root)[f"{TEMP}/Copa/alias"] == f"../../_shared/Copa/{NEW}/"


def test_dry_run_writes_nothing(cli: Cli, root: Path) -> None:
    before = snapshot(root)
    result = cli("mv", f"Copa/{OLD}", NEW, "--dry-run", "--format", "json")
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["dry_run"] is True and doc["folder"]["moved"] is False
    assert [link["new_path"] for link in doc["links"]] == [
        f"{PILOT}/Copa/{NEW}",
        f"{TOPP}/Copa/{NEW}",
    ]
    assert doc["metadata"] == {"path": META, "experiment_name": OLD, "rewrite": True, "done": False}
    assert doc["check"] is None
    assert snapshot(root) == before


def test_metadata_without_experiment_name_is_left_as_it_is(cli: Cli, root: Path) -> None:
    meta = root / "_shared/Copa" / OLD / "experiment_metadata.json"
    data = json.loads(meta.read_text("utf-8"))
    del data["experiment_name"]
    meta.write_text(json.dumps(data), "utf-8")
    before = meta.read_bytes()
    assert cli("mv", f"Copa/{OLD}", NEW).code == 0
    assert (root / META).read_bytes() == before


def test_configs_are_listed_then_rewritten_byte_for_byte(
    cli: Cli, root: Path, tmp_path: Path
) -> None:
    store = "Data_v2/synthetic"
    yaml_text = (
        "# comments and layout stay\r\n"
        "data:\r\n"
        f"  train: {store}/{PILOT}/Copa/{OLD}/Copa   # the batch path\r\n"
        f"  raw: '{store}/_shared/Copa/{OLD}/Copa'\r\n"
        f"  odd: {store}/_shared/./Copa/{OLD}/Copa\r\n"
        f"  other: {store}/{TEMP}/Copa/temp05_topp10_gpt4o/Copa\r\n"
        f"  prefix: {store}/_shared/Copa/{OLD}_b/Copa\r\n"
    )
    json_text = '{"eval":   ["' + f"{store}/{TOPP}/Copa/{OLD}/Copa" + '"], "n": 1}\n'
    _configs(tmp_path, yaml_text, json_text)
    listed = cli("--no-emoji", "mv", f"Copa/{OLD}", NEW, "--format", "json")
    assert listed.code == 0, listed.err
    uses = [(u["path"], u["line"], u["new_text"], u["rewritten"]) for u in listed.json()["configs"]]
    assert uses == [
        ("configs/train.yaml", 3, f"{store}/{PILOT}/Copa/{NEW}/Copa", False),
        ("configs/train.yaml", 4, f"{store}/_shared/Copa/{NEW}/Copa", False),
        ("configs/train.yaml", 5, None, False),
        ("configs/eval.json", 1, f"{store}/{TOPP}/Copa/{NEW}/Copa", False),
    ]
    assert (tmp_path / "configs/train.yaml").read_bytes() == yaml_text.encode()  # only listed
    again = cli("--no-emoji", "mv", f"Copa/{OLD}", NEW, "--configs")
    assert again.code == 0, again.err
    assert "(already moved: finishing what is left)" in again.out
    assert (
        f"line 5: {store}/_shared/./Copa/{OLD}/Copa  (not spelled plainly: edit it by hand)"
        in again.out
    )
    with open(tmp_path / "configs/train.yaml", encoding="utf-8", newline="") as handle:
        assert handle.read() == yaml_text.replace(
            f"{PILOT}/Copa/{OLD}/", f"{PILOT}/Copa/{NEW}/"
        ).replace(f"_shared/Copa/{OLD}/Copa'", f"_shared/Copa/{NEW}/Copa'")
    assert (tmp_path / "configs/eval.json").read_text("utf-8") == json_text.replace(OLD, NEW)
    third = cli("--no-emoji", "mv", f"Copa/{OLD}", NEW, "--configs")
    assert third.code == 0 and "(not spelled plainly: edit it by hand)" in third.out


def test_a_run_stopped_half_way_is_finished(cli: Cli, root: Path) -> None:
    """The states a crash can leave: folder moved, one link repointed but not renamed, one
    link untouched; experiment_name still old."""
    os.rename(root / "_shared/Copa" / OLD, root / "_shared/Copa" / NEW)
    pilot = root / PILOT / "Copa" / OLD
    pilot.unlink()
    os.symlink(f"../../_shared/Copa/{NEW}/", pilot)
    assert cli("check").code == 1  # the untouched link dangles
    result = cli("--no-emoji", "mv", f"Copa/{OLD}", NEW)
    assert result.code == 0, result.err
    assert "(already moved: finishing what is left)" in result.out
    assert batch_links(root)[f"{PILOT}/Copa/{NEW}"] == f"../../_shared/Copa/{NEW}/"
    assert batch_links(root)[f"{TOPP}/Copa/{NEW}"] == f"../../_shared/Copa/{NEW}/"
    assert json.loads((root / META).read_text("utf-8"))["experiment_name"] == NEW
    assert cli("check").code == 0
    before = snapshot(root)
    done = cli("--no-emoji", "mv", f"Copa/{OLD}", NEW)
    assert (done.code, snapshot(root)) == (0, before)
    assert "Nothing left to do: the move is complete" in done.out


@pytest.mark.parametrize(
    ("argv", "code", "error"),
    [
        (
            ["Copa/nope", "x"],
            1,
            "unknown experiment Copa/nope: _shared/Copa/nope is not an experiment folder",
        ),
        (
            [f"Copa/{OLD}", "temp05_topp10_gpt4o"],
            1,
            "_shared/Copa/temp05_topp10_gpt4o exists already",
        ),
        (
            [f"Copa/{OLD}", "temp09_topp09_gpt4o"],
            2,
            "temp09_topp09_gpt4o breaks the naming convention: temp09 but "
            "generation.temperature is 0.7 (temp07)",
        ),
        ([f"Copa/{OLD}", ".hidden"], 2, "'.hidden' is not an experiment name"),
        ([f"Copa/{OLD}", "CB/x"], 2, "CB/x: the new name is a folder name (or Copa/NAME)"),
        ([f"Copa/{OLD}", OLD], 2, "the new name is the old one"),
        ([OLD, "x"], 2, "expected Dataset/experiment"),
        (
            [f"Copa/{OLD}", "taken"],
            1,
            f"{TOPP}/Copa/{OLD}: the name taken is taken in {TOPP}/Copa; nothing was changed",
        ),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    cli: Cli, root: Path, argv: list[str], code: int, error: str
) -> None:
    (root / TOPP / "Copa" / "taken").write_text("a real file\n", "utf-8")
    before = snapshot(root)
    result = cli("mv", *argv)
    assert (result.code, result.out) == (code, "")
    assert error in result.err and result.err.count("\n") == 1, result.err
    assert snapshot(root) == before


def test_refuses_while_a_batch_holds_a_destroyed_link_to_it(cli: Cli, root: Path) -> None:
    destroyed = root / TEMP / "Copa" / "copy_of_old"
    destroyed.write_text(f"../../_shared/Copa/{OLD}/", "utf-8")
    before = snapshot(root)
    result = cli("mv", f"Copa/{OLD}", NEW)
    assert result.code == 1
    assert f"{TEMP}/Copa/copy_of_old is a destroyed symlink to the experiment" in result.err
    assert snapshot(root) == before


def test_a_batch_folder_swapped_for_a_symlink_after_the_plan_is_never_written_through(
    root: Path, tmp_path: Path
) -> None:
    from batchcheck.config import Settings
    from batchcheck.moving import _apply, plan_move

    run = plan_move(Settings(root, "--root"), ("Copa", OLD), NEW, root, False)
    outside = tmp_path / "outside"
    (root / TOPP / "Copa").rename(outside)  # a look-alike folder outside the store
    os.symlink(outside, root / TOPP / "Copa")
    before = snapshot(outside)
    done = _apply(run)
    assert snapshot(outside) == before
    assert done.error.startswith(f"cannot finish the move ({root / TOPP / 'Copa' / OLD}: ")
