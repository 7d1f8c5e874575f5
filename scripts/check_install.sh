#!/usr/bin/env bash
# Checks actlab as its users get it: installs a Release build into a temporary prefix, builds and runs
# every example and a small consumer project against that copy (find_package, static and shared, and
# pkg-config), runs the installed `actlab`, then builds the Debian package with CPack, unpacks it into
# a scratch root (dpkg -x) and runs `actlab` and the pkg-config consumer from there.
#
# Usage: scripts/check_install.sh [BUILD_DIR]
#   BUILD_DIR  an existing Release build of this tree to install (ctest passes its own); without it,
#              the tree is configured and built in Release in a temporary folder first.
# Exits non-zero at the first failure; prints one line per check and a summary.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-}"
jobs="${ACTLAB_JOBS:-2}"
work="$(mktemp -d "${TMPDIR:-/tmp}/actlab-install.XXXXXX")"
trap 'rm -rf "$work"' EXIT
start=$SECONDS
checks=0
log="$work/log.txt"

step() { echo "check_install: $*"; }
ok() { checks=$((checks + 1)); echo "  ok: $*"; }
fail() {
  echo "check_install: FAILED: $*" >&2
  [ -s "$log" ] && { echo "--- last output:" >&2; tail -n 40 "$log" >&2; }
  exit 1
}
# Runs a command quietly into $log; on failure shows its output and stops.
run() { "$@" >"$log" 2>&1 || fail "$*"; }

version="$(sed -n 's/^project(actlab VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")"
[ -n "$version" ] || fail "no version in CMakeLists.txt's project()"

if [ -z "$build" ]; then
  build="$work/build"
  step "configuring and building Release in $build"
  run cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ \
    -DACTLAB_BUILD_TESTS=OFF -DACTLAB_BUILD_EXAMPLES=OFF
  run cmake --build "$build" -j"$jobs"
  ok "built"
fi
[ -f "$build/CPackConfig.cmake" ] || fail "$build is not a configured actlab build"

prefix="$work/prefix"
step "installing into $prefix"
run cmake --install "$build" --prefix "$prefix"
libdir="$(find "$prefix" -name 'libactlab.so' -printf '%h\n' | head -n 1)"
[ -n "$libdir" ] || fail "no libactlab.so installed"
for f in bin/actlab include/actlab/activation.hpp include/actlab/activation_entry.hpp \
  include/actlab/version.hpp share/doc/actlab/README.md share/doc/actlab/CHANGELOG.md \
  share/doc/actlab/quickstart.md share/doc/actlab/examples/quickstart.cpp; do
  [ -e "$prefix/$f" ] || fail "$f is not installed"
done
for f in libactlab.a "libactlab.so.$version" cmake/actlab/actlabConfig.cmake pkgconfig/actlab.pc; do
  [ -e "$libdir/$f" ] || fail "$libdir/$f is not installed"
done
ok "layout: headers, libactlab.so.$version, libactlab.a, CMake config, actlab.pc, bin/actlab, docs"

# Public headers must compile on their own and include nothing but the standard library and actlab/.
for h in "$prefix"/include/actlab/*.hpp; do
  echo "#include <actlab/$(basename "$h")>" | g++ -std=c++20 -fsyntax-only -Wall -Wextra -x c++ \
    -I"$prefix/include" - >"$log" 2>&1 || fail "installed header actlab/$(basename "$h") does not compile on its own"
done
# Allowed: "actlab/..." and standard headers (<vector>, <cstdint>: no folder, no .h).
if grep -HE '^ *# *include' "$prefix"/include/actlab/*.hpp | grep -vE '#include ("actlab/|<actlab/|<[a-z_0-9]+>)' >"$log"; then
  fail "public headers include something other than the standard library: $(cat "$log")"
fi
ok "every public header compiles alone and includes only the standard library and actlab/"

out="$("$prefix/bin/actlab" --version)" || fail "installed actlab --version"
[ "$out" = "actlab $version" ] || fail "installed actlab --version printed '$out', expected 'actlab $version'"
run "$prefix/bin/actlab" list
grep -q '^leaky_relu$' "$log" || fail "installed actlab list has no leaky_relu"
ok "installed actlab --version ($out) and actlab list"

step "building the examples against the installed copy (find_package)"
run cmake -S "$src/examples" -B "$work/examples" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ \
  -DCMAKE_PREFIX_PATH="$prefix"
run cmake --build "$work/examples" -j"$jobs"
ldd "$work/examples/example_quickstart" >"$log" 2>&1 || fail "ldd example_quickstart"
grep -q "$libdir/libactlab.so" "$log" || fail "example_quickstart does not load the installed libactlab.so"
run ctest --test-dir "$work/examples" --output-on-failure
ok "examples built against $libdir/libactlab.so and run: $(grep -o '[0-9]*% tests passed.*' "$log")"

for variant in shared static; do
  run cmake -S "$src/examples/consumer" -B "$work/consumer-$variant" -G Ninja -DCMAKE_CXX_COMPILER=g++ \
    -DCMAKE_PREFIX_PATH="$prefix" -DCONSUMER_STATIC=$([ $variant = static ] && echo ON || echo OFF)
  run cmake --build "$work/consumer-$variant"
  run "$work/consumer-$variant/consumer"
  ok "find_package consumer, $variant library: $(head -n 1 "$log")"
done
if ldd "$work/consumer-static/consumer" | grep -q libactlab; then fail "the static consumer loads libactlab.so"; fi

export PKG_CONFIG_PATH="$libdir/pkgconfig"
run pkg-config --exists --print-errors actlab
[ "$(pkg-config --modversion actlab)" = "$version" ] || fail "pkg-config --modversion actlab"
mkdir -p "$work/consumer-pc"
run make -C "$src/examples/consumer" OUT="$work/consumer-pc"
run "$work/consumer-pc/consumer"
ok "pkg-config consumer: $(pkg-config --cflags --libs actlab)"

step "building the Debian package"
run cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/deb"
deb="$(ls "$work"/deb/actlab_*.deb 2>/dev/null | head -n 1)"
[ -n "$deb" ] || fail "cpack wrote no actlab_*.deb"
depends="$(dpkg-deb -f "$deb" Depends)"
for p in libopenblas0-openmp libhwy1 libfmt9 libgomp1 zlib1g libstdc++6 libc6; do
  grep -q "\b$p\b" <<<"$depends" || fail "the package's Depends lacks $p: $depends"
done
ok "$(basename "$deb"): Depends: $depends"

root="$work/root"
run dpkg -x "$deb" "$root"
out="$("$root/usr/bin/actlab" --version)" || fail "unpacked actlab --version"
[ "$out" = "actlab $version" ] || fail "unpacked actlab --version printed '$out'"
run "$root/usr/bin/actlab" list
grep -q '^elu$' "$log" || fail "unpacked actlab list has no elu"
ok "from the unpacked package: actlab --version ($out), actlab list"

rootlib="$(find "$root" -name 'libactlab.so' -printf '%h\n' | head -n 1)"
[ -n "$rootlib" ] || fail "the package has no libactlab.so"
export PKG_CONFIG_PATH="$rootlib/pkgconfig"
mkdir -p "$work/consumer-deb"
run make -C "$src/examples/consumer" OUT="$work/consumer-deb"
run env LD_LIBRARY_PATH="$rootlib" "$work/consumer-deb/consumer"
ok "pkg-config consumer built and run against the unpacked package ($rootlib)"

echo "check_install: all $checks checks passed in $((SECONDS - start)) s"
