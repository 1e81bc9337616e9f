// shmkit_bench_peers: shmkit and its peers (iceoryx, Boost.Interprocess message_queue,
// ZeroMQ) measured by one harness in one run.
//
// The shape, the same for every system: the benchmark process is only a coordinator. For each
// benchmark it maps a fresh control block (a memfd), lets the system prepare what lives
// outside the processes (shmkit rings in that memory, Boost queues, RouDi), and starts the
// processes that do the work by re-executing this binary in a child role: a leader pinned to
// CPU 0 and its follower(s), the first pinned to CPU 1. Warm-up rounds are discarded, then every
// operation is timed on its own (p50, p90, p99), then the same number of rounds again untimed
// (the batch mean). Every system implements one small "link" (send, receive, and the zero-copy
// calls where it has them) and the role functions below drive all links alike.
//
// Why re-execute rather than fork: an iceoryx process must initialise its runtime itself (once,
// under a unique name) and leave through exit(), whose destructors deregister it from RouDi; a
// forked child leaving through exit() would also flush the coordinator's buffered output and
// run its atexit handlers and static destructors a second time. A re-executed child is a process
// of its own from the start: the peers' libraries (iceoryx's runtime, ZeroMQ's context and its
// I/O threads, Boost's queues) are only ever initialised there, never in the coordinator, so
// nothing of one benchmark leaks into the next, and every system is run the same way. The
// control block is handed over as a file descriptor (no name in /dev/shm).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "shmkit/detail/atomic.hpp"

namespace shmkit::peers {

// The system tokens of the benchmark names, in no particular order (registration order is
// main.cpp's).
enum class system_id : std::uint8_t { floor, shmkit_broadcast, shmkit_spsc, shmkit_channel, iceoryx, boost_mq, zeromq };
const char* token(system_id s) noexcept;
bool parse_system(const char* text, system_id* out) noexcept;

enum class kind : std::uint8_t {
    round_trip,  // ping, echoed pong
    frame,       // a frame to the follower, a tiny ack back
    throughput,  // one writer, N busy readers
    idle,        // a reader blocked on an idle channel
};

inline constexpr std::size_t frame_bytes = 1920u * 1080u * 3u;  // 1080p RGB24: 6,220,800
inline constexpr std::size_t page_bytes = 4096;
inline constexpr std::size_t ack_bytes = 8;
inline constexpr std::size_t message_capacity = 8192;  // round-trip payloads (64 B, 4 KiB)
inline constexpr std::uint32_t max_readers = 8;
inline constexpr std::uint64_t no_window = ~std::uint64_t{0};

// What the coordinator asks of the children: the first thing in the control block.
struct params {
    kind what = kind::round_trip;
    bool blocking = false;   // round trips: both sides sleep in the OS; otherwise they spin
    bool zero_copy = false;  // frames: filled and read in place
    std::uint32_t bytes = 64;
    std::uint32_t readers = 1;     // throughput: reader processes
    std::uint32_t warmup = 0;      // rounds (frames) discarded first
    std::uint32_t min_samples = 0, max_samples = 0;
    std::uint64_t sample_budget_ns = 0;  // the timed phase aims at this, within [min, max] samples
    std::uint64_t duration_ns = 0;       // throughput: the writer's window
    std::uint64_t serial = 0;            // this benchmark's number in this run
    std::uint64_t arena_offset = 0, arena_bytes = 0;  // the system's own part of the mapping
    std::uint64_t samples_offset = 0, ends_offset = 0;
    std::uint32_t sample_slots = 0;  // entries in each of the two sample arrays
    char dir[160] = {};   // a private temporary directory (ZeroMQ endpoints)
    char name[64] = {};   // a prefix for named objects (Boost queues, iceoryx services)
};

// The control block, at the start of the mapping both children share with the coordinator.
struct control {
    params p;
    std::atomic<std::uint32_t> ready{0};         // processes set up and connected
    std::atomic<std::uint32_t> readers_seen{0};  // throughput: readers that received a probe
    std::atomic<std::uint32_t> stop{0};          // the leader's next message is its last
    std::atomic<std::uint32_t> finished{0};      // processes done with their role
    alignas(64) atomic_u32 go{};                 // idle: the coordinator lets the writer finish
    alignas(64) std::atomic<std::uint64_t> window_begin{no_window};  // throughput: first counted seq
    // Results.
    std::uint64_t samples = 0;        // timed rounds (frames)
    std::uint64_t batch_rounds = 0, batch_ns = 0;
    std::uint64_t written = 0;        // throughput
    double writer_cpu_s = 0, writer_wall_s = 0;
    std::atomic<std::uint64_t> received[max_readers] = {};
    std::atomic<std::uint32_t> failed{0};
    char error[512] = {};
};

// A child that cannot go on throws this; its role's caller records the text in the control
// block (the first one wins) and exits non-zero, and the coordinator skips the benchmark with it.
struct failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};
[[noreturn]] void fail(const std::string& what);

// Where a child's arrays are.
inline std::uint64_t* sample_array(control& c) {
    return reinterpret_cast<std::uint64_t*>(reinterpret_cast<std::uint8_t*>(&c) + c.p.samples_offset);
}
inline std::uint64_t* end_array(control& c) {
    return reinterpret_cast<std::uint64_t*>(reinterpret_cast<std::uint8_t*>(&c) + c.p.ends_offset);
}
inline std::uint8_t* arena(control& c) { return reinterpret_cast<std::uint8_t*>(&c) + c.p.arena_offset; }

std::uint64_t now_ns() noexcept;
double process_cpu_seconds() noexcept;

// ---- per system: set-up in the coordinator, and the children's side --------------------------

// Each system (sys_*.cpp) provides these. arena_bytes: how much of the mapping it needs for
// these parameters. prepare: called in the coordinator before the children start (formats
// rings, creates queues, starts RouDi); an empty string, or why the benchmark must be skipped.
// cleanup: after the children have gone, also after a failure. run_child: a child's whole life
// in `index` (0: leader or writer; 1..: follower or readers); returns the exit code.
// daemon_pid: a process of the system's own that serves the children (iceoryx's RouDi), or 0.
// version: of the library compiled in, "missing" when it was not found (empty for shmkit's own).
struct system_ops {
    const char* (*unavailable)();  // null pointer if the system is built in, else why not
    std::uint64_t (*arena_bytes)(const params& p);
    std::string (*prepare)(control& c);
    void (*cleanup)(control& c);
    int (*run_child)(control& c, std::uint32_t index);
    int (*daemon_pid)();
    std::string (*version)();
};
const system_ops& ops_of(system_id s) noexcept;

// The parts most systems share: built in, no memory of the mapping, nothing to clean up, no
// daemon, no version of their own.
inline const char* built_in() { return nullptr; }
inline std::uint64_t no_arena(const params&) { return 0; }
inline void no_cleanup(control&) {}
inline int no_daemon() { return 0; }
inline std::string no_version() { return {}; }

// A peer not found at configure time: every benchmark of it is skipped with Why().
inline std::string nothing_to_prepare(control&) { return {}; }
inline int no_child(control&, std::uint32_t) { return 1; }
inline std::string missing_version() { return "missing"; }
template <const char* (*Why)()>
constexpr system_ops missing_system_ops() {
    return {Why, no_arena, nothing_to_prepare, no_cleanup, no_child, no_daemon, missing_version};
}

// A link that only copies (every peer but shmkit's channel and iceoryx): the zero-copy calls of
// the role template exist but are never used.
struct copies_only {
    std::uint8_t* loan(std::size_t) { return nullptr; }
    void publish(std::size_t) {}
    const std::uint8_t* take(std::size_t*) { return nullptr; }
    void release() {}
};

extern const system_ops floor_ops, shmkit_broadcast_ops, shmkit_spsc_ops, shmkit_channel_ops, iceoryx_ops,
    boost_mq_ops, zeromq_ops;

}  // namespace shmkit::peers
