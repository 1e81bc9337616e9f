#include <sched.h>
#include <time.h>

#include <cerrno>

#include "shmkit/os.hpp"

namespace shmkit::os {

std::uint64_t monotonic_ns() noexcept {
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

void sleep_ns(std::uint64_t ns) noexcept {
    timespec ts;
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000u);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000u);
    while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

errc sleep_or_signal_ns(std::uint64_t ns) noexcept {
    timespec ts;
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000u);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000u);
    return ::nanosleep(&ts, nullptr) != 0 && errno == EINTR ? errc::interrupted : errc::ok;
}

void yield() noexcept { ::sched_yield(); }

}  // namespace shmkit::os
