// Asymmetric memory barriers (membarrier(2), Linux >= 4.16). shmkit's Dekker pairs (a notifier
// publishing then checking for waiters; a waiter announcing itself then re-checking) need a
// full barrier on both sides. The frequent side (every notify, every read lock) may use a
// compiler-only barrier if the rare side (a thread about to sleep, a writer taking the rwlock)
// makes every CPU running a registered process execute a full barrier, which is what
// MEMBARRIER_CMD_GLOBAL_EXPEDITED does. A process uses light barriers only once it is
// registered; a rare-side caller uses membarrier whenever the kernel offers it, registered or
// not, so a light-side process can always rely on it. Without membarrier (qemu-user, old or
// seccomp-restricted kernels) both sides use ordinary seq_cst fences.
#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shmkit/os.hpp"

namespace shmkit::os {
namespace {

// 0 unknown; 1 available (this process registered); 2 unavailable.
int g_light = 0;
// 0 unknown; 1 the kernel offers GLOBAL_EXPEDITED; 2 it does not.
int g_heavy = 0;

long membarrier(int cmd) noexcept { return ::syscall(__NR_membarrier, cmd, 0, 0); }

bool kernel_has_global_expedited() noexcept {
    int h = __atomic_load_n(&g_heavy, __ATOMIC_ACQUIRE);
    if (h == 0) {
        const long mask = membarrier(MEMBARRIER_CMD_QUERY);
        h = (mask > 0 && (mask & MEMBARRIER_CMD_GLOBAL_EXPEDITED) != 0) ? 1 : 2;
        __atomic_store_n(&g_heavy, h, __ATOMIC_RELEASE);
    }
    return h == 1;
}

// A forked child is a new process (a new mm): it must register again before relying on light
// barriers, so it starts over as "unknown".
void reset_after_fork() noexcept { __atomic_store_n(&g_light, 0, __ATOMIC_RELAXED); }

}  // namespace

bool light_barriers() noexcept {
    const int l = __atomic_load_n(&g_light, __ATOMIC_ACQUIRE);
    if (l != 0) return l == 1;
    static int atfork_installed = 0;
    if (__atomic_exchange_n(&atfork_installed, 1, __ATOMIC_ACQ_REL) == 0) pthread_atfork(nullptr, nullptr, reset_after_fork);
    const bool ok = kernel_has_global_expedited() && membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0;
    __atomic_store_n(&g_light, ok ? 1 : 2, __ATOMIC_RELEASE);
    return ok;
}

void heavy_barrier() noexcept {
    if (kernel_has_global_expedited() && membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0) return;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

}  // namespace shmkit::os
