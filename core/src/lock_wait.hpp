// Private to the core: how the robust locks (robust_lock, rwlock) sleep while blocked.
#pragma once

#include <cstdint>

#include "shmkit/detail/robust_lock.hpp"
#include "shmkit/detail/role.hpp"
#include "shmkit/detail/wait.hpp"

namespace shmkit::detail {

// When a locker blocked until `deadline_ns` (which is after `now`) looks again: at the
// deadline, or one liveness period from now if that comes first, because a holder that dies
// never wakes anyone. `now` is the same clock reading that was checked against the deadline, so
// the subtraction cannot wrap.
inline std::uint64_t look_again_at(std::uint64_t now, std::uint64_t deadline_ns, const lock_options& o) noexcept {
    return deadline_ns - now < o.liveness_period_ns ? deadline_ns : now + o.liveness_period_ns;
}

// Sleeps on `wake` until `released()` (the holder let go; the caller looks again), the
// deadline, or the death of `holder` (a role word), whichever comes first. Where the OS can
// watch for a process's exit, the sleep is idle for as long as the holder lives: its exit wakes
// us. Elsewhere we wake once per liveness period to look at it (`now` as in look_again_at).
// `w` as for wait_until: interrupted (with w.return_on_signal) is the only error it returns; the
// caller looks again after anything else.
template <class Released>
errc wait_for_holder(wait_word& wake, barrier_mode mode, std::uint64_t holder, Released&& released, std::uint64_t now,
                     std::uint64_t deadline_ns, const lock_options& o, wait_options w = {}) noexcept {
    os::exit_watch watch;
    const errc watched = os::watch_exit(unpack_process(holder), &wake.sequence.raw, &watch);
    if (watched == errc::peer_dead) return errc::ok;  // the caller looks again and finds it dead
    const bool idle = watched == errc::ok;
    const errc e = wait_until(
        // `fired` is this process's memory, set by the port's watcher thread: a plain builtin.
        wake, mode, [&] { return released() || __atomic_load_n(&watch.fired, __ATOMIC_ACQUIRE) != 0; },
        idle ? deadline_ns : look_again_at(now, deadline_ns, o), w);
    if (idle) os::unwatch_exit(&watch);
    return e == errc::interrupted ? e : errc::ok;
}

}  // namespace shmkit::detail
