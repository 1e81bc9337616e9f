// stream: a typed latest-value / in-order ring (global_buffer parity). The segment stores the
// element type and a shape of up to 8 dimensions; readers discover them on attach, and a reader
// that states what it expects and finds something else is refused (wrong_kind for the type,
// size_mismatch for the shape). Raw-byte streams carry variable-size messages (msgpack, ...)
// up to a maximum size, and may store the schema of those messages (a type name and a hash of
// its fields): a reader that expects another is refused (schema_mismatch). Over the slot ring:
// latest(), next() with lost counts, zero-copy views.
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/slot_kind.hpp"
#include "shmkit/wire/stream.hpp"

namespace shmkit {

enum class dtype : std::uint32_t {
    boolean = 1, int8, int16, int32, int64, uint8, uint16, uint32, uint64,
    float16, float32, float64, complex64, complex128, bytes,
};
// NumPy-style names: "bool", "int8", ..., "float16", "complex128", "bytes"; "unknown" otherwise.
const char* to_string(dtype t) noexcept;
// Bytes per element (1 for bytes); 0 for an unknown type.
std::uint32_t element_size(dtype t) noexcept;

// The 64-bit hash of a message type's field description (FNV-1a over its bytes): what the
// Python binding stores as a schema's hash, from the description Schema.of() makes (see README).
std::uint64_t fields_hash(const char* fields, std::size_t length) noexcept;

struct stream_config {
    shmkit::dtype type = dtype::float32;
    std::uint32_t ndim = 1;
    std::uint64_t shape[max_stream_dims] = {1};
    std::uint64_t max_bytes = 0;  // for dtype::bytes: the largest message
    std::uint64_t slots = 8;      // samples kept (2..65536)
    bool page_aligned = false;
    // The schema of the messages (optional, any dtype): the message type's name (UTF-8, 1 to
    // max_schema_name bytes) and a hash of its fields, both the caller's choice (fields_hash()
    // is the binding's). nullptr: no schema (then schema_hash must be 0).
    const char* schema_name = nullptr;
    std::uint64_t schema_hash = 0;
};

// What a reader insists on finding (anything, by default).
struct stream_expectation {
    shmkit::dtype type{};         // 0: any type
    std::int32_t ndim = -1;       // -1: any shape
    std::uint64_t shape[max_stream_dims] = {};
    // Non-null: the stream must hold this schema, name and hash (schema_mismatch otherwise,
    // also for a stream without one). nullptr: any schema, or none.
    const char* schema_name = nullptr;
    std::uint64_t schema_hash = 0;
};

struct stream_reader_options : slot_reader_options {
    stream_expectation expect{};
};

// The stream slot kind (slot_kind.hpp).
struct stream_kind {
    using meta = stream_meta;
    using config = stream_config;
    using reader_options = stream_reader_options;
    static constexpr kind id = kind::stream;
    static slot_description<stream_meta> describe(const stream_config& config) noexcept;
    static errc check(const stream_meta& meta, std::uint64_t slot_capacity) noexcept;
    // wrong_kind (another element type), size_mismatch (another shape), schema_mismatch (another
    // schema, or none); invalid_argument for an expected schema name no stream can hold.
    static errc accept(const stream_meta& meta, const stream_reader_options& options) noexcept;

    struct writer_calls {
        shmkit::dtype type() const noexcept;
        std::uint64_t sample_bytes() const noexcept;
        // The stored schema: its name ("" without one) and hash.
        const char* schema_name() const noexcept;
        std::uint64_t schema_hash() const noexcept;
    };
    struct reader_calls {
        shmkit::dtype type() const noexcept;
        std::uint32_t ndim() const noexcept;
        const std::uint64_t* shape() const noexcept;
        std::uint64_t sample_bytes() const noexcept;
        const char* schema_name() const noexcept;
        std::uint64_t schema_hash() const noexcept;
    };
};

using stream_writer = slot_kind_writer<stream_kind>;
using stream_reader = slot_kind_reader<stream_kind>;

inline shmkit::dtype stream_kind::writer_calls::type() const noexcept {
    return static_cast<shmkit::dtype>(static_cast<const stream_writer&>(*this).description().dtype);
}
inline std::uint64_t stream_kind::writer_calls::sample_bytes() const noexcept {
    return static_cast<const stream_writer&>(*this).description().sample_bytes;
}
// The schema's name is NUL-terminated within its field: check() refuses a description where it
// is not, and every handle's description passed check().
inline const char* stream_kind::writer_calls::schema_name() const noexcept {
    return static_cast<const stream_writer&>(*this).description().schema.name;
}
inline std::uint64_t stream_kind::writer_calls::schema_hash() const noexcept {
    return static_cast<const stream_writer&>(*this).description().schema.hash;
}
inline shmkit::dtype stream_kind::reader_calls::type() const noexcept {
    return static_cast<shmkit::dtype>(static_cast<const stream_reader&>(*this).description().dtype);
}
inline std::uint32_t stream_kind::reader_calls::ndim() const noexcept {
    return static_cast<const stream_reader&>(*this).description().ndim;
}
inline const std::uint64_t* stream_kind::reader_calls::shape() const noexcept {
    return static_cast<const stream_reader&>(*this).description().shape;
}
inline std::uint64_t stream_kind::reader_calls::sample_bytes() const noexcept {
    return static_cast<const stream_reader&>(*this).description().sample_bytes;
}
inline const char* stream_kind::reader_calls::schema_name() const noexcept {
    return static_cast<const stream_reader&>(*this).description().schema.name;
}
inline std::uint64_t stream_kind::reader_calls::schema_hash() const noexcept {
    return static_cast<const stream_reader&>(*this).description().schema.hash;
}

errc inspect_stream(const void* base, std::uint64_t size, slot_info* slots, stream_meta* meta) noexcept;

}  // namespace shmkit
