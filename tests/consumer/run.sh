#!/bin/sh
# Installs shmkit from a build tree into a scratch prefix, then builds and runs the README's
# quick start three ways: find_package(shmkit), pkg-config, and add_subdirectory.
# Usage: run.sh <cmake> <build dir> <source dir> <c++ compiler>
set -eu
cmake=$1 build=$2 src=$3 cxx=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$cmake" --install "$build" --prefix "$work/prefix" >/dev/null

echo "== find_package(shmkit)"
"$cmake" -S "$src/tests/consumer" -B "$work/fp" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
"$cmake" --build "$work/fp" >/dev/null
"$work/fp/quickstart"

echo "== pkg-config shmkit"
pc=$(dirname "$(find "$work/prefix" -name shmkit.pc | head -n 1)")
# shellcheck disable=SC2046
"$cxx" -std=c++17 -o "$work/pc-quickstart" "$src/examples/quickstart.cpp" \
  $(PKG_CONFIG_PATH="$pc" pkg-config --cflags --libs shmkit)
"$work/pc-quickstart"

echo "== add_subdirectory(shmkit)"
"$cmake" -S "$src/tests/consumer" -B "$work/sub" -DSHMKIT_SOURCE_DIR="$src" -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
"$cmake" --build "$work/sub" >/dev/null
"$work/sub/quickstart"
# As a subproject, shmkit must not build its tests, benchmarks or tools.
if [ -e "$work/sub/shmkit/tests" ] || [ -e "$work/sub/shmkit/bench" ] || [ -e "$work/sub/shmkit/bindings" ]; then
  echo "shmkit built its own tests/bench/tools as a subproject" >&2
  exit 1
fi
echo "consumer checks passed"
