// Wire constants and compiler requirements shared by every layout.
#pragma once

#include <cstddef>
#include <cstdint>

#if !defined(__GNUC__) && !defined(__clang__)
#error "shmkit's core needs GCC or Clang (MinGW on Windows): it uses the __atomic builtins"
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "shmkit's wire formats are little-endian; big-endian hosts are not supported"
#endif

namespace shmkit {

// One fixed line size for every shared layout. std::hardware_destructive_interference_size
// is 64 on x86_64 but 256 on aarch64 with GCC 12, so using it would give two machines two
// different layouts of the same segment.
inline constexpr std::uint32_t wire_line = 64;

// Bumped whenever any shared layout or algorithm changes incompatibly (core/SPEC.md, "Versioning").
inline constexpr std::uint32_t wire_format_version = 4;

// "SHMKIT" followed by two zero bytes, read as a little-endian u64.
inline constexpr std::uint64_t wire_magic = 0x00005449'4B4D4853ull;

// The largest segment any kind creates (256 TiB, beyond every 64-bit address space in use).
// Sizes are computed from caller values in 64-bit arithmetic; bounding every input by this
// keeps each product and sum exact, so an absurd request is an argument error, never a
// wrapped, small segment.
inline constexpr std::uint64_t max_segment_bytes = std::uint64_t{1} << 48;

constexpr std::uint64_t round_up(std::uint64_t v, std::uint64_t align) noexcept {
    return (v + align - 1) / align * align;
}

}  // namespace shmkit
