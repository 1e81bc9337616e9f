// Harness for README.md's broadcast snippet (see CMakeLists.txt).
#include <cstdint>

#include <shmkit/broadcast.hpp>

void readme_broadcast(const void* data, std::size_t size, char* buf, std::size_t cap, std::uint64_t& lost) {
#include "readme_broadcast_1.inc"
    static_cast<void>(sent);
    static_cast<void>(slot);
}
