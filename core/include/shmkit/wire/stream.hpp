// stream's description in the slot kind area (core/SPEC.md "stream").
#pragma once

#include <cstddef>
#include <cstdint>



namespace shmkit {

inline constexpr std::uint32_t max_stream_dims = 8;

struct stream_meta {
    std::uint32_t dtype;           // shmkit::dtype
    std::uint32_t ndim;            // 0..8 (0 for bytes)
    std::uint64_t shape[max_stream_dims];
    std::uint64_t sample_bytes;    // elements x element size; for bytes, the maximum message
    std::uint64_t reserved[6];
};
static_assert(sizeof(stream_meta) == 128);
static_assert(offsetof(stream_meta, dtype) == 0);
static_assert(offsetof(stream_meta, ndim) == 4);
static_assert(offsetof(stream_meta, shape) == 8);
static_assert(offsetof(stream_meta, sample_bytes) == 72);
static_assert(offsetof(stream_meta, reserved) == 80);

}  // namespace shmkit
