// Cross-process benchmark plumbing: a forked peer pinned to another core, anonymous shared
// memory, and the physical floors every result is divided by.
#pragma once

#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <new>

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

}  // namespace shmkit::bench
