// Private to the core: how the robust locks (robust_lock, rwlock) sleep while blocked.
#pragma once

#include <cstdint>

#include "shmkit/robust_lock.hpp"

namespace shmkit::detail {

// When a locker blocked until `deadline_ns` (which is after `now`) looks again: at the
// deadline, or one liveness period from now if that comes first, because a holder that dies
// never wakes anyone. `now` is the same clock reading that was checked against the deadline, so
// the subtraction cannot wrap.
inline std::uint64_t look_again_at(std::uint64_t now, std::uint64_t deadline_ns, const lock_options& o) noexcept {
    return deadline_ns - now < o.liveness_period_ns ? deadline_ns : now + o.liveness_period_ns;
}

}  // namespace shmkit::detail
