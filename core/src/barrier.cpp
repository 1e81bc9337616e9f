#include "shmkit/atomic.hpp"
#include "shmkit/os.hpp"

namespace shmkit {

void light_barrier() noexcept {
    if (os::light_barriers()) {
        // The rare side's membarrier supplies the CPU barrier; we only stop the compiler from
        // moving our load above our store.
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
    } else {
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    }
}

void heavy_barrier() noexcept { os::heavy_barrier(); }

}  // namespace shmkit
