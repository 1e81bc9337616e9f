// Division by a divisor fixed at run time: a ring's capacity, which positions are divided by
// for every record a writer or reader touches (offset = pos % capacity, lap = pos / capacity).
//
// A hardware 64-bit divide costs 10 to 90 cycles depending on the CPU, and on 32-bit ARM it is a
// library call of a few hundred; a ring record costs several of them. Capacities are rarely
// powers of two (the segment's size less its header), so a mask will not do. Instead the
// reciprocal m = floor((2^64 - 1) / d) is computed once, and a quotient is the high half of
// n * m, corrected by at most one step:
//   m <= 2^64 / d, so the estimate floor(n * m / 2^64) is at most n / d;
//   m >= ((2^64 - 1) - (d - 1)) / d = 2^64 / d - 1, so n * m / 2^64 >= n / d - n / 2^64 > n / d - 1
//   for every n < 2^64: the estimate is the quotient or one below it.
// tests/unit/test_divisor.cpp checks it against the divide instruction on edge and random values.
#pragma once

#include <cstdint>

namespace shmkit::detail {

// The high 64 bits of the 128-bit product a * b.
constexpr std::uint64_t multiply_high(std::uint64_t a, std::uint64_t b) noexcept {
#if defined(__SIZEOF_INT128__)
    __extension__ using u128 = unsigned __int128;  // a GNU extension on every 64-bit target we build for
    return static_cast<std::uint64_t>((static_cast<u128>(a) * b) >> 64);
#else
    // 32-bit targets: four 32x32 -> 64 products (schoolbook), carries collected in `middle`.
    const std::uint64_t a_lo = a & 0xFFFF'FFFFu, a_hi = a >> 32;
    const std::uint64_t b_lo = b & 0xFFFF'FFFFu, b_hi = b >> 32;
    const std::uint64_t lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo, lo_hi = a_lo * b_hi, hi_hi = a_hi * b_hi;
    const std::uint64_t middle = (lo_lo >> 32) + (hi_lo & 0xFFFF'FFFFu) + lo_hi;
    return hi_hi + (hi_lo >> 32) + (middle >> 32);
#endif
}

class divisor {
public:
    constexpr divisor() noexcept = default;
    // d must not be 0 (a ring's capacity is at least min_ring_capacity).
    constexpr explicit divisor(std::uint64_t d) noexcept : d_(d), reciprocal_(~std::uint64_t{0} / d) {}

    constexpr std::uint64_t value() const noexcept { return d_; }

    struct quotient_remainder {
        std::uint64_t quotient;
        std::uint64_t remainder;
    };
    constexpr quotient_remainder divide(std::uint64_t n) const noexcept {
        std::uint64_t q = multiply_high(n, reciprocal_);
        std::uint64_t r = n - q * d_;  // q * d_ <= n: no wrap
        if (r >= d_) {
            r -= d_;
            ++q;
        }
        return {q, r};
    }
    constexpr std::uint64_t quotient(std::uint64_t n) const noexcept { return divide(n).quotient; }
    constexpr std::uint64_t remainder(std::uint64_t n) const noexcept { return divide(n).remainder; }

private:
    std::uint64_t d_ = 1;
    std::uint64_t reciprocal_ = ~std::uint64_t{0};
};

}  // namespace shmkit::detail
