#!/usr/bin/env bash
# The report opens in a browser with every figure visible. Trains a small run (or, where the trainer
# writes no diagnostics.jsonl, uses the checked-in fixture tests/data/report/run), writes its report
# and a comparison's report, opens each page in headless Chromium and checks the line the page's own
# script writes on load: "figures-visible: N of N" (each <img> decoded, with a non-zero size). Leaves
# screenshots for a person to look at.
# Usage: report_browser_test.sh PATH/TO/actlab OUTPUT_DIR. Exit 77 (skipped) when chromium is missing.
set -euo pipefail
actlab="$1"
out="$2"
here=$(cd "$(dirname "$0")" && pwd)
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "SKIP: chromium is not installed (apt-get install chromium)"
  exit 77
fi
if ! command -v gnuplot > /dev/null; then
  echo "FAIL: gnuplot is not installed (apt-get install gnuplot-nox): the report would have no figures"
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
start=$(date +%s.%N)

# 1. A run folder from the trainer itself.
"$actlab" train --data spirals:200 --epochs 3 --hidden 16,16 --threads 1 --out "$work/run" > "$work/train.log" 2>&1 ||
  { cat "$work/train.log"; echo "FAIL: actlab train"; exit 1; }
if [ ! -f "$work/run/diagnostics.jsonl" ]; then
  echo "note: the trainer wrote no diagnostics.jsonl; using the fixture's"
  cp "$here/data/report/run/diagnostics.jsonl" "$work/run/"
fi
# 2. A comparison folder (the fixture: two recipes, two seeds).
cp -r "$here/data/report/compare" "$work/compare"

# The same folder without gnuplot on PATH: CSV and page, and a message naming the package.
cp -r "$here/data/report/run" "$work/nognuplot"
PATH=/nonexistent "$actlab" report "$work/nognuplot" > "$work/nognuplot.log" 2>&1 ||
  { cat "$work/nognuplot.log"; echo "FAIL: actlab report without gnuplot"; exit 1; }
grep -q "apt-get install gnuplot-nox" "$work/nognuplot.log" || { cat "$work/nognuplot.log"; echo "FAIL: no install hint"; exit 1; }
[ -f "$work/nognuplot/report.html" ] && [ -f "$work/nognuplot/figures/loss.csv" ] ||
  { echo "FAIL: no report.html or CSV without gnuplot"; exit 1; }
echo "ok: without gnuplot: report.html and CSV written, message names gnuplot-nox"

chrome() {
  "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --disable-extensions --hide-scrollbars \
    --user-data-dir="$(mktemp -d "$work/profile.XXXXXX")" "$@" 2>> "$work/chromium.log"
}

check_page() {  # folder, report --format, name of the screenshot
  local dir="$1" format="$2" name="$3"
  "$actlab" report "$dir" --format "$format" > "$work/report.log" 2>&1 ||
    { cat "$work/report.log"; echo "FAIL: actlab report $dir"; exit 1; }
  if grep -q -E "^(note|warning):" "$work/report.log"; then
    cat "$work/report.log"; echo "FAIL: actlab report $dir left something out"; exit 1
  fi
  local page="$dir/report.html"
  if grep -q -E '(src|href)="(https?:)?//' "$page"; then echo "FAIL: $page links outside itself"; exit 1; fi
  local drawn
  drawn=$(ls "$dir"/figures/*."$format" | wc -l)
  local line
  line=$(chrome --virtual-time-budget=10000 --dump-dom "file://$page" | grep -o -E 'figures-visible: [0-9]+ of [0-9]+' || true)
  if [ -z "$line" ]; then
    tail -20 "$work/chromium.log"; echo "FAIL: $page: the page's check did not run in Chromium"; exit 1
  fi
  read -r visible total < <(echo "$line" | sed -E 's/figures-visible: ([0-9]+) of ([0-9]+)/\1 \2/')
  if [ "$total" -ne "$drawn" ] || [ "$visible" -ne "$total" ] || [ "$total" -lt 5 ]; then
    echo "FAIL: $page: $line, $drawn figure files"; exit 1
  fi
  chrome --window-size=1200,3000 --screenshot="$out/$name.png" "file://$page" > /dev/null
  [ -s "$out/$name.png" ] || { echo "FAIL: no screenshot $out/$name.png"; exit 1; }
  cp "$page" "$out/$name.html"
  echo "ok: $page ($format): $line; screenshot $out/$name.png"
}

check_page "$work/run" svg report_run
check_page "$work/compare" png report_compare

# plot-activations: one figure with every activation, and a chosen few.
"$actlab" plot-activations --out "$out/activations_all.svg" > /dev/null
"$actlab" plot-activations relu elu:alpha=0.5 gelu:approximate=tanh --range=-4,4 --out "$out/activations_few.png" > /dev/null
[ -s "$out/activations_all.svg" ] && [ -s "$out/activations_all.csv" ] && [ -s "$out/activations_few.png" ] ||
  { echo "FAIL: plot-activations wrote no figure"; exit 1; }
echo "ok: plot-activations: $out/activations_all.svg, $out/activations_few.png"

echo "report browser test: $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
