"""What ``batchcheck --help`` and each command's ``--help`` tell a user: what the tool does,
and an example per command (the argparse epilogs)."""

from __future__ import annotations

DESCRIPTION = """\
List, resolve, compare and check stores of LLM-generated training data kept in Batch Scheme 3++:
each dataset stored once under _shared/<Dataset>/<experiment>/, and each batch
(batch_YYYYMMDD_<purpose>/<Dataset>/<experiment>) a folder of relative symlinks into it.
The store is found with --root, BATCHCHECK_ROOT, [tool.batchcheck] root in pyproject.toml, or
Data_v2/synthetic."""

EPILOG = """\
examples:
  batchcheck list-batches --verbose                 what each batch holds
  batchcheck resolve-data-path Data_v2/synthetic/batch_20241229_temperature/Copa/temp07_topp10_gpt4o
  batchcheck check --format github                  the gate, as annotations in GitHub Actions

'batchcheck COMMAND --help' shows a command's options and an example;
'batchcheck completion bash' prints shell completion.
exit status: 0 ok, 1 a finding or nothing found, 2 bad usage or configuration, 3 a bug."""

# One example (or two) per command, shown under its --help.
EXAMPLES: dict[str, str] = {
    "list-batches": "batchcheck list-batches --verbose",
    "list-batch-experiments": (
        "batchcheck list-batch-experiments batch_20241229_temperature --dataset Copa"
    ),
    "list-shared-experiments": "batchcheck list-shared-experiments --dataset Copa --verbose",
    "list-data-paths": (
        "batchcheck list-data-paths --batch batch_20241229_temperature --format yaml"
    ),
    "resolve-data-path": (
        "batchcheck resolve-data-path "
        "Data_v2/synthetic/batch_20241229_temperature/Copa/temp07_topp10_gpt4o"
    ),
    "compare-experiments": (
        "batchcheck compare-experiments --shared Copa/temp07_topp10_gpt4o "
        "--shared Copa/temp05_topp10_gpt4o"
    ),
    "fingerprint": (
        "batchcheck fingerprint _shared/Copa/temp07_topp10_gpt4o/experiment_metadata.json"
    ),
    "report": "batchcheck report --output reports/ --format all",
    "check-configs": (
        "batchcheck check-configs configs/train.yaml\n"
        "  batchcheck check-configs            # the configs [tool.batchcheck] configs names"
    ),
    "check": (
        "batchcheck check --strict --no-data\n  batchcheck check --format github --statistics --git"
    ),
    "plan": "batchcheck plan examples/sweeps/topp_sweep.yaml --batch batch_20250105_topp",
    "link": "batchcheck link batch_20250105_temperature Copa/temp07_topp10_gpt4o",
    "add": (
        "batchcheck add Copa/temp07_topp10_gpt4o --from out/run1 --metadata out/run1/meta.json "
        "--batch batch_20250105_temperature"
    ),
    "mv": "batchcheck mv Copa/temp07_topp10_gpt4o temp07_topp10_gpt4o_v2 --dry-run",
    "gc": "batchcheck gc --archive /archive/orphans",
    "completion": (
        "batchcheck completion bash > ~/.local/share/bash-completion/completions/batchcheck\n"
        "  batchcheck completion zsh > ~/.zfunc/_batchcheck"
    ),
}


def epilog(name: str) -> str | None:
    """``example:`` and the command's example, when it has one."""
    example = EXAMPLES.get(name)
    return f"example:\n  {example}" if example else None
