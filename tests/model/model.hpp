// The model-checking build's side of the core's atomics (core/include/shmkit/detail/atomic.hpp).
//
// The core is compiled with SHMKIT_MODEL_CHECK: every atomic access to shared memory
// (shm_atomic, load_shared/store_shared, the payload copies), every fence and every futex call
// comes here. Each check lays a segment out in `memory` in before(), and each 4-byte unit of it
// gets a shadow: a Relacy atomic that holds the value as the C++ memory model sees it, so a
// relaxed load may return an older store, and only release/acquire pairs and fences order
// anything. The checker then runs the threads over many schedules and reports a failed
// assertion, a deadlock (a lost wake-up) or a livelock with the history that led to it.
//
// Processes are threads: thread i is process i + 1 (os::self()). A thread "dies" by marking
// itself dead and returning: process_alive() then says so, as the OS would after a crash.
// Scope: the fences barrier mode only (membarrier has no model here); waits with a timeout may
// time out at any point (the checker explores both outcomes). Exit watches (os::watch_exit) are
// modelled: a process that dies fires the watches on it, as the port's watcher thread does when
// the kernel reports the exit, so lock waits sleep without timeouts as they do on Linux.
#pragma once

#include <relacy/relacy.hpp>

#include <cstdint>
#include <cstring>

namespace model_check {

inline constexpr unsigned max_processes = 8;

struct region {
    std::uint8_t* base = nullptr;
    std::size_t size = 0;
    rl::atomic<std::uint64_t>* shadows = nullptr;  // one per 4 bytes
};

// The memory under test of the running check, and the simulated processes' fate.
struct exit_watch_slot {
    bool used = false;
    std::uint32_t pid = 0;
    std::uint32_t* word = nullptr;
    std::uint32_t* fired = nullptr;
};

struct world {
    region memory;
    bool setting_up = false;  // in before(): os::self() is a setup process, not a thread's
    // Process i + 1 has died. Written by die() and read by process_alive() with seq_cst: the
    // kernel's answer is never stale once the process is gone, and everything the process did
    // before its exit happens before anyone learns of it (its exit and the /proc read that
    // reports it are full barriers).
    rl::atomic<unsigned>* dead = nullptr;
    std::uint64_t clock_ns = 0;
    exit_watch_slot watches[16];
};
world& current();

// A segment-sized piece of memory with its shadows. `Bytes` is a multiple of 64.
template <std::size_t Bytes>
struct shadowed_memory {
    static constexpr std::size_t size = Bytes;
    std::uint8_t storage[Bytes + 64];  // the checker allocates suites without over-alignment
    std::uint8_t* bytes = nullptr;     // 64-byte aligned, in `storage`
    rl::atomic<std::uint64_t> shadows[Bytes / 4];
    rl::atomic<unsigned> dead[max_processes];

    // Call at the start of before(): zeroes the memory, starts setting up.
    void begin_setup() {
        const auto address = reinterpret_cast<std::uintptr_t>(storage);
        bytes = storage + (64 - address % 64) % 64;
        std::memset(bytes, 0, Bytes);
        for (auto& s : shadows) s($).store(0, rl::mo_relaxed);
        for (auto& d : dead) d($).store(0, rl::mo_relaxed);
        world& w = current();
        w = world{};
        w.memory = region{bytes, Bytes, shadows};
        w.dead = dead;
        w.setting_up = true;
    }
    // Call at the end of before(), once the segment is laid out: every shadow takes the
    // memory's value (an 8-byte field's whole value at its 8-aligned unit), plain stores of the
    // setup included.
    void end_setup() {
        for (std::size_t i = 0; i < Bytes / 4; ++i) {
            std::uint64_t v = 0;
            std::memcpy(&v, bytes + 4 * i, (4 * i) % 8 == 0 ? 8 : 4);
            shadows[i]($).store(v, rl::mo_relaxed);
        }
        current().setting_up = false;
    }
};

// Marks the calling thread's process dead and fires the exit watches on it (then it returns from
// thread(): what it held stays held, as after a crash).
void die();

}  // namespace model_check
