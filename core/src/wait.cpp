#include "shmkit/detail/wait.hpp"

namespace shmkit {

void heal_waiters(wait_word& w) noexcept {
    // A new epoch with no waiters, unless the count dropped to zero meanwhile (nothing to heal).
    // Every announcement of the old epoch is discarded: withdrawals of it do nothing, and its
    // live waiters, woken below, see their epoch gone and announce themselves again.
    std::uint64_t v = w.waiters.load(order::relaxed);
    do {
        if (waiter_count(v) == 0) return;
    } while (!w.waiters.compare_exchange(v, std::uint64_t{waiter_epoch(v) + 1u} << 32, order::relaxed, order::relaxed));
    // Release: orders the new epoch before the bump (see wait_until: a waiter whose sequence load
    // sees this bump sees the new epoch). Then wake everyone: a live waiter asleep in the old
    // epoch must wake to announce itself again, or the next notify would skip it.
    w.sequence.fetch_add(1, order::release);
    static_cast<void>(os::futex_wake_all(&w.sequence.raw));
}

}  // namespace shmkit
