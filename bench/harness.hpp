// Cross-process benchmark plumbing: a forked peer pinned to another core, anonymous shared
// memory, and the physical floors every result is divided by.
#pragma once

#include <sched.h>
#include <sys/mman.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <new>
#include <string>

#include <benchmark/benchmark.h>

namespace shmkit::bench {

inline void pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu % static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN))), &set);
    ::sched_setaffinity(0, sizeof set, &set);
}

inline void unpin() {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < CPU_SETSIZE; ++i) CPU_SET(i, &set);
    ::sched_setaffinity(0, sizeof set, &set);
}

// Page-aligned anonymous memory shared with forked children.
template <class T>
T* shared_new() {
    void* p = ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) std::abort();
    return new (p) T();
}
template <class T>
void shared_delete(T* p) {
    p->~T();
    ::munmap(p, sizeof(T));
}

// A forked process running `body` on `cpu` (-1: unpinned); joined on destruction.
class peer {
public:
    peer(int cpu, const std::function<void()>& body) {
        pid_ = ::fork();
        if (pid_ == 0) {
            if (cpu >= 0) pin_to_cpu(cpu);
            body();
            ::_exit(0);
        }
    }
    ~peer() {
        int status;
        ::waitpid(pid_, &status, 0);
    }
    pid_t pid() const { return pid_; }

private:
    pid_t pid_;
};

// Floors: round-trip nanoseconds between two processes pinned to CPUs 0 and 1 (spinning on a
// shared atomic, or blocking in futex wait/wake), and nanoseconds to memcpy `bytes` cache-hot.
// On a shared VM the core-to-core latency drifts by several times from minute to minute, so
// each measurement takes ~10 ms and benchmarks take one right before and right after their own
// timed loop.
double measure_atomic_rtt_ns(std::size_t bytes = 0);
double measure_futex_rtt_ns(std::size_t bytes = 0);
double memcpy_floor_ns(std::size_t bytes);

// A segment name for a benchmark, unique to this process.
inline std::string bench_segment_name(const char* tag) {
    return std::string("/shmkit-bench-") + tag + "-" + std::to_string(::getpid());
}

// CPU seconds this thread has used: a writer's cost, whatever the scheduler does with the
// other processes on a 2-core machine.
inline double thread_cpu_seconds() {
    timespec ts;
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// The counters of a round-trip benchmark: its time, the floor measured around it, the ratio.
inline void report_round_trip(benchmark::State& state, double rtt_ns, double floor_ns) {
    state.counters["rtt_ns"] = rtt_ns;
    state.counters["floor_ns"] = floor_ns;
    state.counters["ratio_to_floor"] = rtt_ns / floor_ns;
}

// A writer's rate with `readers` busy readers as a ratio to the same benchmark's zero-reader
// run (registered first, so it has run by then); `no_readers` keeps that rate.
inline void report_ratio_to_no_readers(benchmark::State& state, int readers, double rate, double* no_readers) {
    if (readers == 0) *no_readers = rate;
    if (*no_readers > 0) state.counters["ratio_to_no_readers"] = rate / *no_readers;
}

}  // namespace shmkit::bench
