// stream's description in the slot kind area (core/SPEC.md "stream").
#pragma once

#include <cstddef>
#include <cstdint>



namespace shmkit {

inline constexpr std::uint32_t max_stream_dims = 8;

// The longest schema name a stream stores, in bytes (the field keeps a terminating NUL).
inline constexpr std::uint32_t max_schema_name = 39;

// The message schema a writer stored with the stream: the name of its message type and a
// 64-bit hash of that type's fields, both the creator's. All zero: no schema.
struct stream_schema {
    std::uint64_t hash;
    char name[max_schema_name + 1];  // UTF-8, NUL-terminated, NUL-padded; empty with no schema
};
static_assert(sizeof(stream_schema) == 48);
static_assert(offsetof(stream_schema, hash) == 0);
static_assert(offsetof(stream_schema, name) == 8);

struct stream_meta {
    std::uint32_t dtype;           // shmkit::dtype
    std::uint32_t ndim;            // 0..8 (0 for bytes)
    std::uint64_t shape[max_stream_dims];
    std::uint64_t sample_bytes;    // elements x element size; for bytes, the maximum message
    stream_schema schema;
};
static_assert(sizeof(stream_meta) == 128);
static_assert(offsetof(stream_meta, dtype) == 0);
static_assert(offsetof(stream_meta, ndim) == 4);
static_assert(offsetof(stream_meta, shape) == 8);
static_assert(offsetof(stream_meta, sample_bytes) == 72);
static_assert(offsetof(stream_meta, schema) == 80);

}  // namespace shmkit
