"""A stand-in for a generation pipeline, for the README's walk-through (`make walkthrough`).

For each experiment a plan lists (`batchcheck plan SWEEP --batch B --format yaml > plan.yaml`),
write a few made-up training examples to OUT/<Dataset>/<experiment>/train.jsonl (the LLM calls
of a real pipeline go there), then print the `batchcheck add` command that registers them.

    python examples/generate.py plan.yaml --out build/generated
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plan", help="the output of `batchcheck plan ... --format yaml`")
    parser.add_argument("--out", default="build/generated", help="where the data goes")
    parser.add_argument("--rows", type=int, default=3, help="examples per experiment")
    args = parser.parse_args(argv)
    plan = yaml.safe_load(Path(args.plan).read_text(encoding="utf-8"))
    for entry in plan["generate"]:
        meta = entry["metadata"]
        generation = meta["generation"]
        folder = Path(args.out) / meta["dataset"] / meta["experiment_name"]
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "train.jsonl", "w", encoding="utf-8") as handle:
            for i in range(args.rows):
                row = {
                    "premise": f"Example {i} at temperature {generation['temperature']}, "
                    f"top_p {generation['top_p']}.",
                    "choice1": "the first alternative",
                    "choice2": "the second alternative",
                    "label": i % 2,
                }
                handle.write(json.dumps(row) + "\n")
        print(
            f"batchcheck add {entry['experiment']} --from {folder} --metadata {args.plan}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
