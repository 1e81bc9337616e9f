// Unique object names for tests, and the POSIX-only half of half_made.
#include <atomic>
#include <string>

#if !defined(_WIN32)
#include <sys/file.h>
#endif

#include "support.hpp"

namespace shmkit::test {

std::string unique_object_name(const char* tag) {
    static std::atomic<int> counter{0};
    return "/shmkit-test-" + std::string(tag) + "-" + std::to_string(os::self().pid) + "-" + std::to_string(counter++);
}

#if !defined(_WIN32)
void half_made::let_go() { ::flock(static_cast<int>(mapping_.handle), LOCK_UN); }
#endif

}  // namespace shmkit::test
