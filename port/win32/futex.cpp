// Waiting on a word in shared memory, on Windows. WaitOnAddress does not cross processes, so
// the planned implementation (issue 11) is a named kernel event per waited-on word, derived from
// the segment and the word's offset. Until then this interim version polls the word once per
// millisecond: correct (every wait sees the change within a millisecond, and notifiers still make
// no call while nobody waits), but a sleeping waiter wakes up 1000 times a second.
#include <windows.h>

#include "shmkit/os.hpp"

namespace shmkit::os {
namespace {
std::uint64_t g_waits = 0;
wait_any_method g_method = wait_any_method::automatic;

bool changed(const std::uint32_t* word, std::uint32_t expected) noexcept {
    return __atomic_load_n(word, __ATOMIC_ACQUIRE) != expected;
}
}  // namespace

errc futex_wait(const std::uint32_t* word, std::uint32_t expected, std::uint64_t timeout_ns) noexcept {
    return futex_wait_any(&word, &expected, 1, timeout_ns);
}

// Nobody sleeps in the kernel: a waiter sees the change at its next poll.
std::uint32_t futex_wake_all(const std::uint32_t*) noexcept { return wake_count_unknown; }

errc futex_wait_any(const std::uint32_t* const* words, const std::uint32_t* expected, std::uint32_t count,
                    std::uint64_t timeout_ns) noexcept {
    __atomic_fetch_add(&g_waits, 1, __ATOMIC_RELAXED);
    const std::uint64_t start = monotonic_ns();
    for (;;) {
        for (std::uint32_t i = 0; i < count; ++i) {
            if (changed(words[i], expected[i])) return errc::ok;
        }
        const std::uint64_t now = monotonic_ns();
        if (timeout_ns != forever && now - start >= timeout_ns) return errc::timeout;
        ::Sleep(1);
    }
}

wait_statistics wait_statistics_of_this_process() noexcept {
    wait_statistics s;
    s.waits = __atomic_load_n(&g_waits, __ATOMIC_RELAXED);
    return s;
}

void set_wait_any_method(wait_any_method method) noexcept { g_method = method; }
wait_any_method wait_any_method_in_use() noexcept { return g_method; }

}  // namespace shmkit::os
