#!/bin/bash
# shmkit-bridge across two hosts: applications on host a write, a bridge on each host carries the
# segments over DDS, applications on host b read (and, for kv, write back). The hosts are network
# namespaces joined by a veth pair, each with its own /dev/shm (hosts.sh); only their own
# addresses are used.
#
#   run.sh BRIDGE PEER DDS_TOOL SHMKIT     (ctest bridge_two_hosts; exit 77: cannot make hosts)
#
# Phases (one pair of bridges, then both killed and restarted mid-stream):
#   1. broadcast, reliable: every message arrives, in order, intact;
#   2. broadcast, best-effort overload: the readers on b are told of exactly the messages they
#      never got (wherever they were lost);
#   3. video: frames arrive intact with their geometry and pts; a ROS 2 style Image subscriber
#      (no shmkit in it) sees them on rt/cam; then audio, every sample: every buffer in order,
#      intact, with its format and pts;
#   4. kv: the bridge on b starts after the values were set (late joiner), a write on b reaches a,
#      conflicting writes on both hosts settle on one value;
#   5. hostile DDS samples (oversize, wrong frame size, unknown key) are dropped and counted;
#   6. shmkit ls/info on b show the imported segments as bridged;
#   7. each bridge is SIGKILLed and restarted while a broadcast streams: the applications keep
#      running, the reader on b gets every message in order and is told of the exact number lost;
#   8. kv after a bridge restart: the hosts keep the value they had settled on.
set -u
# Absolute: a command entered into a host's mount namespace starts in its root directory.
BRIDGE=$(realpath "$1") PEER=$(realpath "$2") DDS_TOOL=$(realpath "$3") SHMKIT=$(realpath "$4")
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=hosts.sh
. "$here/hosts.sh"
hosts_can_run || exit 77
hosts_up || exit 1
logs=$(mktemp -d "${TMPDIR:-/tmp}/shmkit-bridge-test.XXXXXX")
trap 'hosts_down; rm -rf "$logs"' EXIT

failures=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
# expect NAME COMMAND...: runs it, its output shown indented; a failure is counted.
expect() {
    local what=$1 out rc
    shift
    out=$("$@" 2>&1)
    rc=$?
    if [ -n "$out" ]; then printf '    %s\n' "$out" | sed 's/^ *\(.\)/    \1/'; fi
    if [ $rc -eq 0 ]; then pass "$what"; else fail "$what (exit $rc)"; fi
    return $rc
}
dump_logs() {
    local f
    for f in "$logs"/*.log; do
        echo "---- $(basename "$f")"
        tail -n 20 "$f"
    done
}

# The bridges' configurations: what a exports, what b imports.
cat >"$logs/a.json" <<EOF
{ "interface": "$(host_iface a)",
  "export": [ {"segment": "/bc"}, {"segment": "/flood", "reliability": "best-effort"},
              {"segment": "/cam", "ros_image": "cam"}, {"segment": "/state"}, {"segment": "/bc2"},
              {"segment": "/mic", "every_sample": true} ] }
EOF
cat >"$logs/b.json" <<EOF
{ "interface": "$(host_iface b)",
  "import": [ {"segment": "/bc"}, {"segment": "/flood", "reliability": "best-effort"},
              {"segment": "/cam"}, {"segment": "/state"}, {"segment": "/bc2"},
              {"segment": "/mic", "every_sample": true} ] }
EOF
bridge_a() { on_host_bg a "$logs/bridge-a$1.log" "$BRIDGE" --config "$logs/a.json"; BRIDGE_A=$HOSTS_LAST_PID; }
bridge_b() { on_host_bg b "$logs/bridge-b$1.log" "$BRIDGE" --config "$logs/b.json"; BRIDGE_B=$HOSTS_LAST_PID; }
dds_on() { local h=$1; shift; on_host "$h" env CYCLONEDDS_URI="$(cyclone_uri "$h")" "$@"; }
# A link's counter from its companion segment on host H.
counter() { on_host "$1" "$PEER" kv-get "$2.bridge" "$3" 2>/dev/null; }

# ---- set-up: kv values exist on a before any bridge runs; b's bridge starts later (late joiner)
on_host a "$PEER" kv-create /state mode,speed >/dev/null || { echo "cannot create /state"; exit 1; }
on_host a "$PEER" kv-set /state mode auto >/dev/null
bridge_a 1
on_host_bg a "$logs/bc-writer.log" "$PEER" bcast-write /bc 20000 64 0 --start-after 4 --linger 60
on_host_bg a "$logs/flood-writer.log" "$PEER" bcast-write /flood 200000 1024 0 --start-after 4 --linger 60
on_host_bg a "$logs/cam-writer.log" "$PEER" video-write /cam 150 320 240 30 --start-after 4 --linger 60
sleep 1
bridge_b 1
# Discovery and matching must be done before the writers start (volatile topics: what is
# published before a reader matches is not for it).
for link in /bc /flood /cam; do
    expect "link $link matched on b" on_host b "$PEER" kv-expect "$link.bridge" peers 1 10 >/dev/null
done

# ---- 1-3: the three streams at once, and hostile samples while they flow
on_host_bg a "$logs/hostile-bc.log" env CYCLONEDDS_URI="$(cyclone_uri a)" "$DDS_TOOL" hostile bc broadcast 2
on_host_bg a "$logs/hostile-cam.log" env CYCLONEDDS_URI="$(cyclone_uri a)" "$DDS_TOOL" hostile cam video 2
on_host_bg a "$logs/hostile-kv.log" env CYCLONEDDS_URI="$(cyclone_uri a)" "$DDS_TOOL" hostile state kv 2
on_host_bg b "$logs/ros.log" env CYCLONEDDS_URI="$(cyclone_uri b)" "$DDS_TOOL" ros-image-sub cam 20 30 320 240
ROS_SUB=$HOSTS_LAST_PID
on_host_bg b "$logs/flood-reader.log" "$PEER" bcast-read /flood 200000 60 --exact-loss --idle 3
FLOOD_READER=$HOSTS_LAST_PID

expect "broadcast, reliable: 20000 messages in order" on_host b "$PEER" bcast-read /bc 20000 60 --expect-all
expect "video: frames intact with geometry and pts" on_host b "$PEER" video-read /cam 20 30 320 240
if wait "$ROS_SUB"; then pass "ROS 2 Image subscriber: 20 rgb8 frames intact"; else fail "ROS 2 Image subscriber"; fi
cat "$logs/ros.log"
if wait "$FLOOD_READER"; then
    flood=$(tail -n 1 "$logs/flood-reader.log")
    echo "    $flood"
    case "$flood" in
        *" total_lost=0"*) fail "broadcast, best-effort overload: nothing was lost, so nothing was checked" ;;
        *) pass "broadcast, best-effort overload: every loss counted exactly" ;;
    esac
else
    cat "$logs/flood-reader.log"
    fail "broadcast, best-effort overload"
fi

# ---- 4: kv
expect "kv: a late-joining bridge gets the current values" on_host b "$PEER" kv-expect /state mode auto 10
on_host b "$PEER" kv-set /state speed fast >/dev/null
expect "kv: a write on b reaches a" on_host a "$PEER" kv-expect /state speed fast 10
on_host a "$PEER" kv-set /state mode from-a >/dev/null &
setter=$!
on_host b "$PEER" kv-set /state mode from-b >/dev/null
wait "$setter"
sleep 2
mode_a=$(on_host a "$PEER" kv-get /state mode)
mode_b=$(on_host b "$PEER" kv-get /state mode)
echo "    mode on a: $mode_a, on b: $mode_b"
if [ "$mode_a" = "$mode_b" ] && { [ "$mode_a" = from-a ] || [ "$mode_a" = from-b ]; }; then
    pass "kv: conflicting writes settle on one value on both hosts"
else
    fail "kv: conflicting writes did not settle"
fi

# ---- audio, every sample (on its own: not while the overload above takes the machine)
on_host_bg a "$logs/mic-writer.log" "$PEER" audio-write /mic 500 500 --start-after 2 --linger 60
expect "link /mic matched on b" on_host b "$PEER" kv-expect /mic.bridge peers 1 2 >/dev/null
expect "audio, every sample: 500 buffers in order with format and pts" on_host b "$PEER" audio-read /mic 500 30 --expect-all

# ---- 5: hostile samples were refused and counted, the bridge still runs
for link in /bc /cam /state; do
    dropped=$(counter b "$link" dropped)
    if [ "${dropped:-0}" -gt 0 ] 2>/dev/null && kill -0 "$BRIDGE_B" 2>/dev/null; then
        pass "hostile samples on $link dropped and counted ($dropped)"
    else
        fail "hostile samples on $link: dropped=${dropped:-?}"
    fi
done

# ---- 6: the tool shows imported segments as bridged
if on_host b "$SHMKIT" ls | grep -E '^/bc ' | grep -q 'import'; then pass "shmkit ls shows /bc as bridged"; else
    on_host b "$SHMKIT" ls; fail "shmkit ls does not show /bc as bridged"; fi
if on_host b "$SHMKIT" info /bc | grep -Eq '^bridge +import'; then pass "shmkit info shows the bridge"; else
    on_host b "$SHMKIT" info /bc; fail "shmkit info does not show the bridge"; fi

# ---- 7: both bridges killed and restarted mid-stream
# 8000 messages at 2000 a second from t=3 s; a's bridge dies at t=4 s (back at 4.5), b's at 5.5 s
# (back at 6), both while messages flow (an importer killed before it delivered anything cannot
# know where it stood).
t0=$(date +%s.%N)
sleep_until() { sleep "$(awk -v t0="$t0" -v at="$1" -v now="$(date +%s.%N)" 'BEGIN { d = t0 + at - now; print (d > 0 ? d : 0) }')"; }
on_host_bg a "$logs/bc2-writer.log" "$PEER" bcast-write /bc2 8000 80 2000 --start-after 3 --linger 60
expect "link /bc2 matched on b" on_host b "$PEER" kv-expect /bc2.bridge peers 1 3 >/dev/null
on_host_bg b "$logs/bc2-reader.log" "$PEER" bcast-read /bc2 8000 60 --exact-loss
BC2_READER=$HOSTS_LAST_PID
sleep_until 4
kill -KILL "$BRIDGE_A"; sleep 0.5; bridge_a 2
sleep_until 5.5
kill -KILL "$BRIDGE_B"; sleep 0.5; bridge_b 2
if wait "$BC2_READER"; then
    bc2=$(tail -n 1 "$logs/bc2-reader.log")
    echo "    $bc2"
    received=$(echo "$bc2" | sed -n 's/.*received=\([0-9]*\).*total_lost=\([0-9]*\).*/\1 \2/p')
    set -- $received
    if [ "$(( $1 + $2 ))" -eq 8000 ] && [ "$2" -gt 0 ]; then
        pass "bridges killed and restarted: 8000 = $1 received + $2 counted lost, in order"
    else
        fail "bridges killed and restarted: received + lost != 8000, or no loss while b's bridge was down"
    fi
else
    cat "$logs/bc2-reader.log"
    fail "bridges killed and restarted: the reader on b did not finish"
fi

# ---- 8: kv after a restart: a writes, then b writes later (b's value wins on both); b's bridge is
# killed and restarted; it must come back to the settled value, not to a's older one (which a's
# bridge would still offer late joiners if it kept only its own writes).
on_host a "$PEER" kv-set /state speed v0 >/dev/null
sleep 0.5
on_host b "$PEER" kv-set /state speed v1 >/dev/null
expect "kv: b's later write reaches a" on_host a "$PEER" kv-expect /state speed v1 10 >/dev/null
kill -KILL "$BRIDGE_B"; sleep 0.3; bridge_b 3
on_host b "$PEER" kv-expect /state.bridge peers 1 10 >/dev/null
sleep 2
speed_a=$(on_host a "$PEER" kv-get /state speed)
speed_b=$(on_host b "$PEER" kv-get /state speed)
echo "    speed on a: $speed_a, on b: $speed_b"
if [ "$speed_a" = v1 ] && [ "$speed_b" = v1 ]; then pass "kv: a restarted bridge keeps the settled value"; else
    fail "kv: after b's bridge restarted the hosts disagree"; fi

if [ "$failures" -ne 0 ]; then
    dump_logs
    echo "$failures check(s) failed"
    exit 1
fi
echo "all bridge checks passed"
