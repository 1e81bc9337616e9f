// Harness for README.md's block snippet (see CMakeLists.txt).
#include <cstdint>

#include <shmkit/block.hpp>
#include <shmkit/typed.hpp>

void readme_block(const void* src, std::size_t n) {
    const std::int32_t scores[3] = {1, 2, 3};
#include "readme_block_1.inc"
    static_cast<void>(written);
    static_cast<void>(peer);
    static_cast<void>(any);
    static_cast<void>(x);
    static_cast<void>(e);
}
