#!/usr/bin/env bash
# Regenerates docs/FINDINGS.md: four `actlab compare` runs on Fashion-MNIST (3 seeds, 5 epochs;
# the default MLP and an 8-layer variant, each with and without BatchNorm), two at a time on one
# thread each, then tools/findings.py. About 20-30 minutes on a 2-core machine.
# Usage: scripts/findings.sh [STUDY_DIR]   (default runs/findings)
set -euo pipefail
cd "$(dirname "$0")/.."
study="${1:-runs/findings}"
actlab="${ACTLAB:-build/release/actlab}"
[ -x "$actlab" ] || scripts/build.sh release
recipes=seed,seed_linear_output,relu,leaky_relu,prelu,elu,selu,gelu,silu,sigmoid,tanh
common=(--recipes "$recipes" --seeds 3 --epochs 5 --threads 1)
mkdir -p "$study"
start=$(date +%s)
# Two comparisons at a time, one thread each; a failing one stops the script (its log says why).
pair() {
  "$actlab" compare "${common[@]}" $2 --out "$study/$1" > "$study/$1.log" 2>&1 &
  local first=$!
  "$actlab" compare "${common[@]}" $4 --out "$study/$3" > "$study/$3.log" 2>&1 &
  local second=$!
  wait "$first" || { echo "findings: $1 failed, see $study/$1.log" >&2; exit 1; }
  wait "$second" || { echo "findings: $3 failed, see $study/$3.log" >&2; exit 1; }
}
pair mlp-bn "" mlp-nobn --no-bn
pair deep-bn "--depth 8" deep-nobn "--depth 8 --no-bn"
echo "findings: the four comparisons took $(( $(date +%s) - start )) s"
# The figures FINDINGS.md shows, copied next to it.
mkdir -p docs/findings
for pick in mlp-bn/accuracy deep-bn/accuracy deep-nobn/accuracy deep-nobn/gradients_sigmoid deep-bn/gradients_sigmoid \
            mlp-nobn/units_relu deep-nobn/units_relu mlp-bn/prelu_slopes; do
  cp "$study/${pick%/*}/figures/${pick#*/}.svg" "docs/findings/${pick%/*}-${pick#*/}.svg" 2>/dev/null || true
done
python3 tools/findings.py "$study" > docs/FINDINGS.md
echo "findings: wrote docs/FINDINGS.md"
