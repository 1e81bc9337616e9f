// Harness for README.md's spsc snippet (see CMakeLists.txt).
#include <shmkit/spsc.hpp>

void readme_spsc(const void* data, std::size_t n, char* buf, std::size_t cap, shmkit::nanoseconds timeout) {
#include "readme_spsc_1.inc"
    static_cast<void>(pushed);
    static_cast<void>(slot);
    static_cast<void>(m);
    static_cast<void>(v);
}
