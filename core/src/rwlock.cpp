#include "shmkit/detail/rwlock.hpp"

#include "lock_wait.hpp"
#include "shmkit/detail/role.hpp"
#include "shmkit/detail/wait.hpp"

namespace shmkit {


errc rwlock::claim_slot(std::uint32_t* index, std::uint64_t* claimed_as) noexcept {
    const std::uint64_t me = this_process();
    for (std::uint32_t i = 0; i < slot_count_; ++i) {
        rwlock_slot& s = slots_[i];
        std::uint64_t owner = s.owner.load(order::acquire);
        if (owner != 0 && os::process_alive(unpack_process(owner))) continue;
        if (!s.owner.compare_exchange(owner, me, order::acq_rel, order::relaxed)) continue;
        // A dead owner may have died holding read locks: they are void now. A writer waiting
        // on this slot re-checks after the notify.
        s.readers.store(0, order::release);
        notify_all(state_->writer_wake, mode_);
        *index = i;
        *claimed_as = me;
        return errc::ok;
    }
    return errc::full;
}

void rwlock::release_slot(std::uint32_t index, std::uint64_t owner) noexcept {
    SHMKIT_ASSERT(index < slot_count_);
    // Only the process that claimed it: a forked child closing an inherited handle must not free
    // (and so let others reuse) the slot its parent's read locks count in.
    if (owner != this_process()) return;
    // Read locks still counted here (a handle closed while holding one, or a count a peer
    // rewrote) end with the slot: writers skip free slots, and the next claimant starts at 0.
    // Release: our reads under those locks happen-before a writer that sees the slot free.
    slots_[index].readers.store(0, order::release);
    static_cast<void>(slots_[index].owner.compare_exchange(owner, 0, order::release, order::relaxed));
    notify_all(state_->writer_wake, mode_);
}

errc rwlock::acquired() const noexcept {
    return state_->inconsistent.load(order::acquire) != 0 ? errc::owner_dead : errc::ok;
}

void rwlock::mark_consistent() noexcept { state_->inconsistent.store(0, order::release); }

bool rwlock::take_from_dead_writer(std::uint64_t holder) noexcept {
    // Only one contender's CAS from that exact identity succeeds, and only if it is still held.
    // The data is marked inconsistent while we hold the lock, so no locker gets in untold.
    if (!state_->writer.compare_exchange(holder, this_process(), order::acquire, order::relaxed)) {
        return false;
    }
    state_->inconsistent.store(1, order::relaxed);
    state_->recoveries.fetch_add(1, order::relaxed);
    return true;
}

errc rwlock::recover_dead_writer(std::uint64_t holder) noexcept {
    if (!take_from_dead_writer(holder)) return errc::busy;
    unlock();
    return errc::ok;
}

errc rwlock::lock_shared(std::uint32_t slot, std::uint64_t deadline_ns, const lock_options& options) noexcept {
    SHMKIT_ASSERT(slot < slot_count_);
    rwlock_slot& s = slots_[slot];
    for (;;) {
        const std::uint64_t writer = state_->writer.load(order::acquire);
        if (writer == 0) {
            s.readers.fetch_add(1, order::relaxed);
            // Our read mark must be visible before we look at `writer` again (store->load).
            // Pairs with the writer's heavy barrier between claiming `writer` and scanning the
            // slots: either it sees our mark, or we see its claim and back off. Readers are the
            // frequent side, so they get the light barrier.
            light_barrier(mode_);
            // Acquire: the last writer's unlock (release) happens-before our reads of the data.
            if (state_->writer.load(order::acquire) == 0) return acquired();
            // A writer arrived: step aside so it is not starved, then wait for it like anyone else.
            if (s.readers.fetch_sub(1, order::release) == 1) notify_all(state_->writer_wake, mode_);
            continue;
        }
        if (!os::process_alive(unpack_process(writer))) {
            static_cast<void>(recover_dead_writer(writer));
            continue;
        }
        const std::uint64_t now = os::monotonic_ns();
        if (now >= deadline_ns) return errc::lock_timeout;
        static_cast<void>(detail::wait_for_holder(state_->readers_wake, mode_, writer,
                                [&] { return state_->writer.load(order::acquire) != writer; }, now, deadline_ns, options));
    }
}

void rwlock::unlock_shared(std::uint32_t slot) noexcept {
    SHMKIT_ASSERT(slot < slot_count_);
    // Release: our reads of the data happen-before a writer that sees the count drop.
    if (slots_[slot].readers.fetch_sub(1, order::release) == 1) notify_all(state_->writer_wake, mode_);
}

errc rwlock::lock(std::uint64_t deadline_ns, const lock_options& options) noexcept {
    const std::uint64_t me = this_process();
    // 1. Claim the writer word: from here on new readers wait.
    for (;;) {
        std::uint64_t writer = 0;
        if (state_->writer.compare_exchange(writer, me, order::acquire, order::relaxed)) break;
        if (writer != me && !os::process_alive(unpack_process(writer))) {
            if (take_from_dead_writer(writer)) break;
            continue;
        }
        const std::uint64_t now = os::monotonic_ns();
        if (now >= deadline_ns) return errc::lock_timeout;
        static_cast<void>(detail::wait_for_holder(state_->writer_wake, mode_, writer,
                                [&] { return state_->writer.load(order::acquire) != writer; }, now, deadline_ns, options));
    }
    // The claim above before the scan below (store->load); pairs with the light barrier in
    // lock_shared.
    heavy_barrier(mode_);
    // 2. Wait for the readers already inside to leave; read locks of dead processes do not count.
    for (std::uint32_t i = 0; i < slot_count_; ++i) {
        rwlock_slot& s = slots_[i];
        for (;;) {
            // Acquire: pairs with unlock_shared's release, so their reads precede our writes.
            if (s.readers.load(order::acquire) == 0) break;
            const std::uint64_t owner = s.owner.load(order::acquire);
            if (owner == 0 || !os::process_alive(unpack_process(owner))) break;
            const std::uint64_t now = os::monotonic_ns();
            if (now >= deadline_ns) {
                unlock();
                return errc::lock_timeout;
            }
            // The slot's readers leave, or its owner (the one process that can take them back) dies.
            static_cast<void>(detail::wait_for_holder(
                state_->writer_wake, mode_, owner,
                [&] { return s.readers.load(order::acquire) == 0 || s.owner.load(order::acquire) != owner; }, now,
                deadline_ns, options));
        }
    }
    return acquired();
}

void rwlock::unlock() noexcept {
    // Release: our writes happen-before any later locker's acquire of `writer` == 0. A CAS from
    // our identity: a lock wrongly taken from us must not be released by us.
    std::uint64_t me = this_process();
    if (!state_->writer.compare_exchange(me, 0, order::release, order::relaxed)) return;
    notify_all(state_->readers_wake, mode_);
    notify_all(state_->writer_wake, mode_);
}

std::uint32_t rwlock::readers() const noexcept {
    std::uint32_t n = 0;
    for (std::uint32_t i = 0; i < slot_count_; ++i) {
        const std::uint32_t r = slots_[i].readers.load(order::relaxed);
        if (r != 0 && os::process_alive(unpack_process(slots_[i].owner.load(order::relaxed)))) n += r;
    }
    return n;
}

bool rwlock::write_locked() const noexcept {
    const std::uint64_t writer = state_->writer.load(order::relaxed);
    return writer != 0 && os::process_alive(unpack_process(writer));
}

}  // namespace shmkit
