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

// Floors, measured in this run (and cached): round-trip nanoseconds between two processes on
// two cores, and nanoseconds to memcpy `bytes` cache-hot.
double atomic_rtt_floor_ns();
double futex_rtt_floor_ns();
double memcpy_floor_ns(std::size_t bytes);
void record_atomic_floor(double ns);
void record_futex_floor(double ns);

}  // namespace shmkit::bench
