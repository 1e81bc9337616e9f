// Wait/notify over a 32-bit word in shared memory: the one mechanism every blocking read uses.
//
// Notifiers skip the system call entirely while nobody waits: waiters announce themselves in
// `waiters` before their final check, and notifiers look at `waiters` after publishing. A
// barrier on each side (a Dekker pair) guarantees that at least one of them sees the other, so
// a wake-up is never lost and an idle channel costs no syscalls and no wake-ups. Notifying is
// the frequent side (a light barrier: no CPU fence where membarrier is available), going to
// sleep the rare one (a heavy barrier).
//
// A waiter killed in its sleep cannot take its announcement back. The count heals itself: a
// notify whose wake-up found nobody asleep although the count said otherwise starts a new
// epoch with a count of zero and wakes everyone, and live waiters announce themselves again in
// it (they check, after announcing, that their epoch still stands). So a dead waiter costs one
// extra wake-up, not a system call on every later notify. Design: core/SPEC.md "Wait word".
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "shmkit/detail/atomic.hpp"
#include "shmkit/errc.hpp"
#include "shmkit/os.hpp"
#include "shmkit/wait.hpp"
#include "shmkit/wire/wait.hpp"

namespace shmkit {

inline std::uint32_t waiter_count(std::uint64_t waiters) noexcept { return static_cast<std::uint32_t>(waiters); }
inline std::uint32_t waiter_epoch(std::uint64_t waiters) noexcept { return static_cast<std::uint32_t>(waiters >> 32); }

// A notify found nobody asleep although the count says someone waits: the count holds waiters
// that died (or, harmlessly, live ones that were about to sleep). Starts a new epoch with a count
// of zero and wakes every waiter, so the live ones announce themselves again.
void heal_waiters(wait_word& w) noexcept;

namespace detail {
// Announces a wait on `w`; returns the epoch the announcement counts in.
inline std::uint32_t announce_wait(wait_word& w) noexcept {
    return waiter_epoch(w.waiters.fetch_add(1, order::relaxed));
}
// Whether an announcement made in `epoch` still counts: false once a heal has discarded it.
// Call after loading the sequence (acquire), see wait_until.
inline bool announcement_stands(const wait_word& w, std::uint32_t epoch) noexcept {
    return waiter_epoch(w.waiters.load(order::relaxed)) == epoch;
}
// Takes an announcement back, unless a heal already discarded it (the epoch moved on).
inline void withdraw_wait(wait_word& w, std::uint32_t epoch) noexcept {
    std::uint64_t v = w.waiters.load(order::relaxed);
    while (waiter_epoch(v) == epoch && waiter_count(v) != 0 &&
           !w.waiters.compare_exchange(v, v - 1, order::relaxed, order::relaxed)) {
    }
}
}  // namespace detail

// The deadline of a zero or negative timeout: one long past, so every wait ends at once, and
// one a caller can tell from a deadline that merely passed ("asked not to wait") without
// reading the clock again.
inline constexpr std::uint64_t no_wait = 0;

// Deadline on the monotonic clock; saturates instead of overflowing.
inline std::uint64_t deadline_after(nanoseconds timeout) noexcept {
    if (timeout.count() <= 0) return no_wait;
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
    if (waiter_count(w.waiters.load(order::relaxed)) == 0) return;
    // Release: a waiter that reads the new sequence (acquire) also sees the published state.
    w.sequence.fetch_add(1, order::release);
    if (os::futex_wake_all(&w.sequence.raw) == 0) heal_waiters(w);
}

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
        const std::uint32_t epoch = detail::announce_wait(w);
        // The announcement above must be visible before the re-check below reads the data
        // (store->load order). Pairs with the light barrier in notify_all.
        heavy_barrier(mode);
        // Acquire: if a notifier bumped the sequence, its published data is visible to ready().
        // It also orders the epoch check below after this load: a heal bumps the sequence
        // (release) after starting its epoch, so if `seen` includes the heal, the check fails;
        // if it does not, the heal's bump makes the futex_wait below return at once.
        const std::uint32_t seen = w.sequence.load(order::acquire);
        // (withdraw_wait leaves an announcement a heal discarded alone.)
        if (ready()) {
            detail::withdraw_wait(w, epoch);
            return errc::ok;
        }
        const std::uint64_t now = os::monotonic_ns();
        if (now >= deadline_ns) {
            detail::withdraw_wait(w, epoch);
            return errc::timeout;
        }
        // Healed away: announce again. Only after the checks above, so a peer that keeps
        // changing the epoch cannot keep this loop from seeing its deadline.
        if (!detail::announcement_stands(w, epoch)) continue;
        // The kernel compares the word with `seen` atomically with going to sleep, so a notify
        // between our check and the sleep makes this return at once instead of being lost.
        const errc e = os::futex_wait(&w.sequence.raw, seen,
                                      deadline_ns == os::forever ? os::forever : deadline_ns - now);
        detail::withdraw_wait(w, epoch);
        if (e == errc::interrupted && options.return_on_signal) return e;
        if (ready()) return errc::ok;
    }
}

// The blocking form of a reader's non-blocking call, written once for every kind. `attempt()`
// is the try_ call (a result<T>); while it says `empty`, this sleeps on the reader's wait word
// until `ready()` and tries again, until `deadline_ns` (then timeout). Hooks, all optional in
// the overloads below:
// - `word()` gives the wait word; it is called only to sleep, after attempt() said empty, which
//   a closed handle's attempt() never says (it says not_open): a closed handle is never touched.
// - `refuse_sleep()` returns an errc that ends the call instead of sleeping (a read-only mapping
//   cannot announce a wait: access_denied), or ok. A call that asked not to wait (deadline
//   no_wait: a zero or negative timeout) needs no sleep: it says timeout, as it would on a
//   handle that may sleep. A longer timeout is refused whatever the clock says by then.
// - `recheck_after_ns()` bounds each sleep (0: no bound) for a reader that must look again
//   without being notified (a command claim whose writer may have died).
template <class Attempt, class Word, class Ready, class RefuseSleep, class Recheck>
auto wait_for(Attempt&& attempt, Word&& word, barrier_mode mode, Ready&& ready, std::uint64_t deadline_ns,
              const wait_options& options, RefuseSleep&& refuse_sleep, Recheck&& recheck_after_ns) noexcept
    -> decltype(attempt()) {
    for (;;) {
        auto r = attempt();
        if (r.ok() || r.error() != errc::empty) return r;
        const errc refused = refuse_sleep();
        if (failed(refused)) return deadline_ns == no_wait ? errc::timeout : refused;
        std::uint64_t until = deadline_ns;
        const std::uint64_t recheck = recheck_after_ns();
        if (recheck != 0) {
            const std::uint64_t now = os::monotonic_ns();
            if (now + recheck < until) until = now + recheck;
        }
        const errc e = wait_until(*word(), mode, ready, until, options);
        if (e == errc::timeout && until != deadline_ns) continue;  // a recheck, not the deadline
        if (failed(e)) return e;
    }
}

template <class Attempt, class Word, class Ready, class RefuseSleep>
auto wait_for(Attempt&& attempt, Word&& word, barrier_mode mode, Ready&& ready, std::uint64_t deadline_ns,
              const wait_options& options, RefuseSleep&& refuse_sleep) noexcept -> decltype(attempt()) {
    return wait_for(attempt, word, mode, ready, deadline_ns, options, refuse_sleep, [] { return std::uint64_t{0}; });
}

template <class Attempt, class Word, class Ready>
auto wait_for(Attempt&& attempt, Word&& word, barrier_mode mode, Ready&& ready, std::uint64_t deadline_ns,
              const wait_options& options) noexcept -> decltype(attempt()) {
    return wait_for(attempt, word, mode, ready, deadline_ns, options, [] { return errc::ok; });
}

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
