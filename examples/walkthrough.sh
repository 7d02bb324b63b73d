#!/bin/sh
# The README's walk-through ("From a sweep to training data"), on a scratch copy of the example
# store: plan a sweep and see the near miss, plan the fixed sweep, generate, add, link, check,
# report. `make walkthrough` runs it; DEST= (default build/walkthrough) says where.
set -eu
BATCHCHECK=${BATCHCHECK:-batchcheck}
PYTHON=${PYTHON:-python3}
DEST=${DEST:-build/walkthrough}
BATCH=batch_20250106_topp_sweep

rm -rf "$DEST"
mkdir -p "$DEST"
cp -R examples/Data_v2 "$DEST/"
export BATCHCHECK_ROOT="$DEST/Data_v2/synthetic"
echo "\$ export BATCHCHECK_ROOT=$BATCHCHECK_ROOT"

run() {
    echo
    echo "\$ batchcheck $*"
    $BATCHCHECK "$@"
}

# 1. A sweep that left out prompt_template: nothing matches, and plan names the near misses.
run plan examples/sweeps/topp_sweep_no_prompt.yaml --batch "$BATCH"
# 2. The sweep with its prompt: two configurations reused, two to generate.
echo
echo "\$ batchcheck plan examples/sweeps/topp_sweep.yaml --batch $BATCH --format yaml > $DEST/plan.yaml"
$BATCHCHECK plan examples/sweeps/topp_sweep.yaml --batch "$BATCH" --format yaml > "$DEST/plan.yaml"
# 3. Generate them (examples/generate.py stands in for the pipeline).
echo
echo "\$ python examples/generate.py $DEST/plan.yaml --out $DEST/generated"
$PYTHON examples/generate.py "$DEST/plan.yaml" --out "$DEST/generated"
# 4. Register each: metadata completed, fingerprint checked, data moved in atomically.
for folder in "$DEST"/generated/Copa/*; do
    run add "Copa/$(basename "$folder")" --from "$folder" --metadata "$DEST/plan.yaml"
done
# 5. Link every configuration of the sweep into the batch, then check and report.
run plan examples/sweeps/topp_sweep.yaml --batch "$BATCH" --apply
run check
run report --output "$DEST/reports"
