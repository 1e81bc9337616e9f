// membarrier(2) for the membarrier barrier mode (Linux >= 4.16; see core/SPEC.md "Light and
// heavy barriers"). Whether a segment uses it is decided once, by its creator, and recorded in
// the segment; a process that cannot use it is refused when it attaches to such a segment.
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "errno_map.hpp"
#include "shmkit/os.hpp"

namespace shmkit::os {
namespace {

// 0 unknown; 1 usable (the kernel has GLOBAL_EXPEDITED and we registered); 2 not usable.
// Registration belongs to the address space and is inherited by fork (cleared by exec), so a
// forked child needs no new registration.
int g_state = 0;

long membarrier(int cmd) noexcept { return ::syscall(__NR_membarrier, cmd, 0, 0); }

}  // namespace

bool membarrier_usable() noexcept {
    // SHMKIT_NO_MEMBARRIER=1: behave as if membarrier were unavailable (segments this process
    // creates use fences; it is refused by membarrier-mode segments). Read on every call: only
    // creation and attach ask, never a hot path.
    const char* off = ::getenv("SHMKIT_NO_MEMBARRIER");
    if (off != nullptr && off[0] != '\0' && off[0] != '0') return false;
    int s = __atomic_load_n(&g_state, __ATOMIC_ACQUIRE);
    if (s == 0) {
        const long mask = membarrier(MEMBARRIER_CMD_QUERY);
        const bool ok = mask > 0 && (mask & MEMBARRIER_CMD_GLOBAL_EXPEDITED) != 0 &&
                        membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0 &&
                        membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0;  // and we may issue it
        s = ok ? 1 : 2;
        __atomic_store_n(&g_state, s, __ATOMIC_RELEASE);
    }
    return s == 1;
}

errc heavy_membarrier() noexcept {
    for (int attempt = 0; attempt < 3; ++attempt) {
        if (membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0) return errc::ok;
        if (errno != EINTR && errno != ENOMEM && errno != EAGAIN) break;
    }
    return fail_with_errno();
}

}  // namespace shmkit::os
