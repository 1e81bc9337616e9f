// stream: a typed latest-value / in-order ring (global_buffer parity). The segment stores the
// element type and a shape of up to 8 dimensions; readers discover them on attach, and a reader
// that states what it expects and finds something else is refused (wrong_kind for the type,
// size_mismatch for the shape). Raw-byte streams carry variable-size messages (msgpack, ...)
// up to a maximum size. Over the slot ring: latest(), next() with lost counts, zero-copy views.
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/slot_kind.hpp"

namespace shmkit {

enum class dtype : std::uint32_t {
    boolean = 1, int8, int16, int32, int64, uint8, uint16, uint32, uint64,
    float16, float32, float64, complex64, complex128, bytes,
};
// NumPy-style names: "bool", "int8", ..., "float16", "complex128", "bytes"; "unknown" otherwise.
const char* to_string(dtype t) noexcept;
// Bytes per element (1 for bytes); 0 for an unknown type.
std::uint32_t element_size(dtype t) noexcept;

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

struct stream_config {
    shmkit::dtype type = dtype::float32;
    std::uint32_t ndim = 1;
    std::uint64_t shape[max_stream_dims] = {1};
    std::uint64_t max_bytes = 0;  // for dtype::bytes: the largest message
    std::uint64_t slots = 8;      // samples kept (2..65536)
    bool page_aligned = false;
};

// What a reader insists on finding (anything, by default).
struct stream_expectation {
    shmkit::dtype type{};         // 0: any type
    std::int32_t ndim = -1;       // -1: any shape
    std::uint64_t shape[max_stream_dims] = {};
};

struct stream_reader_options : slot_reader_options {
    stream_expectation expect{};
};

class stream_writer : public detail::slot_kind_writer<stream_meta, kind::stream, stream_writer> {
public:
    static result<stream_writer> create(const char* name, const stream_config& config,
                                        const segment_options& options = {}) noexcept;
    // Caller-given memory (64-byte aligned; page-aligned with config.page_aligned) of exactly
    // segment_size(config) bytes (0: a configuration create() would refuse).
    static result<stream_writer> format(void* memory, std::uint64_t size, const stream_config& config) noexcept;
    static std::uint64_t segment_size(const stream_config& config) noexcept;
    static errc check(const stream_meta& meta, std::uint64_t slot_capacity) noexcept;
    shmkit::dtype type() const noexcept { return static_cast<shmkit::dtype>(meta_.dtype); }
    std::uint64_t sample_bytes() const noexcept { return meta_.sample_bytes; }

private:
    // The description and slots of a configuration (create, format and segment_size use it).
    static described describe(const stream_config& config) noexcept;
};

class stream_reader : public detail::slot_kind_reader<stream_meta, kind::stream, stream_reader> {
public:
    static result<stream_reader> open(const char* name, const stream_reader_options& options = {}) noexcept;
    // Over caller-given memory, with the same expectations checked.
    static result<stream_reader> attach(void* memory, std::uint64_t size, const stream_reader_options& options = {}) noexcept;
    static errc check(const stream_meta& meta, std::uint64_t slot_capacity) noexcept {
        return stream_writer::check(meta, slot_capacity);
    }
    shmkit::dtype type() const noexcept { return static_cast<shmkit::dtype>(meta_.dtype); }
    std::uint32_t ndim() const noexcept { return meta_.ndim; }
    const std::uint64_t* shape() const noexcept { return meta_.shape; }
    std::uint64_t sample_bytes() const noexcept { return meta_.sample_bytes; }
};

errc inspect_stream(const void* base, std::uint64_t size, slot_info* slots, stream_meta* meta) noexcept;

}  // namespace shmkit
