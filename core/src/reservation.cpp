#include "shmkit/reservation.hpp"

#include "shmkit/assert.hpp"
#include "shmkit/detail/role.hpp"

namespace shmkit {

void reservation::commit(std::size_t used) noexcept {
    SHMKIT_ASSERT(writer_ != nullptr);
    SHMKIT_ASSERT(claimed_by_this_process(claimed_as_));  // not a parent's, across fork()
    SHMKIT_ASSERT(used <= size_);
    finish_(*this, used, /*publish=*/true);
    writer_ = nullptr;
}

}  // namespace shmkit
