#!/bin/bash
# The two-host setup of the bridge tests checked on its own (no bridge): each host has its own
# /dev/shm, a shmkit segment works inside a host, and Cyclone DDS crosses the veth pair
# (ddsperf ping on host a, pong on host b). As root; exit 77 (skipped) where namespaces are
# unavailable.
#
#   tests/bridge/selftest.sh [PEER]   PEER: a built shmkit_bridge_peer
#                                     (default: /tmp/peerbuild/tests/shmkit_bridge_peer)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
peer=${1:-/tmp/peerbuild/tests/shmkit_bridge_peer}
. "$here/hosts.sh"

hosts_can_run || exit 77
if [ ! -x "$peer" ]; then echo "selftest: no peer at $peer (cmake --build ... --target shmkit_bridge_peer)" >&2; exit 1; fi
if ! command -v ddsperf >/dev/null 2>&1; then echo "skipped: ddsperf not found (cyclonedds-tools)"; exit 77; fi

start=$(date +%s%N)
hosts_up
echo "hosts up in $(( ($(date +%s%N) - start) / 1000000 )) ms: a=$(host_iface a) $(host_addr a), b=$(host_iface b) $(host_addr b)"
logs=$(mktemp -d "${TMPDIR:-/tmp}/shmkit-selftest.XXXXXX")
trap 'hosts_down; rm -rf "$logs"' EXIT

# /dev/shm: a file made on host a is seen there only.
marker="shmkit-selftest-$$"
on_host a sh -c "echo a > /dev/shm/$marker"
on_host a test -f "/dev/shm/$marker"
if on_host b test -e "/dev/shm/$marker"; then echo "FAIL: host b sees host a's /dev/shm" >&2; exit 1; fi
if [ -e "/dev/shm/$marker" ]; then echo "FAIL: the real host sees host a's /dev/shm" >&2; exit 1; fi
# ... and the same name can exist on both hosts independently.
on_host b sh -c "echo b > /dev/shm/$marker"
[ "$(on_host a cat "/dev/shm/$marker")" = a ] && [ "$(on_host b cat "/dev/shm/$marker")" = b ] || {
    echo "FAIL: the same name on both hosts is not two files" >&2; exit 1; }
echo "ok: /dev/shm is private to each host"

# A kv store inside host a: the peer works there.
on_host a "$peer" kv-create /selftest_kv mode,gain
on_host a "$peer" kv-set /selftest_kv gain 42
on_host a "$peer" kv-expect /selftest_kv gain 42 2
on_host a test -e /dev/shm/selftest_kv
if on_host b test -e /dev/shm/selftest_kv; then echo "FAIL: host b sees host a's kv store" >&2; exit 1; fi
echo "ok: kv store on host a"

# Cyclone across the veth pair: pong on b, 3 s of pings from a that must get answers.
# -Qminmatch:1 -Qinitwait:5: ping fails (non-zero) unless it matches the pong within 5 s;
# roundtrips are counted from its output.
on_host_bg b "$logs/pong.log" env CYCLONEDDS_URI="$(cyclone_uri b)" ddsperf -D 15 pong
on_host a env CYCLONEDDS_URI="$(cyclone_uri a)" ddsperf -Qminmatch:1 -Qinitwait:5 -D 3 ping >"$logs/ping.log" 2>&1 || {
    echo "FAIL: ddsperf ping on host a" >&2; cat "$logs/ping.log" "$logs/pong.log" >&2; exit 1; }
# ping prints a line per second per pong: "... size 12 mean 21us min ... cnt 23646".
if ! grep -Eq " cnt [1-9]" "$logs/ping.log"; then
    echo "FAIL: no round trips from host a to host b" >&2; cat "$logs/ping.log" "$logs/pong.log" >&2; exit 1
fi
echo "ok: DDS crosses the veth pair: $(grep -E " cnt [1-9]" "$logs/ping.log" | tail -1 | sed 's/^.*size/size/')"

hosts_down
hosts_down  # a second call is harmless
echo "selftest passed"
