// Diagnostics on Windows: the last error of this thread's failed port call, and contract
// violations printed to the standard error handle without allocating.
#include <windows.h>

#include <cstdio>

#include "last_error.hpp"
#include "shmkit/os.hpp"

namespace shmkit::os {

int last_os_error() noexcept { return static_cast<int>(t_last_error); }

void report_assert(const char* expression, const char* file, int line) noexcept {
    char buf[512];
    const int n = std::snprintf(buf, sizeof buf, "shmkit: contract violated: %s (%s:%d)\n", expression, file, line);
    if (n <= 0) return;
    DWORD written = 0;
    ::WriteFile(::GetStdHandle(STD_ERROR_HANDLE), buf, static_cast<DWORD>(n < 512 ? n : 511), &written, nullptr);
}

}  // namespace shmkit::os
