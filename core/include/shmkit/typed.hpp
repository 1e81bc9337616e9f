// Typed sequential access to a block (membridge parity): bool, i32, u32, i64, u64, f32, f64,
// length-prefixed UTF-8 strings and bytes, and lists of these, at a cursor or at an offset.
//
// typed_cursor is the encoding over caller-given bytes, no locking (use it under a guard to
// write several values atomically). typed_view takes the block's lock around every call.
// Encoding (little-endian, unaligned): bool = u8 0/1; numbers at their width (floats IEEE 754);
// string/bytes = u32 length + bytes; list<T> = u32 count + count values; list of strings =
// u32 count + count strings. Out-of-range accesses return out_of_range and move nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "shmkit/block.hpp"
#include "shmkit/errc.hpp"

namespace shmkit {

// True if [data, data + size) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF).
bool is_valid_utf8(const void* data, std::size_t size) noexcept;

template <class T>
inline constexpr bool is_typed_scalar_v =
    std::is_same_v<T, bool> || std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::uint32_t> ||
    std::is_same_v<T, std::int64_t> || std::is_same_v<T, std::uint64_t> || std::is_same_v<T, float> ||
    std::is_same_v<T, double>;

static_assert(std::numeric_limits<float>::is_iec559 && std::numeric_limits<double>::is_iec559);

class typed_cursor {
public:
    typed_cursor() noexcept = default;
    typed_cursor(std::uint8_t* data, std::size_t size, bool writable) noexcept
        : data_(data), size_(size), writable_(writable) {}

    std::size_t position() const noexcept { return pos_; }
    std::size_t size() const noexcept { return size_; }
    [[nodiscard]] errc seek(std::size_t pos) noexcept {
        if (pos > size_) return errc::out_of_range;
        pos_ = pos;
        return errc::ok;
    }

    template <class T>
    [[nodiscard]] errc write(T value) noexcept {
        static_assert(is_typed_scalar_v<T>, "bool, i32, u32, i64, u64, f32 or f64");
        if constexpr (std::is_same_v<T, bool>) {
            const std::uint8_t b = value ? 1 : 0;
            return put(&b, 1);
        } else {
            return put(&value, sizeof value);
        }
    }
    template <class T>
    result<T> read() noexcept {
        static_assert(is_typed_scalar_v<T>, "bool, i32, u32, i64, u64, f32 or f64");
        if constexpr (std::is_same_v<T, bool>) {
            std::uint8_t b = 0;
            const errc e = get(&b, 1);
            if (failed(e)) return e;
            if (b > 1) return errc::invalid_layout;
            return b == 1;
        } else {
            T v{};
            const errc e = get(&v, sizeof v);
            if (failed(e)) return e;
            return v;
        }
    }

    // u32 length + UTF-8 bytes; invalid_argument if not valid UTF-8.
    [[nodiscard]] errc write_string(const char* text, std::size_t length) noexcept;
    // u32 length + bytes.
    [[nodiscard]] errc write_bytes(const void* bytes, std::size_t length) noexcept;
    // The length prefix at the cursor (string, bytes or list count), without moving.
    result<std::uint32_t> peek_length() const noexcept;
    // Reads into out (capacity bytes): the length; message_too_large (nothing moved) if it does
    // not fit; invalid_layout for a string that is not valid UTF-8.
    result<std::size_t> read_string(char* out, std::size_t capacity) noexcept;
    result<std::size_t> read_bytes(void* out, std::size_t capacity) noexcept;

    template <class T>
    [[nodiscard]] errc write_list(const T* items, std::size_t count) noexcept {
        static_assert(is_typed_scalar_v<T>);
        if (count > 0xFFFF'FFFFu) return errc::invalid_argument;
        const std::size_t width = std::is_same_v<T, bool> ? 1 : sizeof(T);
        if (!room(4 + count * width)) return errc::out_of_range;
        const std::size_t start = pos_;
        static_cast<void>(write<std::uint32_t>(static_cast<std::uint32_t>(count)));
        for (std::size_t i = 0; i < count; ++i) {
            if (failed(write<T>(items[i]))) {
                pos_ = start;
                return errc::out_of_range;
            }
        }
        return errc::ok;
    }
    // Reads a list into out (capacity items): the count; message_too_large if it does not fit.
    template <class T>
    result<std::size_t> read_list(T* out, std::size_t capacity) noexcept {
        static_assert(is_typed_scalar_v<T>);
        const std::size_t start = pos_;
        auto n = read<std::uint32_t>();
        if (!n) return n.error();
        const std::size_t width = std::is_same_v<T, bool> ? 1 : sizeof(T);
        if (*n > capacity) {
            pos_ = start;
            return errc::message_too_large;
        }
        if (!room(std::size_t{*n} * width)) {
            pos_ = start;
            return errc::out_of_range;
        }
        for (std::uint32_t i = 0; i < *n; ++i) {
            auto v = read<T>();
            if (!v) {
                pos_ = start;
                return v.error();
            }
            out[i] = *v;
        }
        return std::size_t{*n};
    }

private:
    bool room(std::size_t n) const noexcept { return pos_ <= size_ && n <= size_ - pos_; }
    errc put(const void* src, std::size_t n) noexcept;
    errc get(void* dst, std::size_t n) noexcept;

    std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t pos_ = 0;
    bool writable_ = false;
};

// Every call takes the block's lock (shared for reads, exclusive for writes) for its duration.
// A lock taken from a writer that died is noted in inconsistent(): the data it protects may be
// half-updated. The `_at` forms work at an offset and leave the cursor alone.
class typed_view {
public:
    explicit typed_view(block& b, nanoseconds lock_timeout = wait_forever) noexcept
        : block_(&b), cursor_(b.data(), b.size(), b.writable()), timeout_(lock_timeout) {}

    std::size_t position() const noexcept { return cursor_.position(); }
    [[nodiscard]] errc seek(std::size_t pos) noexcept { return cursor_.seek(pos); }
    bool inconsistent() const noexcept { return inconsistent_; }
    void clear_inconsistent() noexcept { inconsistent_ = false; }

    template <class T>
    [[nodiscard]] errc write(T value) noexcept {
        return exclusive([&] { return cursor_.write<T>(value); });
    }
    template <class T>
    [[nodiscard]] errc write_at(std::size_t offset, T value) noexcept {
        return at(offset, [&] { return write<T>(value); });
    }
    template <class T>
    result<T> read() noexcept {
        result<T> out = errc::not_open;
        const errc e = shared([&] {
            out = cursor_.read<T>();
            return out ? errc::ok : out.error();
        });
        if (failed(e)) return e;
        return out;
    }
    template <class T>
    result<T> read_at(std::size_t offset) noexcept {
        result<T> out = errc::not_open;
        const errc e = at(offset, [&] {
            out = read<T>();
            return out ? errc::ok : out.error();
        });
        if (failed(e)) return e;
        return out;
    }
    [[nodiscard]] errc write_string(const char* text, std::size_t length) noexcept {
        return exclusive([&] { return cursor_.write_string(text, length); });
    }
    [[nodiscard]] errc write_bytes(const void* bytes, std::size_t length) noexcept {
        return exclusive([&] { return cursor_.write_bytes(bytes, length); });
    }
    result<std::size_t> read_string(char* out, std::size_t capacity) noexcept {
        return read_sized([&] { return cursor_.read_string(out, capacity); });
    }
    result<std::size_t> read_bytes(void* out, std::size_t capacity) noexcept {
        return read_sized([&] { return cursor_.read_bytes(out, capacity); });
    }
    template <class T>
    [[nodiscard]] errc write_list(const T* items, std::size_t count) noexcept {
        return exclusive([&] { return cursor_.write_list<T>(items, count); });
    }
    template <class T>
    result<std::size_t> read_list(T* out, std::size_t capacity) noexcept {
        return read_sized([&] { return cursor_.read_list<T>(out, capacity); });
    }
    result<std::uint32_t> peek_length() noexcept {
        result<std::uint32_t> out = errc::not_open;
        const errc e = shared([&] {
            out = cursor_.peek_length();
            return out ? errc::ok : out.error();
        });
        if (failed(e)) return e;
        return out;
    }

private:
    template <class F>
    errc exclusive(F&& f) noexcept {
        const errc l = block_->lock(timeout_);
        if (l != errc::ok && l != errc::owner_dead) return l;
        if (l == errc::owner_dead) inconsistent_ = true;
        const errc e = f();
        block_->unlock();
        return e;
    }
    template <class F>
    errc shared(F&& f) noexcept {
        const errc l = block_->lock_shared(timeout_);
        if (l != errc::ok && l != errc::owner_dead) return l;
        if (l == errc::owner_dead) inconsistent_ = true;
        const errc e = f();
        block_->unlock_shared();
        return e;
    }
    template <class F>
    errc at(std::size_t offset, F&& f) noexcept {
        const std::size_t saved = cursor_.position();
        errc e = cursor_.seek(offset);
        if (failed(e)) return e;
        e = f();
        static_cast<void>(cursor_.seek(saved));
        return e;
    }
    template <class F>
    result<std::size_t> read_sized(F&& f) noexcept {
        result<std::size_t> out = errc::not_open;
        const errc e = shared([&] {
            out = f();
            return out ? errc::ok : out.error();
        });
        if (failed(e)) return e;
        return out;
    }

    block* block_;
    typed_cursor cursor_;
    nanoseconds timeout_;
    bool inconsistent_ = false;
};

}  // namespace shmkit
