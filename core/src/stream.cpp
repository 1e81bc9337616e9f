#include "shmkit/stream.hpp"

#include <cstring>

#include "shmkit/segment.hpp"
#include "shmkit/typed.hpp"

namespace shmkit {

std::uint64_t fields_hash(const char* fields, std::size_t length) noexcept { return fnv1a_64(fields, length); }

const char* to_string(dtype t) noexcept {
    switch (t) {
        case dtype::boolean: return "bool";
        case dtype::int8: return "int8";
        case dtype::int16: return "int16";
        case dtype::int32: return "int32";
        case dtype::int64: return "int64";
        case dtype::uint8: return "uint8";
        case dtype::uint16: return "uint16";
        case dtype::uint32: return "uint32";
        case dtype::uint64: return "uint64";
        case dtype::float16: return "float16";
        case dtype::float32: return "float32";
        case dtype::float64: return "float64";
        case dtype::complex64: return "complex64";
        case dtype::complex128: return "complex128";
        case dtype::bytes: return "bytes";
    }
    return "unknown";
}

std::uint32_t element_size(dtype t) noexcept {
    switch (t) {
        case dtype::boolean:
        case dtype::int8:
        case dtype::uint8:
        case dtype::bytes: return 1;
        case dtype::int16:
        case dtype::uint16:
        case dtype::float16: return 2;
        case dtype::int32:
        case dtype::uint32:
        case dtype::float32: return 4;
        case dtype::int64:
        case dtype::uint64:
        case dtype::float64:
        case dtype::complex64: return 8;
        case dtype::complex128: return 16;
    }
    return 0;
}

namespace {
// Bytes of an array of `ndim` dimensions `shape` of `es`-byte elements; 0 if a dimension is
// zero or the size exceeds 2^48 (no sample is that large; the bound keeps the product exact).
std::uint64_t array_bytes(std::uint32_t es, std::uint32_t ndim, const std::uint64_t* shape) noexcept {
    std::uint64_t n = es;
    for (std::uint32_t i = 0; i < ndim; ++i) {
        if (shape[i] == 0 || n > (std::uint64_t{1} << 48) / shape[i]) return 0;
        n *= shape[i];
    }
    return n;
}

// Bytes before the first NUL of `s`, looking at most at `max` bytes (max if there is none).
std::size_t bounded_length(const char* s, std::size_t max) noexcept {
    std::size_t n = 0;
    while (n < max && s[n] != 0) ++n;
    return n;
}

// A stored schema is a UTF-8 name of 1..max_schema_name bytes, NUL-terminated and NUL-padded,
// and a hash; or nothing at all (every byte zero).
bool valid_schema(const stream_schema& s) noexcept {
    const std::size_t length = bounded_length(s.name, sizeof s.name);
    if (length == sizeof s.name) return false;  // no terminator
    for (std::size_t i = length; i < sizeof s.name; ++i) {
        if (s.name[i] != 0) return false;
    }
    return length > 0 ? is_valid_utf8(s.name, length) : s.hash == 0;
}

// Length of a schema name a caller gives, or 0 if no stream can store it (empty, too long or
// not UTF-8).
std::size_t schema_name_length(const char* name) noexcept {
    const std::size_t length = bounded_length(name, max_schema_name + 1);
    return length > max_schema_name || !is_valid_utf8(name, length) ? 0 : length;
}
}  // namespace

errc stream_kind::check(const stream_meta& m, std::uint64_t slot_capacity) noexcept {
    const auto t = static_cast<dtype>(m.dtype);
    const std::uint32_t es = element_size(t);
    if (es == 0 || m.ndim > max_stream_dims) return errc::invalid_argument;
    if (!valid_schema(m.schema)) return errc::invalid_argument;
    if (t == dtype::bytes) {
        if (m.ndim != 0 || m.sample_bytes == 0) return errc::invalid_argument;
    } else {
        const std::uint64_t n = array_bytes(es, m.ndim, m.shape);
        if (n == 0 || n != m.sample_bytes) return errc::invalid_argument;
    }
    for (std::uint32_t i = m.ndim; i < max_stream_dims; ++i) {
        if (m.shape[i] != 0) return errc::invalid_argument;
    }
    return m.sample_bytes == slot_capacity ? errc::ok : errc::invalid_argument;
}

// The description and slots of a stream configuration. check() judges them; refused here is
// only a schema name the description cannot hold (empty, too long, not UTF-8), or a hash
// without a name.
slot_description<stream_meta> stream_kind::describe(const stream_config& config) noexcept {
    slot_description<stream_meta> d;
    stream_meta& m = d.meta;
    m.dtype = static_cast<std::uint32_t>(config.type);
    if (config.type == dtype::bytes) {
        m.ndim = 0;
        m.sample_bytes = config.max_bytes;
    } else {
        m.ndim = config.ndim;  // more than max_stream_dims: check() refuses it
        if (config.ndim <= max_stream_dims) {
            for (std::uint32_t i = 0; i < config.ndim; ++i) m.shape[i] = config.shape[i];
            m.sample_bytes = array_bytes(element_size(config.type), m.ndim, m.shape);  // 0: check() refuses it
        }
    }
    if (config.schema_name != nullptr) {
        const std::size_t length = schema_name_length(config.schema_name);
        if (length == 0) d.error = errc::invalid_argument;
        else std::memcpy(m.schema.name, config.schema_name, length);  // NUL-padded: m starts zeroed
        m.schema.hash = config.schema_hash;
    } else if (config.schema_hash != 0) {
        d.error = errc::invalid_argument;  // a hash without a name: no schema a reader can name
    }
    d.slots.slots = config.slots;
    d.slots.slot_capacity = m.sample_bytes;
    d.slots.page_aligned = config.page_aligned;
    return d;
}

errc stream_kind::accept(const stream_meta& m, const stream_reader_options& options) noexcept {
    const stream_expectation& want = options.expect;
    if (static_cast<std::uint32_t>(want.type) != 0 && m.dtype != static_cast<std::uint32_t>(want.type)) {
        return errc::wrong_kind;
    }
    if (want.ndim >= 0) {
        if (static_cast<std::uint32_t>(want.ndim) != m.ndim) return errc::size_mismatch;
        for (std::uint32_t i = 0; i < m.ndim; ++i) {
            if (want.shape[i] != m.shape[i]) return errc::size_mismatch;
        }
    }
    if (want.schema_name != nullptr) {
        const std::size_t length = schema_name_length(want.schema_name);
        if (length == 0) return errc::invalid_argument;
        // m.schema passed check(): its name is NUL-terminated within the field.
        if (m.schema.hash != want.schema_hash || std::memcmp(m.schema.name, want.schema_name, length) != 0 ||
            m.schema.name[length] != 0) {
            return errc::schema_mismatch;
        }
    }
    return errc::ok;
}

errc inspect_stream(const void* base, std::uint64_t size, slot_info* slots, stream_meta* meta) noexcept {
    return detail::inspect_kind<stream_kind>(base, size, slots, meta);
}

}  // namespace shmkit
