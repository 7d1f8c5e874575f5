#!/usr/bin/env bash
# Configures and builds actlab in Release (build/release) with the preset from CMakePresets.json.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
