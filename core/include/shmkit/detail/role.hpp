// Single-holder roles (a broadcast's writer, an spsc's producer or consumer, ...). The holder is
// recorded in one shared word so that a second claimant is refused while the holder lives, and
// the role of a process that died can be taken over. Ownership never depends on a lock.
#pragma once

#include <cstdint>

#include "shmkit/detail/atomic.hpp"
#include "shmkit/errc.hpp"
#include "shmkit/os.hpp"

namespace shmkit {

// The role word: pid in bits 0..31, start-time token in bits 32..63; 0 means free.
inline std::uint64_t pack_process(os::process_id id) noexcept {
    return static_cast<std::uint64_t>(id.pid) | (static_cast<std::uint64_t>(id.start) << 32);
}
inline os::process_id unpack_process(std::uint64_t word) noexcept {
    return os::process_id{static_cast<std::uint32_t>(word), static_cast<std::uint32_t>(word >> 32)};
}

// The calling process as a role word: the port's cached word when it has one (an inline load,
// not a call: role checks run on every write and read).
inline std::uint64_t this_process() noexcept {
    const std::uint64_t cached = __atomic_load_n(&os::self_word, __ATOMIC_RELAXED);
    return cached != 0 ? cached : pack_process(os::self());
}

// Whether the calling process is the one a handle claimed its role as: false in a child that
// inherited the handle across fork(), whose role-holding calls then fail with wrong_process
// (two processes driving one role would each keep private positions and overwrite each
// other's messages without a word).
inline bool claimed_by_this_process(std::uint64_t claimed_as) noexcept { return this_process() == claimed_as; }

enum class claim_kind : std::uint8_t { fresh, took_over };

// Claims the role for this process: ok (fresh: it was free; took_over: its holder was dead and
// the caller must repair whatever the holder may have left half-done), or busy.
errc claim_role(atomic_u64& role, claim_kind* how) noexcept;

// Gives the role up if this process holds it.
void release_role(atomic_u64& role) noexcept;

// The holder, if any, and whether it is alive.
struct role_holder {
    os::process_id process;
    bool held = false;
    bool alive = false;
};
role_holder inspect_role(const atomic_u64& role) noexcept;

}  // namespace shmkit
