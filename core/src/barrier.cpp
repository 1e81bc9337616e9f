#include "shmkit/assert.hpp"
#include "shmkit/detail/atomic.hpp"
#include "shmkit/os.hpp"

namespace shmkit {

void light_barrier(barrier_mode mode) noexcept {
    if (mode == barrier_mode::membarrier) {
        // Every heavy side issues membarrier, which supplies the CPU barrier here; we only stop
        // the compiler from moving our load above our store.
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
    } else {
        fence(order::seq_cst);
    }
}

void heavy_barrier(barrier_mode mode) noexcept {
    if (mode == barrier_mode::membarrier) {
        // Processes attached to this segment rely on it: falling back to a fence would silently
        // break their light barriers, so a failure here is fatal (it means the system changed
        // under us: attach checked that membarrier works).
        SHMKIT_ASSERT(os::heavy_membarrier() == errc::ok);
        return;
    }
    fence(order::seq_cst);
}

}  // namespace shmkit
