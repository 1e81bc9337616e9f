#!/bin/bash
# shmkit-bridge across two hosts beside ddsperf (Cyclone DDS's own benchmark) on the same link and
# beside the same programs on one host without the bridge (the local shared-memory path), all in
# one run (`make bench-bridge`). The hosts are network namespaces joined by a veth pair, each
# with its own /dev/shm (tests/bridge/hosts.sh).
#
#   run.sh BRIDGE BENCH OUT.json        exit 77 (saying why) where the hosts cannot be made
#
#   1. 64 B round trips, one in flight: a writes /ping, b's echo writes each message to /pong,
#      a reads it back (bridge: /ping a -> b, /pong b -> a); ddsperf ping/pong size 64; local: the
#      same programs on host a alone.
#   2. 64 B throughput: a floods /flood for FLOOD_S, a reader on b counts messages/s and the
#      losses it is told of; ddsperf pub/sub size 64; local: both on host a.
#   3. 1080p RGB24 frames: a writes video /cam at FRAME_HZ for FRAME_S, a reader on b counts what
#      arrives (latest delivery, the video default), then FRAME_PINGS frames one at a time, each
#      index sent back on broadcast /vack (round trip; one-way from the send time in the frame,
#      the namespaces sharing one clock); ddsperf pub/sub and ping/pong size 6220800; local.
#
# Every measured process runs under nice -n -20 (bridges, programs and ddsperf alike).
# Environment: PINGS, WARMUP, FLOOD_S, FRAME_S, FRAME_PINGS, FRAME_HZ, DDSPERF_S (below);
# BENCH_BRIDGE_LOGS=DIR keeps the logs.
set -u
BRIDGE=$(realpath "$1") BENCH=$(realpath "$2") OUT=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PYTHON=${PYTHON:-python3}
PINGS=${PINGS:-2000}            # timed 64 B round trips (after WARMUP)
WARMUP=${WARMUP:-300}
FLOOD_S=${FLOOD_S:-3}
FRAME_S=${FRAME_S:-3}
FRAME_PINGS=${FRAME_PINGS:-40}
# The frame writer's rate (0: unpaced): a 1080p60 camera. Unpaced, the writer alone keeps one of
# two cores copying frames, which the bridge then has to share.
FRAME_HZ=${FRAME_HZ:-60}
DDSPERF_S=${DDSPERF_S:-4}       # each ddsperf run (its first second, the start-up, is left out)
DOMAIN=${DDSPERF_DOMAIN:-7}     # ddsperf's DDS domain: not the bridges' (0)
FRAME_BYTES=6220800

# shellcheck source=SCRIPTDIR/../../tests/bridge/hosts.sh
. "$root/tests/bridge/hosts.sh"
if ! reason=$(hosts_can_run); then
    echo "bench-bridge: $reason"
    exit 77
fi
command -v ddsperf >/dev/null 2>&1 || { echo "bench-bridge: skipped: ddsperf not found (Debian: cyclonedds-tools)"; exit 77; }
hosts_up || exit 1
# BENCH_BRIDGE_LOGS=DIR keeps every program's log there; by default they go with the run.
if [ -n "${BENCH_BRIDGE_LOGS:-}" ]; then
    mkdir -p "$BENCH_BRIDGE_LOGS" && rm -f "$BENCH_BRIDGE_LOGS"/go-* && logs=$(realpath "$BENCH_BRIDGE_LOGS") || exit 1
    trap 'hosts_down' EXIT
else
    logs=$(mktemp -d "${TMPDIR:-/tmp}/shmkit-bench-bridge.XXXXXX")
    trap 'hosts_down; rm -rf "$logs"' EXIT
fi
NICE=(nice -n -20)
failures=0

note() { echo "bench-bridge: $*"; }
problem() { echo "bench-bridge: FAILED: $*"; failures=$((failures + 1)); }
bench_on() { local h=$1; shift; on_host "$h" "${NICE[@]}" "$BENCH" "$@"; }
bench_bg() { local h=$1 log=$2; shift 2; on_host_bg "$h" "$logs/$log" "${NICE[@]}" "$BENCH" "$@"; }
ddsperf_on() { local h=$1; shift; on_host "$h" env CYCLONEDDS_URI="$(cyclone_uri "$h")" timeout 60 "${NICE[@]}" ddsperf -i "$DOMAIN" "$@"; }
ddsperf_bg() { local h=$1 log=$2; shift 2; on_host_bg "$h" "$logs/$log" env CYCLONEDDS_URI="$(cyclone_uri "$h")" timeout 60 "${NICE[@]}" ddsperf -i "$DOMAIN" "$@"; }
# stop PID: TERM, and wait for it (a program prints its figures when it is told to stop).
stop() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
# The last JSON line of a log (a program's result), or nothing.
result_of() { grep '^{' "$1" 2>/dev/null | tail -n 1; }
# Waits until the log holds a result (up to $2 seconds).
await_result() {
    local tries=0
    while [ -z "$(result_of "$1")" ] && [ $tries -lt $(($2 * 10)) ]; do sleep 0.1; tries=$((tries + 1)); done
    [ -n "$(result_of "$1")" ]
}
# matched HOST SEGMENT...: each link's DDS endpoints matched on that host.
matched() {
    local h=$1 s
    shift
    for s in "$@"; do bench_on "$h" peers "$s.bridge" 1 20 || return 1; done
}

# ---- the bridges: a exports /ping, /flood, /cam and imports /pong, /vack; b the reverse
cat >"$logs/a.json" <<EOF
{ "interface": "$(host_iface a)",
  "export": [ {"segment": "/ping"}, {"segment": "/flood"}, {"segment": "/cam"} ],
  "import": [ {"segment": "/pong"}, {"segment": "/vack"} ] }
EOF
cat >"$logs/b.json" <<EOF
{ "interface": "$(host_iface b)",
  "import": [ {"segment": "/ping"}, {"segment": "/flood"}, {"segment": "/cam"} ],
  "export": [ {"segment": "/pong"}, {"segment": "/vack"} ] }
EOF
on_host_bg a "$logs/bridge-a.log" "${NICE[@]}" "$BRIDGE" --config "$logs/a.json"
BRIDGE_A=$HOSTS_LAST_PID
on_host_bg b "$logs/bridge-b.log" "${NICE[@]}" "$BRIDGE" --config "$logs/b.json"
BRIDGE_B=$HOSTS_LAST_PID

# ---- 1. 64 B round trips
note "64 B round trips through the bridge ($PINGS after $WARMUP)"
bench_bg b echo.log echo /ping /pong
ECHO=$HOSTS_LAST_PID
bench_on a ping /ping /pong "$PINGS" "$WARMUP" 64 >"$logs/rtt-bridge.json" 2>"$logs/rtt-bridge.err" ||
    { cat "$logs/rtt-bridge.err"; problem "bridge round trips"; }
stop "$ECHO"
note "64 B round trips, ddsperf ping/pong (${DDSPERF_S} s)"
ddsperf_bg b ddsperf-pong.log pong
PONG=$HOSTS_LAST_PID
ddsperf_on a -Qminmatch:1 -Qinitwait:15 -D "$DDSPERF_S" ping size 64 >"$logs/ddsperf-ping64.log" 2>&1 ||
    { tail -n 5 "$logs/ddsperf-ping64.log"; problem "ddsperf ping size 64"; }
stop "$PONG"
note "64 B round trips, local shared memory"
bench_bg a lecho.log echo /lping /lpong
ECHO=$HOSTS_LAST_PID
bench_on a ping /lping /lpong "$PINGS" "$WARMUP" 64 >"$logs/rtt-local.json" 2>"$logs/rtt-local.err" ||
    { cat "$logs/rtt-local.err"; problem "local round trips"; }
stop "$ECHO"

# ---- 2. 64 B throughput
note "64 B flood through the bridge (${FLOOD_S} s)"
bench_bg b count.log count /flood 1 60
COUNT=$HOSTS_LAST_PID
bench_bg a flood.log flood /flood "$FLOOD_S" 64 --go "$logs/go-flood"
FLOOD=$HOSTS_LAST_PID
if matched a /flood && matched b /flood; then
    sleep 0.3
    touch "$logs/go-flood"
    wait "$COUNT" || problem "the reader of /flood on b"
else
    problem "/flood never matched"
    stop "$COUNT"
fi
sleep 0.5
FLOOD_EXPORTED=$(bench_on a kv /flood.bridge samples 2>/dev/null)
FLOOD_EXPORT_LOST=$(bench_on a kv /flood.bridge lost 2>/dev/null)
stop "$FLOOD"
note "64 B throughput, ddsperf pub/sub (${DDSPERF_S} s)"
ddsperf_bg b ddsperf-sub64.log sub
SUB=$HOSTS_LAST_PID
ddsperf_on a -Qminmatch:1 -Qinitwait:15 -D "$DDSPERF_S" pub size 64 >"$logs/ddsperf-pub64.log" 2>&1 ||
    { tail -n 5 "$logs/ddsperf-pub64.log"; problem "ddsperf pub size 64"; }
sleep 1.2
stop "$SUB"
note "64 B flood, local shared memory (${FLOOD_S} s)"
bench_bg a lcount.log count /lflood 1 60
COUNT=$HOSTS_LAST_PID
bench_bg a lflood.log flood /lflood "$FLOOD_S" 64 --go "$logs/go-lflood"
FLOOD=$HOSTS_LAST_PID
sleep 0.5
touch "$logs/go-lflood"
wait "$COUNT" || problem "the local reader of /lflood"
stop "$FLOOD"

# ---- 3. 1080p frames
note "1080p RGB24 frames through the bridge (${FRAME_S} s, then $FRAME_PINGS round trips)"
bench_bg b vsink.log vsink /cam /vack
VSINK=$HOSTS_LAST_PID
bench_bg a vsrc.log vsrc /cam /vack "$FRAME_S" "$FRAME_PINGS" --rate "$FRAME_HZ" --go "$logs/go-cam"
VSRC=$HOSTS_LAST_PID
if matched a /cam /vack && matched b /cam /vack; then
    sleep 0.3
    touch "$logs/go-cam"
    await_result "$logs/vsrc.log" 120 || problem "the frame writer on a"
else
    problem "/cam or /vack never matched"
fi
stop "$VSINK"
stop "$VSRC"
note "frames of $FRAME_BYTES B, ddsperf pub/sub (${DDSPERF_S} s)"
ddsperf_bg b ddsperf-subframe.log sub
SUB=$HOSTS_LAST_PID
ddsperf_on a -Qminmatch:1 -Qinitwait:15 -D "$DDSPERF_S" pub size "$FRAME_BYTES" >"$logs/ddsperf-pubframe.log" 2>&1 ||
    { tail -n 5 "$logs/ddsperf-pubframe.log"; problem "ddsperf pub size $FRAME_BYTES"; }
sleep 1.2
stop "$SUB"
note "frames of $FRAME_BYTES B, ddsperf ping/pong (${DDSPERF_S} s)"
ddsperf_bg b ddsperf-pongframe.log pong
PONG=$HOSTS_LAST_PID
ddsperf_on a -Qminmatch:1 -Qinitwait:15 -D "$DDSPERF_S" ping size "$FRAME_BYTES" >"$logs/ddsperf-pingframe.log" 2>&1 ||
    { tail -n 5 "$logs/ddsperf-pingframe.log"; problem "ddsperf ping size $FRAME_BYTES"; }
stop "$PONG"
note "1080p RGB24 frames, local shared memory"
bench_bg a lvsink.log vsink /lcam /lvack
VSINK=$HOSTS_LAST_PID
bench_bg a lvsrc.log vsrc /lcam /lvack "$FRAME_S" "$FRAME_PINGS" --rate "$FRAME_HZ" --go "$logs/go-lcam"
VSRC=$HOSTS_LAST_PID
sleep 0.5
touch "$logs/go-lcam"
await_result "$logs/lvsrc.log" 60 || problem "the local frame writer"
stop "$VSINK"
stop "$VSRC"

stop "$BRIDGE_A"
stop "$BRIDGE_B"
for f in bridge-a bridge-b; do sed 's/^/    '"$f"': /' "$logs/$f.log"; done

# ---- the JSON
result_of "$logs/count.log" >"$logs/tput-bridge.json"
result_of "$logs/lcount.log" >"$logs/tput-local.json"
result_of "$logs/flood.log" >"$logs/flood-bridge.json"
result_of "$logs/lflood.log" >"$logs/flood-local.json"
for f in vsrc vsink lvsrc lvsink; do result_of "$logs/$f.log" >"$logs/$f.json"; done
FLOOD_EXPORTED=$FLOOD_EXPORTED FLOOD_EXPORT_LOST=$FLOOD_EXPORT_LOST FRAME_BYTES=$FRAME_BYTES PINGS=$PINGS \
    FLOOD_S=$FLOOD_S FRAME_S=$FRAME_S FRAME_PINGS=$FRAME_PINGS FRAME_HZ=$FRAME_HZ \
    "$PYTHON" "$here/assemble.py" "$logs" "$OUT" || problem "writing $OUT"
if [ "$failures" -ne 0 ]; then
    note "$failures problem(s); logs:"
    for f in "$logs"/*.log "$logs"/*.err; do [ -s "$f" ] && { echo "---- $(basename "$f")"; tail -n 15 "$f"; }; done
    exit 1
fi
exit 0
