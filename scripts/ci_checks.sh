#!/usr/bin/env bash
# CI checks that follow the README's test command (scripts/test.sh):
#   1. the whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer (preset "debug",
#      g++, build/debug), LeakSanitizer on;
#   2. every libFuzzer target for FUZZ_SECONDS_PER_TARGET seconds (scripts/fuzz.sh, preset "fuzz").
#
#   scripts/ci_checks.sh [FUZZ_SECONDS_PER_TARGET]     (default 20)
#
# Sanitizer configuration: none beyond the defaults is needed. The suite (OpenMP through libgomp,
# OpenBLAS) runs clean with LeakSanitizer on and no suppressions; UBSan stops at the first report
# (-fno-sanitize-recover=undefined in the preset). Left out under the sanitizers:
#   kill_and_resume   trains spirals:20000 for 25 epochs five times; under ASan that is past its
#                     300 s limit. It exercises nothing the release suite (scripts/test.sh) misses.
# On this 2-core machine with warm build folders the whole script takes about 7 minutes; see
# docs/bad_input.md for what the bad-input test checks.
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
sanitizer_seconds=$((SECONDS - start))

echo "== fuzz: ${fuzz_seconds}s per target"
unset ASAN_OPTIONS UBSAN_OPTIONS  # scripts/fuzz.sh sets its own
scripts/fuzz.sh "$fuzz_seconds"
echo "ci_checks: passed in $((SECONDS - start))s (sanitizer suite ${sanitizer_seconds}s, fuzzing $((SECONDS - start - sanitizer_seconds))s)"
