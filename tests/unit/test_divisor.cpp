// The ring's division by multiplication (detail/divisor.hpp) against the divide instruction.
#include <cstdint>
#include <random>

#include <gtest/gtest.h>

#include "shmkit/detail/divisor.hpp"

namespace shmkit {
namespace {

void expect_exact(std::uint64_t d, std::uint64_t n) {
    const detail::divisor by(d);
    const auto qr = by.divide(n);
    ASSERT_EQ(qr.quotient, n / d) << n << " / " << d;
    ASSERT_EQ(qr.remainder, n % d) << n << " % " << d;
}

TEST(Divisor, MultiplyHighMatchesTheWideProduct) {
    EXPECT_EQ(detail::multiply_high(~std::uint64_t{0}, ~std::uint64_t{0}), ~std::uint64_t{0} - 1);
    EXPECT_EQ(detail::multiply_high(std::uint64_t{1} << 32, std::uint64_t{1} << 32), 1u);
    EXPECT_EQ(detail::multiply_high(0x1234'5678'9ABC'DEF0u, 0x0FED'CBA9'8765'4321u), 0x0121'FA00'AD77'D742u);
    EXPECT_EQ(detail::multiply_high(12345, 67890), 0u);
}

// Divisors at the edges (1, powers of two and their neighbours, the smallest ring, the largest
// values) with numerators at the edges of each quotient and of the 64-bit range.
TEST(Divisor, EdgeValuesDivideExactly) {
    const std::uint64_t all = ~std::uint64_t{0}, one = 1;
    const std::uint64_t divisors[] = {1, 2, 3, 7, 16, 255, 256, 272, 4096, 65536 - 16, one << 20, (one << 32) - 1,
                                      one << 32, (one << 32) + 1, one << 40, (one << 63) - 1, one << 63,
                                      (one << 63) + 1, all - 1, all};
    for (std::uint64_t d : divisors) {
        const std::uint64_t numerators[] = {0, 1, d - 1, d, d + 1, 2 * d - 1, 2 * d, all,
                                            all - 1, all - d, all / d * d, all / d * d - 1, one << 63};
        for (std::uint64_t n : numerators) expect_exact(d, n);
    }
}

// Random ring capacities (multiples of 16 from the smallest ring up) and random positions,
// small ones (what rings use) and ones anywhere in the 64-bit range.
TEST(Divisor, RandomValuesDivideExactly) {
    std::mt19937_64 random(20261206);
    for (int i = 0; i < 2000; ++i) {
        const std::uint64_t d = (256 + (random() % (std::uint64_t{1} << 36))) & ~std::uint64_t{15};
        for (int j = 0; j < 200; ++j) {
            expect_exact(d, random() % (d * 1000));
            expect_exact(d, random());
        }
        expect_exact(random() | 1, random());
    }
}

}  // namespace
}  // namespace shmkit
