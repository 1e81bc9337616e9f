// Harness for README.md's channel snippet (see CMakeLists.txt).
#include <cstdint>

#include <shmkit/channel.hpp>

namespace {
void fill(void*, std::size_t) {}
void use(const void*, std::size_t) {}
}  // namespace

void readme_channel(const void* format, std::size_t format_size, std::size_t frame_bytes, shmkit::nanoseconds timeout) {
#include "readme_channel_1.inc"
    static_cast<void>(set);
    static_cast<void>(m);
}
