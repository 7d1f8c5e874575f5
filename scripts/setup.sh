#!/usr/bin/env bash
# Installs the Debian packages actlab needs to build, test and run. Idempotent: packages already
# present are skipped, and apt is only asked when something is missing. Uses sudo when not root.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  libopenblas-openmp-dev libhwy-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libspdlog-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libdnnl-dev  # oneDNN, the second peer of bench/peer_kernels.py (bench/peer_onednn.cpp); the library never links it
  gnuplot-nox dataset-fashion-mnist
  chromium  # the report test opens report.html in headless Chromium
  python3 make file dpkg-dev  # the docs check (python3) and the install/package check (scripts/check_install.sh)
  clang libclang-rt-14-dev libomp-dev  # the libFuzzer targets (scripts/fuzz.sh, preset "fuzz")
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "setup: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
