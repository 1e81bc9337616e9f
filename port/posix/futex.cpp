// Wait/wake on a 32-bit word in shared memory: Linux futexes (shared, not FUTEX_PRIVATE,
// because the waiter and the waker are different processes).
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "errno_map.hpp"
#include "shmkit/os.hpp"

namespace shmkit::os {

errc futex_wait(const std::uint32_t* word, std::uint32_t expected, std::uint64_t timeout_ns) noexcept {
    timespec relative;
    timespec* timeout = nullptr;
    if (timeout_ns != forever) {
        relative.tv_sec = static_cast<time_t>(timeout_ns / 1'000'000'000u);
        relative.tv_nsec = static_cast<long>(timeout_ns % 1'000'000'000u);
        timeout = &relative;
    }
    // FUTEX_WAIT's timeout is relative and measured on CLOCK_MONOTONIC.
    const long rc = ::syscall(SYS_futex, word, FUTEX_WAIT, expected, timeout, nullptr, 0);
    if (rc == 0) return errc::ok;
    switch (errno) {
        case EAGAIN: return errc::ok;  // the word had already changed: the caller re-checks
        case ETIMEDOUT: return errc::timeout;
        case EINTR: return errc::interrupted;
        default: return fail_with_errno();
    }
}

void futex_wake_all(const std::uint32_t* word) noexcept {
    ::syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

}  // namespace shmkit::os
