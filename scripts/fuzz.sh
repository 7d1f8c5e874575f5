#!/usr/bin/env bash
# Builds the libFuzzer targets (preset "fuzz": clang, ASan + UBSan, build/fuzz) and runs each one for
# SECONDS_PER_TARGET seconds (default 30), one after the other, from the seed corpus in fuzz/corpus/.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]          all targets
#   FUZZ_TARGETS="npy csv" scripts/fuzz.sh 60     some of them
#
# Fails (non-zero exit) on any crash, sanitizer report, leak, uncaught or unexpected exception type,
# a line break in an error message that the input did not hold (see fuzz/fuzz_common.hpp), a single
# allocation above 512 MB (-malloc_limit_mb: bad input must not allocate without bound), RSS above
# 2 GB, or an input that takes more than 25 s (a model at the 2^27-parameter limit takes a few
# seconds under ASan). Prints the executions of each target. New corpus entries go to
# build/fuzz/corpus/<target>/ (kept between runs, not committed); a crashing input is saved as
# build/fuzz/artifacts/<target>/crash-* and is reproduced with build/fuzz/fuzz/fuzz_<target> FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -gt 0 ] || { echo "usage: $0 [SECONDS_PER_TARGET]" >&2; exit 2; }

# target  max_len  dictionary (fuzz/dict/, - for none)
specs=(
  "idx 4096 -"
  "idx_gz 4096 -"
  "csv 4096 csv.dict"
  "npy 2048 npy.dict"
  "safetensors 4096 json.dict"
  "model_config 4096 json.dict"
  "model_spec 512 spec.dict"
  "activation 256 spec.dict"
)
selected="${FUZZ_TARGETS:-}"

cmake --preset fuzz >/dev/null
CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" cmake --build --preset fuzz

# The targets parse; nothing should spin up thread pools. Leaks are findings (LeakSanitizer on).
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

bin=build/fuzz/fuzz
logs=build/fuzz/logs
mkdir -p "$logs"
failed=()
summary=()
for spec in "${specs[@]}"; do
  read -r name max_len dict <<<"$spec"
  if [ -n "$selected" ] && [[ " $selected " != *" $name "* ]]; then continue; fi
  work="build/fuzz/corpus/$name" artifacts="build/fuzz/artifacts/$name"
  mkdir -p "$work" "$artifacts"
  args=(-max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=512 -max_len="$max_len" -timeout=25
        -print_final_stats=1 -artifact_prefix="$artifacts/")
  [ "$dict" != - ] && args+=(-dict="fuzz/dict/$dict")
  log="$logs/$name.log"
  echo "fuzz: $name for ${seconds}s (max_len $max_len) ..."
  rc=0
  "$bin/fuzz_$name" "${args[@]}" "$work" "fuzz/corpus/$name" >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
  [ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
  [ -n "$runs" ] || runs="?"
  corpus=$(find "$work" -type f | wc -l)
  status=ok
  if [ "$rc" -ne 0 ] || grep -qE "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|actlab fuzz finding" "$log"; then
    status="FAILED (exit $rc; see $log)"
    failed+=("$name")
    grep -E "ERROR:|SUMMARY:|runtime error:|actlab fuzz finding|Test unit written" "$log" | head -8 | sed 's/^/  /'
  fi
  summary+=("$(printf '%-14s %6ss %12s runs %8s corpus  %s' "$name" "$seconds" "$runs" "$corpus" "$status")")
done

echo
echo "fuzz summary (ASan + UBSan, malloc limit 512 MB, rss limit 2048 MB):"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all targets clean"
