// The coordinator's side: run one system through one measurement in fresh child processes and
// turn what they recorded into figures.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "peers.hpp"

namespace shmkit::peers {

struct outcome {
    std::string error;  // not empty: the benchmark is skipped with this message
    // Round trips and frames (nanoseconds).
    std::uint64_t samples = 0;
    double p50 = 0, p90 = 0, p99 = 0, mean = 0;
    // Throughput.
    std::uint64_t written = 0;
    double msgs_per_s = 0, msgs_per_s_wall = 0, received_share = 0, wall_s = 0;
    // Idle.
    double wakeups_per_s = 0;
    double daemon_wakeups_per_s = -1;  // negative: the system has no daemon
};

outcome run_benchmark(system_id s, params p);

// argv[1] == child_flag: this process is a child; child_main runs its role and returns its exit code.
inline constexpr const char* child_flag = "--shmkit-peers-child";
int child_main(int argc, char** argv);

// A private directory for the run's files (ZeroMQ endpoints, the RouDi configuration and log):
// made by main, emptied and removed at the end.
void make_scratch_dir();
const char* scratch_dir() noexcept;
void remove_scratch_dir() noexcept;  // async-signal-safe

// Kills the children of the benchmark in flight, stops RouDi and removes the run's files:
// for signal handlers (async-signal-safe).
void emergency_cleanup() noexcept;
// Names of the system's objects outside the scratch directory (Boost queues, in /dev/shm) that
// emergency_cleanup must remove: at most two at a time.
void note_shm_names(const char* first, const char* second) noexcept;

// Context switches of every thread of a process so far (/proc/<pid>/task/*/status).
std::uint64_t context_switches(pid_t pid);

// For the benchmark's context.
std::string cpu_model();
std::string kernel_release();

}  // namespace shmkit::peers
