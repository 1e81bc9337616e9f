// Harness for README.md's duplex snippet (see CMakeLists.txt).
#include <cstdint>

#include <shmkit/duplex.hpp>

namespace {
std::size_t transform(const void*, std::size_t size, std::uint8_t*) { return size; }
}  // namespace

void readme_duplex(const void* request, std::size_t n, shmkit::nanoseconds timeout) {
    char buf[256];
#include "readme_duplex_1.inc"
    static_cast<void>(served);
    static_cast<void>(r);
    static_cast<void>(seq);
    static_cast<void>(response);
}
