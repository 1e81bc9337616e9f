// The copies into and out of shared memory (detail/copy.hpp), at every size around the switch
// from word loops to the bulk copy: each byte arrives, and nothing past the 8-byte-rounded end
// of the shared side is touched.
#include <cstdint>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "shmkit/detail/copy.hpp"

namespace shmkit {
namespace {

constexpr std::size_t largest = 5000;
constexpr std::uint8_t untouched = 0xEE;

std::vector<std::uint8_t> pattern(std::size_t size, std::uint8_t seed) {
    std::vector<std::uint8_t> v(size);
    for (std::size_t i = 0; i < size; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 7 + (i >> 8));
    return v;
}

TEST(Copy, IntoSharedMemoryEveryByteAndNoMore) {
    for (std::size_t size = 0; size <= largest; size += (size < 1100 ? 1 : 61)) {
        const auto src = pattern(size + 1, 3);  // never empty: memcmp wants a pointer even for 0 bytes
        alignas(64) static std::uint8_t shared[largest + 128];
        std::memset(shared, untouched, sizeof shared);
        copy_to_shared(shared, src.data(), size);
        ASSERT_EQ(std::memcmp(shared, src.data(), size), 0) << size;
        const std::size_t rounded = (size + 7) / 8 * 8;  // the contract: the word holding the end may be written
        for (std::size_t i = rounded; i < sizeof shared; ++i) ASSERT_EQ(shared[i], untouched) << size << " at " << i;
    }
}

TEST(Copy, OutOfSharedMemoryEveryByteAndNoMore) {
    alignas(64) static std::uint8_t shared[largest + 128];
    const auto content = pattern(sizeof shared, 11);
    std::memcpy(shared, content.data(), sizeof shared);
    for (std::size_t size = 0; size <= largest; size += (size < 1100 ? 1 : 61)) {
        std::vector<std::uint8_t> out(size + 64, untouched);
        copy_from_shared(out.data(), shared, size);
        ASSERT_EQ(std::memcmp(out.data(), content.data(), size), 0) << size;
        for (std::size_t i = size; i < out.size(); ++i) ASSERT_EQ(out[i], untouched) << size << " at " << i;
    }
}

}  // namespace
}  // namespace shmkit
