#!/usr/bin/env bash
# CI checks that follow the README's test command (scripts/test.sh):
#   1. the whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer (preset "debug",
#      g++, build/debug), LeakSanitizer on;
#   2. every libFuzzer target for FUZZ_SECONDS_PER_TARGET seconds (scripts/fuzz.sh, preset "fuzz").
#
#   scripts/ci_checks.sh [FUZZ_SECONDS_PER_TARGET]     (default 20)
#
# Sanitizer configuration: nothing beyond the defaults is needed. The suite (OpenMP through libgomp,
# OpenBLAS) runs clean with LeakSanitizer on and no suppressions; UBSan stops at the first report
# (-fno-sanitize-recover=undefined in the preset). kill_and_resume runs alone after the others: it
# trains spirals:20000 for 25 epochs about six times (26 s a run under ASan, 1.2 s in Release), which
# passes in about 2 minutes alone but overruns its 300 s limit when it shares the 2 cores.
# Time on this 2-core machine: about 7 minutes with warm build folders (build/debug, build/fuzz);
# from scratch the two builds add about 6 minutes each.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds="${1:-20}"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
start=$SECONDS

scripts/setup.sh
echo "== sanitizers: build (preset debug)"
cmake --preset debug >/dev/null
cmake --build --preset debug
echo "== sanitizers: test suite under ASan + UBSan + LSan"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
ctest --preset debug -j"$(nproc)" -E '^kill_and_resume$'
ctest --preset debug -R '^kill_and_resume$'
sanitizer_seconds=$((SECONDS - start))

echo "== fuzz: ${fuzz_seconds}s per target"
unset ASAN_OPTIONS UBSAN_OPTIONS  # scripts/fuzz.sh sets its own
scripts/fuzz.sh "$fuzz_seconds"
echo "ci_checks: passed in $((SECONDS - start))s (sanitizer suite ${sanitizer_seconds}s, fuzzing $((SECONDS - start - sanitizer_seconds))s)"
