"""BC107: what a commit holds points at what git does not track (real git repositories)."""

from __future__ import annotations

from pathlib import Path

from conftest import TEMP, TOPP, git, make_tree
from ruletest import found, healthy, run


def _repo(tmp_path: Path) -> Path:
    """A git work tree holding the healthy store at its top, nothing staged yet."""
    root = make_tree(tmp_path / "data", healthy())
    git("init", "-q", cwd=root)
    return root


def test_a_staged_link_to_an_untracked_experiment(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    # everything but one experiment: its links are staged, the experiment is left untracked
    git("add", "-A", cwd=root)
    git("rm", "-r", "-q", "--cached", "_shared/Copa/temp07_topp09_gpt4o", cwd=root)
    assert found(root, "BC107", git=True) == {
        ("BC107", f"{TEMP}/Copa/temp07_topp09_gpt4o"),
        ("BC107", f"{TOPP}/Copa/temp07_topp09_gpt4o"),
    }
    first = run(root, "BC107", git=True)[0]
    assert first.severity.value == "error"
    assert first.message == (
        "git tracks this link but not its target _shared/Copa/temp07_topp09_gpt4o/"
        "experiment_metadata.json: every clone of the commit finds it dangling; "
        "'git add _shared/Copa/temp07_topp09_gpt4o' (and check .gitignore), or unstage the link"
    )
    assert first.related == (root / "_shared/Copa/temp07_topp09_gpt4o",)
    # without --git the rule says nothing; once added, nothing either
    assert found(root, "BC107") == set()
    git("add", "-A", cwd=root)
    assert found(root, "BC107", git=True) == set()


def test_an_ignored_metadata_file_of_a_tracked_experiment(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    (root / ".gitignore").write_text("_shared/CB/*/experiment_metadata.json\n", "utf-8")
    git("add", "-A", cwd=root)
    assert found(root, "BC107", git=True) == {
        ("BC107", "_shared/CB/temp07_topp10_gpt4o"),
        ("BC107", f"{TOPP}/CB/temp07_topp10_gpt4o"),
    }
    messages = {f.path.relative_to(root).parts[0]: f.message for f in run(root, "BC107", git=True)}
    assert (
        "'git add _shared/CB/temp07_topp10_gpt4o/experiment_metadata.json'" in messages["_shared"]
    )


def test_untracked_links_and_a_store_outside_git_are_not_judged(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    git("add", "--", "_shared", cwd=root)  # only the experiments: no link in the commit
    assert found(root, "BC107", git=True) == set()
    outside = make_tree(tmp_path / "plain", healthy())
    assert found(outside, "BC107", git=True) == set()


def test_one_git_call_for_a_large_store(tmp_path: Path) -> None:
    """The tracked set comes from one ``git ls-files``: thousands of links cost one process."""
    spec = {}
    for i in range(2000):
        spec[f"{TEMP}/Copa/e{i:05d}"] = f"-> ../../_shared/Copa/e{i:05d}/"
        spec[f"_shared/Copa/e{i:05d}/Copa/x"] = "1"
    root = make_tree(tmp_path / "big", spec)
    git("init", "-q", cwd=root)
    git("add", "-A", cwd=root)
    # no metadata anywhere: each tracked link and each tracked experiment is reported
    findings = found(root, "BC107", git=True)
    assert sum(path.startswith(TEMP) for _, path in findings) == 2000
    assert len(findings) == 4000
