#!/usr/bin/env bash
# README command 2 (and CI): install what is needed, build in Release, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
ctest --test-dir build/release --output-on-failure -j"$(nproc)"
