#!/bin/sh
# The mixed 32/64-bit test: a 64-bit and a 32-bit build of tests/mixed/peer.cpp share a segment
# of every kind, one creating and writing it, the other opening it and checking every value;
# then the other way round. Both run on this machine against the same /dev/shm names, the
# 32-bit one under qemu-user (which shares the host's shared memory and futexes).
#
#   sh tests/mixed/run.sh NATIVE_PEER FOREIGN_PEER EMULATOR [EMULATOR ARGS...]
#   e.g. sh tests/mixed/run.sh build/gcc11/tests/shmkit_mixed_peer build/armhf/tests/shmkit_mixed_peer \
#          qemu-arm -L /usr/arm-linux-gnueabihf
#
# Every pairing runs twice: in the default barrier mode (membarrier where the kernel has it;
# qemu-user passes the call through), and with SHMKIT_NO_MEMBARRIER=1 on both sides (fences
# mode). Exit status 0 only if every pairing passed.
set -u
if [ $# -lt 3 ]; then
  echo "usage: sh tests/mixed/run.sh NATIVE_PEER FOREIGN_PEER EMULATOR [EMULATOR ARGS...]" >&2
  exit 2
fi
native=$1
foreign=$2
shift 2
# The emulator and its arguments stay in "$@".
unset SHMKIT_NO_MEMBARRIER

native_bits=$("$native" arch) || { echo "run.sh: $native does not run" >&2; exit 1; }
foreign_bits=$("$@" "$foreign" arch) || { echo "run.sh: $foreign does not run under: $*" >&2; exit 1; }
if [ "$native_bits" = "$foreign_bits" ]; then
  echo "run.sh: both peers are $native_bits: nothing mixed to test" >&2
  exit 1
fi

kinds=$("$native" kinds) || exit 1
foreign_kinds=$("$@" "$foreign" kinds) || exit 1
if [ "$kinds" != "$foreign_kinds" ]; then
  echo "run.sh: the two peers know different kinds" >&2
  exit 1
fi

failures=0
passes=0
# run_pair KIND NAME WRITER_LABEL VERIFIER_LABEL WRITER_COMMAND VERIFIER_COMMAND (unquoted: words)
run_pair() {
  kind=$1 name=$2 wlabel=$3 vlabel=$4 wcmd=$5 vcmd=$6
  $wcmd remove "$kind" "$name" >/dev/null 2>&1
  if [ "$kind" = duplex ]; then
    # Both at once: the server (writer) answers what the client (verifier) sends.
    $wcmd write "$kind" "$name" & wpid=$!
    $vcmd verify "$kind" "$name"; vrc=$?
    wait $wpid; wrc=$?
  else
    $wcmd write "$kind" "$name"; wrc=$?
    vrc=1
    [ $wrc -eq 0 ] && { $vcmd verify "$kind" "$name"; vrc=$?; }
  fi
  $wcmd remove "$kind" "$name" >/dev/null 2>&1
  if [ $wrc -eq 0 ] && [ $vrc -eq 0 ]; then
    echo "ok   $kind ($mode): $wlabel writes, $vlabel verifies"
    passes=$((passes + 1))
  else
    echo "FAIL $kind ($mode): $wlabel writes (exit $wrc), $vlabel verifies (exit $vrc)"
    failures=$((failures + 1))
  fi
}

foreign_cmd="$* $foreign"
for mode in default fences; do
  [ $mode = fences ] && export SHMKIT_NO_MEMBARRIER=1
  for kind in $kinds; do
    run_pair "$kind" "/shmkit-mixed-$$-$mode-$kind-a" "$native_bits" "$foreign_bits" "$native" "$foreign_cmd"
    run_pair "$kind" "/shmkit-mixed-$$-$mode-$kind-b" "$foreign_bits" "$native_bits" "$foreign_cmd" "$native"
  done
done
echo "run.sh: $passes passed, $failures failed ($native_bits: $native; $foreign_bits: $foreign under $*)"
[ $failures -eq 0 ]
