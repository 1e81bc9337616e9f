#include "shmkit/detail/robust_lock.hpp"

#include "lock_wait.hpp"
#include "shmkit/detail/role.hpp"
#include "shmkit/detail/wait.hpp"

namespace shmkit::detail {

errc try_lock(robust_lock& l) noexcept {
    const std::uint64_t me = this_process();
    std::uint64_t holder = 0;
    // Acquire on success: everything the previous holder wrote before unlocking is visible.
    if (l.owner.compare_exchange(holder, me, order::acquire, order::relaxed)) return errc::ok;
    if (holder == me || os::process_alive(unpack_process(holder))) return errc::busy;
    // Only one contender's CAS from this exact dead holder can succeed.
    if (l.owner.compare_exchange(holder, me, order::acquire, order::relaxed)) return errc::owner_dead;
    return errc::busy;
}

errc lock(robust_lock& l, barrier_mode mode, std::uint64_t deadline_ns, const lock_options& options) noexcept {
    const std::uint64_t me = this_process();
    for (std::uint32_t i = 0;; ++i) {
        std::uint64_t holder = 0;
        if (l.owner.compare_exchange(holder, me, order::acquire, order::relaxed)) return errc::ok;
        if (i >= options.spin) break;
        cpu_relax();
    }
    for (;;) {
        const errc e = try_lock(l);
        if (e != errc::busy) return e;
        const std::uint64_t now = os::monotonic_ns();
        if (now >= deadline_ns) return errc::lock_timeout;
        // Sleep until this holder lets go (to nobody or to someone else: then we watch the new
        // one) or dies.
        const std::uint64_t holder = l.owner.load(order::acquire);
        if (holder == 0) continue;
        static_cast<void>(detail::wait_for_holder(l.wake, mode, holder, [&] { return l.owner.load(order::acquire) != holder; }, now,
                                deadline_ns, options));
    }
}

void unlock(robust_lock& l, barrier_mode mode) noexcept {
    // Release: the holder's writes happen-before the next locker's acquiring CAS. A CAS from our
    // identity, not a store: if the lock was (wrongly) taken from us as dead, we must not release
    // the new holder's lock.
    std::uint64_t me = this_process();
    if (!l.owner.compare_exchange(me, 0, order::release, order::relaxed)) return;
    notify_all(l.wake, mode);
}

}  // namespace shmkit::detail
