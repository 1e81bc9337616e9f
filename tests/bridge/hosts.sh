# Two "hosts" on one machine for the bridge tests, to be sourced by a bash test script (as root):
#
#   . tests/bridge/hosts.sh
#   hosts_can_run || exit 77          # prints "skipped: <reason>" when it cannot work here
#   hosts_up                          # hosts a and b; hosts_down runs at exit
#   on_host a cmd args...             # run in host a (its network and its own /dev/shm)
#   on_host_bg b log cmd args...      # the same in the background; its pid in HOSTS_LAST_PID
#   host_iface a; host_addr b         # the veth interface of a host, its IPv4 address
#   CYCLONEDDS_URI=$(cyclone_uri a)   # Cyclone DDS bound to that host's veth interface
#   hosts_down                        # stop everything; safe to call again
#
# A host is a network namespace (one end of a veth pair, 10.77.K.1 or .2/24, and lo) plus a
# mount namespace of its own whose /dev/shm is a private tmpfs: network namespaces share the
# real /dev/shm, and the same segment name must exist independently on both hosts. Both
# namespaces are persistent (bind-mounted namespace files), so every command entered into a host
# sees the same network and the same /dev/shm.
#
# Names carry the shell's pid ($$), so parallel runs do not clash.

HOSTS_PREFIX=""     # shmkit-<pid>: the netns are <prefix>-a and <prefix>-b
HOSTS_DIR=""        # temp dir holding the mount namespace files a.mnt and b.mnt
HOSTS_NET=""        # K of 10.77.K.0/24
HOSTS_PIDS=""       # processes started by on_host_bg
HOSTS_LAST_PID=""   # the last of them

_hosts_check_name() {
    case "${1-}" in
        a | b) ;;
        *) echo "hosts.sh: no host '${1-}' (a or b)" >&2; return 2 ;;
    esac
}

# Non-zero, with one line "skipped: <reason>", where the namespaces cannot be made here.
hosts_can_run() {
    if [ "$(id -u)" != 0 ]; then echo "skipped: needs root (network and mount namespaces)"; return 1; fi
    local tool
    for tool in ip unshare nsenter mount umount; do
        if ! command -v "$tool" >/dev/null 2>&1; then echo "skipped: $tool not found"; return 1; fi
    done
    # A throwaway netns, entered once: fails in containers without CAP_SYS_ADMIN or netns support.
    local probe="shmkit-$$-probe"
    if ! ip netns add "$probe" >/dev/null 2>&1; then echo "skipped: ip netns add fails here"; return 1; fi
    if ! nsenter --net="/run/netns/$probe" -- true >/dev/null 2>&1; then
        ip netns del "$probe" >/dev/null 2>&1 || true
        echo "skipped: nsenter into a network namespace fails here"; return 1
    fi
    ip netns del "$probe" >/dev/null 2>&1 || true
    # A throwaway mount namespace with its own /dev/shm.
    if ! unshare --mount --propagation private sh -c 'mount -t tmpfs -o mode=1777 tmpfs /dev/shm' >/dev/null 2>&1; then
        echo "skipped: unshare --mount (or a tmpfs on /dev/shm in it) fails here"; return 1
    fi
    return 0
}

hosts_up() {
    if [ -n "$HOSTS_PREFIX" ]; then echo "hosts.sh: hosts already up" >&2; return 1; fi
    HOSTS_PREFIX="shmkit-$$"
    HOSTS_NET=$(( $$ % 250 + 1 ))
    trap hosts_down EXIT
    # Without these, a signal would end the shell without running the EXIT trap.
    trap 'exit 130' INT
    trap 'exit 143' TERM
    # Every step is checked here: set -e does not apply inside a function called from `||`.
    _hosts_build || { echo "hosts.sh: hosts_up failed" >&2; hosts_down; return 1; }
}

_hosts_build() {
    local h
    HOSTS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/shmkit-hosts.XXXXXX") || return
    # unshare --mount=FILE bind-mounts the new namespace onto FILE, which the kernel refuses on a
    # shared mount (the usual propagation of /): the directory becomes a private mount first.
    mount --bind "$HOSTS_DIR" "$HOSTS_DIR" || return
    mount --make-private "$HOSTS_DIR" || return
    # The mount namespaces before the netns: made after them, they would hold private copies of
    # the /run/netns/* mounts and keep the netns alive after `ip netns del`.
    for h in a b; do
        touch "$HOSTS_DIR/$h.mnt" || return
        unshare --mount="$HOSTS_DIR/$h.mnt" --propagation private \
            sh -c 'mount -t tmpfs -o mode=1777,size=256m tmpfs /dev/shm' || return
    done
    ip netns add "$HOSTS_PREFIX-a" || return
    ip netns add "$HOSTS_PREFIX-b" || return
    # The veth ends are born inside their netns (never in the real one, where names could clash).
    ip link add "$(host_iface a)" netns "$HOSTS_PREFIX-a" type veth peer name "$(host_iface b)" \
        netns "$HOSTS_PREFIX-b" || return
    for h in a b; do
        ip -n "$HOSTS_PREFIX-$h" link set lo up || return
        ip -n "$HOSTS_PREFIX-$h" addr add "$(host_addr "$h")/24" dev "$(host_iface "$h")" || return
        ip -n "$HOSTS_PREFIX-$h" link set "$(host_iface "$h")" up || return
    done
}

# Interface names are at most 15 bytes: sk<pid>a / sk<pid>b (pids have at most 7 digits).
host_iface() {
    _hosts_check_name "${1-}" || return
    echo "sk$$$1"
}

host_addr() {
    _hosts_check_name "${1-}" || return
    case "$1" in
        a) echo "10.77.$HOSTS_NET.1" ;;
        b) echo "10.77.$HOSTS_NET.2" ;;
    esac
}

# Runs a command in a host: its network namespace and its mount namespace (its /dev/shm).
on_host() {
    _hosts_check_name "${1-}" || return
    local h=$1
    shift
    nsenter --mount="$HOSTS_DIR/$h.mnt" --net="/run/netns/$HOSTS_PREFIX-$h" -- "$@"
}

# on_host in the background, stdout and stderr to LOGFILE; the pid in HOSTS_LAST_PID (nsenter
# execs the command, so it is the command's own pid). hosts_down stops it.
on_host_bg() {
    _hosts_check_name "${1-}" || return
    local h=$1 log=$2
    shift 2
    nsenter --mount="$HOSTS_DIR/$h.mnt" --net="/run/netns/$HOSTS_PREFIX-$h" -- "$@" >"$log" 2>&1 &
    HOSTS_LAST_PID=$!
    HOSTS_PIDS="$HOSTS_PIDS $HOSTS_LAST_PID"
}

# A CYCLONEDDS_URI value: Cyclone on this host's veth only (multicast discovery works across
# the pair), and no trace file.
cyclone_uri() {
    _hosts_check_name "${1-}" || return
    echo "<CycloneDDS><Domain><General><Interfaces><NetworkInterface name=\"$(host_iface "$1")\"/></Interfaces></General><Tracing><Verbosity>none</Verbosity></Tracing></Domain></CycloneDDS>"
}

# Stops the background processes (TERM, then KILL after 5 s), deletes the netns (the veth pair
# goes with them), drops the mount namespaces and the temp dir. Safe to call twice.
hosts_down() {
    local pid tries
    for pid in $HOSTS_PIDS; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in $HOSTS_PIDS; do
        tries=0
        while kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 50 ]; do sleep 0.1; tries=$((tries + 1)); done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    HOSTS_PIDS=""
    HOSTS_LAST_PID=""
    if [ -n "$HOSTS_PREFIX" ]; then
        ip netns del "$HOSTS_PREFIX-a" 2>/dev/null || true
        ip netns del "$HOSTS_PREFIX-b" 2>/dev/null || true
    fi
    if [ -n "$HOSTS_DIR" ] && [ -d "$HOSTS_DIR" ]; then
        # The last reference to a mount namespace (no process left in it): its tmpfs goes too.
        umount "$HOSTS_DIR/a.mnt" 2>/dev/null || true
        umount "$HOSTS_DIR/b.mnt" 2>/dev/null || true
        umount "$HOSTS_DIR" 2>/dev/null || true
        rm -rf "$HOSTS_DIR"
    fi
    HOSTS_PREFIX=""
    HOSTS_DIR=""
    return 0
}
