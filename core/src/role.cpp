#include "shmkit/detail/role.hpp"

namespace shmkit {

errc claim_role(atomic_u64& role, claim_kind* how) noexcept {
    const std::uint64_t me = this_process();
    std::uint64_t current = 0;
    // Acquire on success: the previous holder's last writes (released in release_role, or
    // simply whatever a dead holder left) are visible to the repair that follows a takeover.
    if (role.compare_exchange(current, me, order::acquire, order::acquire)) {
        if (how) *how = claim_kind::fresh;
        return errc::ok;
    }
    if (current == me || os::process_alive(unpack_process(current))) return errc::busy;
    // The holder is dead. Only one contender's CAS from that exact value can succeed.
    if (role.compare_exchange(current, me, order::acquire, order::acquire)) {
        if (how) *how = claim_kind::took_over;
        return errc::ok;
    }
    return errc::busy;
}

void release_role(atomic_u64& role) noexcept {
    std::uint64_t me = this_process();
    // Release: the holder's writes happen-before the next holder's acquiring claim.
    static_cast<void>(role.compare_exchange(me, 0, order::release, order::relaxed));
}

role_holder inspect_role(const atomic_u64& role) noexcept {
    role_holder h;
    const std::uint64_t word = role.load(order::acquire);
    if (word == 0) return h;
    h.held = true;
    h.process = unpack_process(word);
    h.alive = os::process_alive(h.process);
    return h;
}

}  // namespace shmkit
