// Wait/notify over a 32-bit word in shared memory: the one mechanism every blocking read uses.
//
// Notifiers skip the system call entirely while nobody waits: waiters announce themselves in
// `waiters` before their final check, and notifiers look at `waiters` after publishing. A
// barrier on each side (a Dekker pair) guarantees that at least one of them sees the other, so
// a wake-up is never lost and an idle channel costs no syscalls and no wake-ups. Notifying is
// the frequent side (a light barrier: no CPU fence where membarrier is available), going to
// sleep the rare one (a heavy barrier).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "shmkit/atomic.hpp"
#include "shmkit/errc.hpp"
#include "shmkit/os.hpp"

namespace shmkit {

struct wait_word {
    atomic_u32 sequence;  // the futex word: bumped by every notify that has someone to wake
    atomic_u32 waiters;   // processes between announcing themselves and leaving the wait
};
static_assert(sizeof(wait_word) == 8);
static_assert(offsetof(wait_word, sequence) == 0);
static_assert(offsetof(wait_word, waiters) == 4);

using nanoseconds = std::chrono::nanoseconds;
inline constexpr nanoseconds wait_forever = nanoseconds::max();

// Deadline on the monotonic clock; saturates instead of overflowing.
inline std::uint64_t deadline_after(nanoseconds timeout) noexcept {
    if (timeout.count() < 0) return os::monotonic_ns();
    if (timeout == wait_forever) return os::forever;
    const std::uint64_t now = os::monotonic_ns();
    const auto ns = static_cast<std::uint64_t>(timeout.count());
    return ns > os::forever - now ? os::forever : now + ns;
}

// Call after the release store that makes new state visible. `mode` is the segment's.
inline void notify_all(wait_word& w, barrier_mode mode) noexcept {
    // Orders the caller's publishing store before the load of `waiters` below (store->load
    // order, which release/acquire does not give). Pairs with the heavy barrier in wait_until:
    // either this load sees the waiter, or the waiter's re-check sees our data.
    light_barrier(mode);
    if (w.waiters.load(order::relaxed) == 0) return;
    // Release: a waiter that reads the new sequence (acquire) also sees the published state.
    w.sequence.fetch_add(1, order::release);
    os::futex_wake_all(&w.sequence.raw);
}

struct wait_options {
    // Polls of the condition (with a CPU pause between) before going to sleep: a few
    // microseconds that save the sleep and wake-up (a membarrier and two futex calls) when the
    // next message is about to arrive anyway. 0 sleeps at once.
    std::uint32_t spin = 64;
    bool return_on_signal = false;   // a signal ends the wait with `interrupted` (else it resumes)
};

// Blocks until ready() is true or the deadline passes. ready() must be a cheap, non-consuming
// check whose loads are acquire (it is re-run after every wake-up and may be run spuriously).
// Returns ok, timeout, or interrupted (only with options.return_on_signal).
template <class Ready>
errc wait_until(wait_word& w, barrier_mode mode, Ready&& ready, std::uint64_t deadline_ns,
                wait_options options = {}) noexcept {
    if (ready()) return errc::ok;
    for (std::uint32_t i = 0; i < options.spin; ++i) {
        cpu_relax();
        if (ready()) return errc::ok;
    }
    for (;;) {
        w.waiters.fetch_add(1, order::relaxed);
        // The announcement above must be visible before the re-check below reads the data
        // (store->load order). Pairs with the light barrier in notify_all.
        heavy_barrier(mode);
        // Acquire: if a notifier bumped the sequence, its published data is visible to ready().
        const std::uint32_t seen = w.sequence.load(order::acquire);
        if (ready()) {
            w.waiters.fetch_sub(1, order::relaxed);
            return errc::ok;
        }
        const std::uint64_t now = os::monotonic_ns();
        if (now >= deadline_ns) {
            w.waiters.fetch_sub(1, order::relaxed);
            return errc::timeout;
        }
        // The kernel compares the word with `seen` atomically with going to sleep, so a notify
        // between our check and the sleep makes this return at once instead of being lost.
        const errc e = os::futex_wait(&w.sequence.raw, seen,
                                      deadline_ns == os::forever ? os::forever : deadline_ns - now);
        w.waiters.fetch_sub(1, order::relaxed);
        if (e == errc::interrupted && options.return_on_signal) return e;
        if (ready()) return errc::ok;
    }
}

// A source select() can wait on: its wait word, a cheap non-consuming readiness check, and
// optionally how long a wait may sleep before the source needs a look (a command reader
// waiting on a claim whose writer may have died). Every reader kind provides waitable().
struct select_source {
    wait_word* word = nullptr;
    barrier_mode barriers = barrier_mode::fences;  // the source's segment's
    bool (*ready)(void* context) = nullptr;
    void* context = nullptr;
    std::uint64_t (*recheck_after_ns)(void* context) = nullptr;  // 0 or nullptr: no limit
};

// The select_source of a reader whose readiness is its poll() member.
template <class Reader>
select_source poll_source(wait_word& word, barrier_mode mode, Reader* reader) noexcept {
    select_source s;
    s.word = &word;
    s.barriers = mode;
    s.ready = [](void* self) { return static_cast<Reader*>(self)->poll(); };
    s.context = reader;
    return s;
}

}  // namespace shmkit
