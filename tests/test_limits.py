"""SPEC section 8, example by example: every hostile input is a finding or a one-line error
(exit 1 or 2), never exit 3, a hang or unbounded memory; commands read what ``check`` reads.

Each case here exited 3, hung, or disagreed with ``check`` before the limits were enforced.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEMP, TOPP, Cli, experiment, link, make_tree, metadata

from batchcheck import fingerprint
from batchcheck.fingerprint import FingerprintError

META = "experiment_metadata.json"
ROOT = Path("Data_v2") / "synthetic"


def _store(tmp_path: Path, name: str, text: str | bytes) -> Path:
    """A store with one healthy experiment and one whose metadata file holds ``text``."""
    spec = {**experiment("Copa", "temp05_topp10_gpt4o", TEMP, 0.5, 1.0)}
    spec.update(link(TEMP, "Copa", "temp05_topp10_gpt4o"))
    spec.update(experiment("Copa", name, TEMP, 0.7, 1.0))
    spec.update(link(TEMP, "Copa", name))
    spec[f"_shared/Copa/{name}/{META}"] = text
    return make_tree(tmp_path / ROOT, spec)


def _one_line(err: str) -> None:
    assert "Traceback" not in err and "internal error" not in err, err
    assert len(err.splitlines()) <= 1, err


SURROGATE = json.dumps(metadata("Copa", "x", TEMP, model="gpt")).replace('"gpt"', '"gpt\\udfff"')
DEEP = '{"a": ' * 980 + "1" + "}" * 980
# A reader keeping the first "model" would hash other parameters than one keeping the last.
GIVEN_TWICE = json.dumps(metadata("Copa", "x", TEMP)).replace(
    '"model": ', '"model": "x", "model": ', 1
)
# Eight levels of ten aliases each: 10**8 nodes from a few hundred bytes.
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{child}: &{child} [{', '.join(['*' + parent] * 10)}]\n"
    for parent, child in zip("abcdefg", "bcdefgh", strict=True)
)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (SURROGATE, "a lone UTF-16 surrogate"),
        (SURROGATE.replace("\\udfff", "\udfff").encode("utf-8", "surrogatepass"), "surrogate"),
        (DEEP, "nested"),  # past the limit, or past what the JSON parser itself recurses
        (GIVEN_TWICE, "key 'model' is given twice"),
    ],
    ids=["escaped surrogate", "raw surrogate bytes", "980 levels", "a key given twice"],
)
def test_a_bad_metadata_file_is_bc301_in_every_command(
    cli: Cli, tmp_path: Path, text: str | bytes, why: str
) -> None:
    _store(tmp_path, "bad", text)
    result = cli("check", "--format", "json")
    assert result.code == 1
    bad = [f for f in result.json()["findings"] if f["path"].endswith("/bad")]
    assert [f["code"] for f in bad] == ["BC301"] and why in bad[0]["message"]
    for argv in (
        ("list-batches", "--verbose"),
        ("list-batch-experiments", TEMP, "--verbose"),
        ("list-shared-experiments", "--verbose"),
        ("list-data-paths", "--format", "yaml"),
        ("compare-experiments", "--shared", "Copa/bad", "--shared", "Copa/temp05_topp10_gpt4o"),
        ("report", "--output", str(tmp_path / "out")),
    ):
        result = cli(*argv)
        assert result.code in (0, 1), (argv, result.err)
        _one_line(result.err)


def test_an_integer_past_every_float_is_shown_not_a_crash(cli: Cli, tmp_path: Path) -> None:
    huge = metadata("Copa", "huge", TEMP)
    huge["generation"]["max_tokens"] = 10**320
    root = _store(tmp_path, "huge", json.dumps(huge))
    make_tree(root, link(TOPP, "Copa", "huge"))
    for argv in (
        ("compare-experiments", "--shared", "Copa/huge", "--shared", "Copa/temp05_topp10_gpt4o"),
        (
            "compare-experiments",
            "--batch1",
            TEMP,
            "--dataset1",
            "Copa",
            "--batch2",
            TOPP,
            "--dataset2",
            "Copa",
        ),
        ("report", "--output", str(tmp_path / "out")),
        ("check",),
    ):
        result = cli(*argv)
        assert result.code in (0, 1), (argv, result.err)
        _one_line(result.err)
    assert (tmp_path / "out" / "index.md").is_file()


def test_fingerprint_file_refuses_a_key_given_twice_as_check_does(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "twice.json").write_text(GIVEN_TWICE)
    result = cli("fingerprint", "twice.json")
    assert result.code == 2 and "refused: key 'model' is given twice" in result.err
    _one_line(result.err)


def test_fingerprint_raises_its_own_error_on_a_surrogate() -> None:
    with pytest.raises(FingerprintError, match="surrogate"):
        fingerprint({"dataset": "Copa", "generation": {"model": "gpt\udfff"}})


def test_fingerprint_file_reads_what_check_reads(cli: Cli, tmp_path: Path) -> None:
    params = metadata("Copa", "x", TEMP)
    expected = params["parameter_fingerprint"]
    text = json.dumps({**params, "fingerprint_version": 1.0})
    for name, raw in (
        ("bom.json", b"\xef\xbb\xbf" + text.encode()),
        ("utf16.json", text.encode("utf-16")),
        ("version.json", text.encode()),
    ):
        (tmp_path / name).write_bytes(raw)
        result = cli("fingerprint", name)
        assert (result.code, result.out.strip()) == (0, expected), (name, result.err)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("deep.json", "[" * 5000 + "]" * 5000, "nested too deeply"),
        ("deep.yaml", "a: " + "[" * 900 + "]" * 900, "nested"),
        ("bomb.yaml", BOMB, "YAML aliases expand past"),
        ("surrogate.json", '{"dataset": "\\ud800"}', "surrogate"),
    ],
)
def test_fingerprint_file_refuses_past_the_limits(
    cli: Cli, tmp_path: Path, name: str, content: str, message: str
) -> None:
    (tmp_path / name).write_text(content)
    result = cli("fingerprint", name)
    assert result.code == 2 and message in result.err
    _one_line(result.err)


def test_fingerprint_file_never_hangs_on_a_fifo_or_a_device(tmp_path: Path) -> None:
    """Run as real processes with a timeout: a FIFO, /dev/zero, a socket and a sparse 8 TiB
    file (a socket is "not a regular file", as check says of such metadata)."""
    os.mkfifo(tmp_path / "fifo")
    sparse = tmp_path / "sparse.json"
    with sparse.open("wb") as handle:
        handle.truncate(8 << 40)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock.json"))
        proc = subprocess.run(
            [sys.executable, "-m", "batchcheck", "fingerprint", str(tmp_path / "sock.json")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 2 and proc.stderr.endswith(": not a regular file\n")
    for target in (tmp_path / "fifo", Path("/dev/zero"), sparse):
        proc = subprocess.run(
            [sys.executable, "-m", "batchcheck", "fingerprint", str(target)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 2, (target, proc.stderr)
        _one_line(proc.stderr)


def test_a_sweep_that_expands_too_far_is_refused_with_the_count(cli: Cli, tmp_path: Path) -> None:
    make_tree(tmp_path / ROOT, experiment("Copa", "temp05_topp10_gpt4o", TEMP, 0.5, 1.0))
    fractions = ", ".join(str((i + 1) / 1000) for i in range(300))
    counts = ", ".join(str(i + 1) for i in range(300))
    (tmp_path / "sweep.yaml").write_text(
        "dataset: Copa\ngeneration: {model: gpt-4o, temperature: 0.7, max_tokens: 256}\n"
        "validation: {model: gpt-4o}\n"
        f"sweep:\n  temperature: [{fractions}]\n  top_p: [{fractions}]\n"
        f"  max_tokens: [{counts}]\n"
    )
    result = cli("plan", "sweep.yaml", "--batch", "batch_20250106_sweep")
    assert result.code == 2 and "27,000,000 configurations" in result.err
    _one_line(result.err)


@pytest.mark.parametrize(
    ("data", "listed", "said"),
    [
        ("dataset: Copa", 10_001, "10,001 configurations"),
        ("datasets: [Copa, CB, RTE]", 4_000, "12,000 configurations"),
    ],
)
def test_a_list_of_configurations_past_the_limit_is_refused_before_validating(
    cli: Cli, tmp_path: Path, data: str, listed: int, said: str
) -> None:
    # The last entry is invalid: the count, not the schema walk over the list, answers.
    make_tree(tmp_path / ROOT, experiment("Copa", "temp05_topp10_gpt4o", TEMP, 0.5, 1.0))
    entries = "".join(f"  - {{top_p: {i / 100_000}}}\n" for i in range(listed - 1))
    (tmp_path / "sweep.yaml").write_text(
        f"{data}\ngeneration: {{model: gpt-4o, temperature: 0.7, max_tokens: 256}}\n"
        f"validation: {{model: gpt-4o}}\nconfigurations:\n{entries}  - {{top_p: high}}\n"
    )
    result = cli("plan", "sweep.yaml", "--batch", "batch_20250106_sweep")
    assert result.code == 2 and said in result.err and "over the limit of 10,000" in result.err
    _one_line(result.err)


def test_an_error_about_a_target_with_a_newline_is_one_line(cli: Cli, tmp_path: Path) -> None:
    make_tree(tmp_path / ROOT, {f"{TEMP}/Copa/x": "-> ../../_shared/Copa/two\nlines/"})
    result = cli("resolve-data-path", str(ROOT / TEMP / "Copa" / "x"))
    assert result.code == 1 and "two\\nlines" in result.err
    _one_line(result.err)


def test_names_cannot_forge_terminal_lines(cli: Cli, tmp_path: Path) -> None:
    forged = "x\n\u2705 0 errors\x1b[2J"
    spec = experiment("Copa", "temp05_topp10_gpt4o", TEMP, 0.5, 1.0)
    spec[f"{TEMP}/Copa/{forged}"] = "-> ../../_shared/Copa/temp05_topp10_gpt4o/"
    make_tree(tmp_path / ROOT, spec)
    for argv in (("list-batches", "--verbose"), ("list-batch-experiments", TEMP), ("check",)):
        result = cli(*argv)
        assert "\x1b" not in result.out and "\n\u2705 0 errors" not in result.out, argv
        assert "\\x1b" in result.out, argv


def test_a_planted_pyproject_above_the_repository_is_not_read(cli: Cli, tmp_path: Path) -> None:
    """A world-writable folder above the work tree holds a pyproject.toml that ignores every
    rule: the search stops at the repository boundary, and skips untrusted files anyway."""
    shared = tmp_path / "shared"
    repo = shared / "repo"
    make_tree(repo / ROOT, {f"{TEMP}/Copa/gone": "-> ../../_shared/Copa/gone/"})
    (shared / "pyproject.toml").write_text('[tool.batchcheck]\nignore = ["BC"]\n')
    shared.chmod(0o777)
    (repo / ".git").mkdir()
    assert cli("check", cwd=repo).code == 1  # BC101 still found
    (repo / ".git").rmdir()
    result = cli("check", cwd=repo)
    assert result.code == 1
    assert "pyproject.toml is in a folder anyone may write: ignored" in result.err


def test_a_schema_ref_outside_the_file_is_refused(cli: Cli, tmp_path: Path) -> None:
    make_tree(tmp_path / ROOT, experiment("Copa", "temp05_topp10_gpt4o", TEMP, 0.5, 1.0))
    for ref in ("http://127.0.0.1:9/schema.json", "file:///etc/passwd", "other.json"):
        (tmp_path / "schema.json").write_text(json.dumps({"$ref": ref}))
        (tmp_path / "pyproject.toml").write_text(
            '[tool.batchcheck]\nroot = "Data_v2/synthetic"\nmetadata_schema = "schema.json"\n'
        )
        result = cli("check")
        assert result.code == 2 and "points outside the schema file" in result.err, ref
        _one_line(result.err)


LOOP = {"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}
# A loop only a document with a `generation` reaches, and only once a faster validator has
# found the document invalid (it lacks "zzz").
REACHED = {
    "required": ["zzz"],
    "properties": {"generation": {"$ref": "#/$defs/x"}},
    "$defs": {"x": {"$ref": "#/$defs/x"}},
}


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("loop", "a $ref leads back to itself"),
        ("deep", "nested too deeply"),
        ("wide-deep", "nested deeper than 100 levels"),
        ("fifo", "cannot load: not a regular file"),
        ("device", "cannot load: not a regular file"),
        ("reached", None),
    ],
)
def test_a_hostile_project_schema_is_one_line_or_a_finding(
    tmp_path: Path, kind: str, said: str | None
) -> None:
    """The real CLI in its own process (a FIFO must not hang it): exit 2 with one line, or,
    for a loop only some documents reach, BC302 on them, never exit 3."""
    name = "temp05_topp10_gpt4o"
    make_tree(
        tmp_path / ROOT, {**experiment("Copa", name, TEMP, 0.5, 1.0), **link(TEMP, "Copa", name)}
    )
    schema = tmp_path / "schema.json"
    if kind == "fifo":
        os.mkfifo(schema)
    elif kind == "device":
        schema.symlink_to("/dev/zero")
    elif kind == "deep":
        schema.write_text('{"not":' * 5000 + "{}" + "}" * 5000)
    elif kind == "wide-deep":
        schema.write_text('{"not":' * 150 + "{}" + "}" * 150)
    else:
        schema.write_text(json.dumps(LOOP if kind == "loop" else REACHED))
    (tmp_path / "pyproject.toml").write_text(
        '[tool.batchcheck]\nroot = "Data_v2/synthetic"\nmetadata_schema = "schema.json"\n'
    )
    for argv in (["check"], ["report", "--summary"], ["list-batch-experiments", TEMP, "-v"]):
        proc = subprocess.run(
            [sys.executable, "-m", "batchcheck", "--no-cache", *argv],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if said is None:
            assert proc.returncode in (0, 1), proc.stderr
            if argv == ["check"]:
                assert "BC302" in proc.stdout and "leads back to itself" in proc.stdout
        else:
            assert proc.returncode == 2, (argv, proc.stderr)
            assert proc.stderr.startswith("batchcheck: error: metadata schema "), proc.stderr
            assert proc.stderr.endswith(f": {said}\n") and proc.stderr.count("\n") == 1


def test_a_cache_folder_others_may_write_is_not_used(cli: Cli, tmp_path: Path) -> None:
    make_tree(tmp_path / ROOT, experiment("Copa", "temp05_topp10_gpt4o", TEMP, 0.5, 1.0))
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o777)
    cache.chmod(0o777)
    result = cli("--cache-dir", "cache", "check")
    assert result.code in (0, 1) and "is writable by others: not used" in result.err
    assert list(cache.iterdir()) == []
    cache.chmod(0o700)
    result = cli("--cache-dir", "cache", "check")
    assert result.err == "" and list(cache.iterdir())


def test_a_report_that_cannot_be_written_is_one_line(cli: Cli, tmp_path: Path) -> None:
    make_tree(tmp_path / ROOT, experiment("Copa", "temp05_topp10_gpt4o", TEMP, 0.5, 1.0))
    (tmp_path / "taken" / "index.html").mkdir(parents=True)  # a folder where the page goes
    result = cli("report", "--output", "taken")
    assert result.code == 2 and "cannot write" in result.err
    _one_line(result.err)
    if os.geteuid() != 0:  # root writes into a read-only folder all the same
        (tmp_path / "ro").mkdir(mode=0o555)
        result = cli("report", "--output", "ro")
        assert result.code == 2 and "cannot write" in result.err


def test_a_batch_with_an_undecodable_name_is_reported(cli: Cli, tmp_path: Path) -> None:
    root = make_tree(tmp_path / ROOT, experiment("Copa", "temp05_topp10_gpt4o", TEMP, 0.5, 1.0))
    batch = os.fsencode(root) + b"/batch_20250101_\xff"
    os.makedirs(batch + b"/Copa")
    os.symlink(b"../../_shared/CB/temp05_topp10_gpt4o", batch + b"/Copa/misplaced")
    result = cli("report", "--output", "out")
    assert result.code == 0, result.err
    _one_line(result.err)
