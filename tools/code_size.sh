#!/bin/sh
# Code size and stack use of shmkit's core and POSIX port for aarch64 Linux (Jetson), built with
# the distribution's cross compiler at -Os (CMake's MinSizeRel) with -fstack-usage: nothing
# but the two libraries is built (no tests, tools or benchmarks).
#
#   sh tools/code_size.sh [BUILD_DIR [EXTRA COMPILER FLAGS...]]    default build/code-size
#   e.g. sh tools/code_size.sh build/code-size-orin -mcpu=cortex-a78ae
#   sh tools/code_size.sh --check REPORT     checks that a saved report has every figure
#
# Prints, per library and in total, `size`'s text, data and bss; how many calls to libgcc's
# out-of-line atomics helpers (__aarch64_ldadd8_acq_rel and the like, GCC's default
# -moutline-atomics without an -mcpu or -march that has LSE) the libraries make; and the
# largest stack frames (-fstack-usage: bytes, static/dynamic, function).
set -eu

if [ "${1:-}" = "--check" ]; then
  # A report must have every line below with numbers in it: the script still works (the figures
  # themselves are never checked).
  report=$2
  fail=0
  for pattern in \
      '^text [0-9][0-9]* data [0-9][0-9]* bss [0-9][0-9]* libshmkit_core\.a$' \
      '^text [0-9][0-9]* data [0-9][0-9]* bss [0-9][0-9]* libshmkit_port\.a$' \
      '^text [0-9][0-9]* data [0-9][0-9]* bss [0-9][0-9]* total$' \
      '^outline atomics calls: [0-9][0-9]* ' \
      '^stack [0-9][0-9]* [a-z,]* .*[a-z]'; do
    if ! grep -q "$pattern" "$report"; then
      echo "code_size.sh --check: no line matching '$pattern' in $report" >&2
      fail=1
    fi
  done
  [ $fail -eq 0 ] && echo "code_size.sh --check: $report has every figure"
  exit $fail
fi

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build/code-size}
[ $# -gt 0 ] && shift
flags="-fstack-usage $*"
triple=aarch64-linux-gnu
jobs=$(nproc 2>/dev/null || echo 2)

cmake -S "$root" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$root/toolchains/$triple.cmake" -DCMAKE_BUILD_TYPE=MinSizeRel \
      "-DCMAKE_CXX_FLAGS=$flags" -DSHMKIT_WERROR=ON -DSHMKIT_BUILD_TESTS=OFF -DSHMKIT_BUILD_BENCH=OFF \
      -DSHMKIT_BUILD_TOOLS=OFF -DSHMKIT_BUILD_PYTHON=OFF -DSHMKIT_INSTALL=OFF >/dev/null
cmake --build "$build" -j"$jobs" --target shmkit_core shmkit_port >/dev/null

core="$build/core/libshmkit_core.a"
port="$build/port/libshmkit_port.a"
echo "code_size.sh: $triple, -Os $flags (compiler: $($triple-g++ -dumpfullversion))"
# size prints one line per object file: add them up per library.
for lib in "$core" "$port"; do
  $triple-size "$lib" | awk -v name="$(basename "$lib")" \
    'NR > 1 { t += $1; d += $2; b += $3 } END { printf "text %d data %d bss %d %s\n", t, d, b, name }'
done | tee "$build/size.txt"
awk '{ t += $2; d += $4; b += $6 } END { printf "text %d data %d bss %d total\n", t, d, b }' "$build/size.txt"

# Calls to the out-of-line atomics helpers: each is a call instead of an inline LSE
# instruction (or an LL/SC loop) at every atomic read-modify-write.
helpers=$($triple-nm -u "$core" "$port" 2>/dev/null | grep -o '__aarch64_[a-z_0-9]*' | sort -u)
calls=$($triple-objdump -d "$core" "$port" | grep -c 'bl.*<__aarch64_' || true)
echo "outline atomics calls: $calls ($(echo "$helpers" | grep -c . || true) helpers: $(echo $helpers))"

# The largest stack frames, from the .su files GCC wrote beside the objects.
echo "largest stack frames (bytes, kind, function):"
find "$build/core" "$build/port" -name '*.su' -exec cat {} + |
  awk -F '\t' '{
    # FILE:LINE:COLUMN:FUNCTION (the function name may hold colons itself)
    match($1, /^[^:]*:[0-9]+:[0-9]+:/); where = substr($1, 1, RLENGTH - 1); sub(/.*\//, "", where)
    printf "stack %d %s %s (%s)\n", $2, $3, substr($1, RLENGTH + 1), where }' |
  sort -k2,2nr | head -n 12
