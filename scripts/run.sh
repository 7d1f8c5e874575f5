#!/usr/bin/env bash
# README command 1: install what is needed, build in Release, and train the default "seed" recipe
# on Fashion-MNIST. Extra arguments go to `actlab train` (for example --epochs 3).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
exec build/release/actlab train "$@"
