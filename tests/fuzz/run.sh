#!/bin/sh
# Runs the libFuzzer targets built in BUILD_DIR for SECONDS each, all at once (one process per
# target), and prints executions, executions per second and new corpus entries per target.
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS TARGET...
#
# Each target starts from a scratch copy of its committed corpus, BUILD_DIR/corpus/TARGET (kept
# between runs, so it grows), and reads tests/fuzz/corpus/TARGET without writing to it. Crash
# and timeout reproducers go to BUILD_DIR/artifacts/TARGET/, logs to BUILD_DIR/logs/. Exits
# non-zero if any target found a crash, a leak, a timeout or an out-of-memory input: minimise
# it (TARGET -minimize_crash=1 -runs=10000 FILE), fix the library, and add it to the corpus.
set -u
if [ $# -lt 3 ]; then
  echo "usage: $0 BUILD_DIR SECONDS TARGET..." >&2
  exit 2
fi
build=$(cd "$1" && pwd)
seconds=$2
shift 2
source_corpus=$(cd "$(dirname "$0")" && pwd)/corpus

pids=""
for target in "$@"; do
  mkdir -p "$build/corpus/$target" "$build/artifacts/$target" "$build/logs"
  cp -n "$source_corpus/$target"/* "$build/corpus/$target"/ 2>/dev/null || true
  # -max_len: room for a block (data starts at 4096) or a few video frames; -timeout: an input
  # that takes seconds is a hang (every blocking call in the targets has a zero timeout).
  (cd "$build" && exec "./tests/fuzz/$target" -max_total_time="$seconds" -max_len=16384 -timeout=10 \
      -print_final_stats=1 -artifact_prefix="$build/artifacts/$target/" \
      "$build/corpus/$target" "$source_corpus/$target") >"$build/logs/$target.log" 2>&1 &
  pids="$pids $!"
done

status=0
i=0
for target in "$@"; do
  i=$((i + 1))
  pid=$(echo $pids | cut -d' ' -f$i)
  if wait "$pid"; then rc=0; else rc=$?; fi
  log="$build/logs/$target.log"
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
  size=$(ls "$build/corpus/$target" | wc -l)
  if [ "$rc" -eq 0 ]; then
    echo "fuzz: $target: ${runs:-?} executions in ${seconds} s, ${speed:-?} execs/s, corpus $size files"
  else
    status=1
    echo "fuzz: $target FAILED (exit $rc) after ${runs:-?} executions; reproducer in $build/artifacts/$target/, log $log:"
    tail -n 60 "$log"
  fi
done
exit $status
