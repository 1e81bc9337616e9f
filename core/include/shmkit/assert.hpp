// The single hook for contract violations (misuse by the calling code, never bad shared data:
// bad shared data is an errc). ETL-style: the application decides what a violation does.
#pragma once

namespace shmkit {

// Called with the failed expression and its location. If the handler returns, the program
// traps: continuing past a broken contract would corrupt shared state for other processes.
using assert_handler = void (*)(const char* expression, const char* file, int line);

// Installs a handler and returns the previous one. nullptr restores the default, which
// reports through os::report_assert (the port prints to stderr) and then traps.
assert_handler set_assert_handler(assert_handler handler) noexcept;

namespace detail {
[[noreturn]] void assert_failed(const char* expression, const char* file, int line) noexcept;
}

}  // namespace shmkit

#define SHMKIT_ASSERT(cond) \
    ((cond) ? static_cast<void>(0) : ::shmkit::detail::assert_failed(#cond, __FILE__, __LINE__))
