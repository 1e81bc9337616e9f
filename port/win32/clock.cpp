// Time on Windows: QueryPerformanceCounter is monotonic and unaffected by clock changes.
#include <windows.h>

#include "shmkit/os.hpp"

namespace shmkit::os {
namespace {
std::uint64_t counter_frequency() noexcept {
    static const std::uint64_t frequency = [] {
        LARGE_INTEGER f;
        ::QueryPerformanceFrequency(&f);  // cannot fail since Windows XP
        return static_cast<std::uint64_t>(f.QuadPart);
    }();
    return frequency;
}
}  // namespace

std::uint64_t monotonic_ns() noexcept {
    LARGE_INTEGER c;
    ::QueryPerformanceCounter(&c);
    const std::uint64_t ticks = static_cast<std::uint64_t>(c.QuadPart);
    const std::uint64_t f = counter_frequency();
    // Split so that ticks * 1e9 cannot overflow.
    return ticks / f * 1'000'000'000u + ticks % f * 1'000'000'000u / f;
}

void sleep_ns(std::uint64_t ns) noexcept {
    // Sleep() counts milliseconds; round up so that the whole time passes.
    const std::uint64_t deadline = monotonic_ns() + ns;
    for (;;) {
        const std::uint64_t now = monotonic_ns();
        if (now >= deadline) return;
        const std::uint64_t ms = (deadline - now + 999'999u) / 1'000'000u;
        ::Sleep(ms > 0xFFFF'FFFEu ? 0xFFFF'FFFEu : static_cast<DWORD>(ms));
    }
}

// Windows has no signals that interrupt a sleep: the sleep always runs its course.
errc sleep_or_signal_ns(std::uint64_t ns) noexcept {
    sleep_ns(ns);
    return errc::ok;
}

void yield() noexcept { ::SwitchToThread(); }

}  // namespace shmkit::os
