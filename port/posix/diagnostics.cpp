#include <unistd.h>

#include <cstdio>

#include "errno_map.hpp"
#include "shmkit/os.hpp"

namespace shmkit::os {

int last_os_error() noexcept { return t_last_errno; }

void report_assert(const char* expression, const char* file, int line) noexcept {
    char buf[512];
    const int n = std::snprintf(buf, sizeof buf, "shmkit: contract violated: %s (%s:%d)\n", expression, file, line);
    if (n > 0) {
        const ssize_t ignored = ::write(STDERR_FILENO, buf, static_cast<std::size_t>(n < 512 ? n : 511));
        (void)ignored;
    }
}

}  // namespace shmkit::os
