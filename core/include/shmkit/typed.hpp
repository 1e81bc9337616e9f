// Typed sequential access to a block (membridge parity): bool, u8, i32, u32, i64, u64, f32, f64,
// length-prefixed UTF-8 strings and bytes, and lists of these, at a cursor or at an offset, one
// value at a time or several as one operation (write_mixed, read_mixed).
//
// typed_cursor is the encoding over caller-given bytes, no locking. typed_view locks: it takes
// the block's lock around every call, or works under a lock the caller holds through a guard.
// Encoding (little-endian, unaligned): bool = u8 0/1; numbers at their width (floats IEEE 754);
// string/bytes = u32 length + bytes; list<T> = u32 count + count values; list of strings =
// u32 count + count strings; several values written together = each encoding in turn, nothing
// between them. Out-of-range accesses return out_of_range and move nothing.
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
    std::is_same_v<T, bool> || std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::int32_t> ||
    std::is_same_v<T, std::uint32_t> || std::is_same_v<T, std::int64_t> || std::is_same_v<T, std::uint64_t> ||
    std::is_same_v<T, float> || std::is_same_v<T, double>;

static_assert(std::numeric_limits<float>::is_iec559 && std::numeric_limits<double>::is_iec559);

// The encoding's types, for code that picks them at run time (typed_item; the Python tags).
enum class typed_type : std::uint8_t { boolean, u8, i32, u32, i64, u64, f32, f64, string, bytes };

template <class T>
constexpr typed_type typed_type_of() noexcept {
    static_assert(is_typed_scalar_v<T>, "bool, u8, i32, u32, i64, u64, f32 or f64");
    if constexpr (std::is_same_v<T, bool>) {
        return typed_type::boolean;
    } else if constexpr (std::is_same_v<T, std::uint8_t>) {
        return typed_type::u8;
    } else if constexpr (std::is_same_v<T, std::int32_t>) {
        return typed_type::i32;
    } else if constexpr (std::is_same_v<T, std::uint32_t>) {
        return typed_type::u32;
    } else if constexpr (std::is_same_v<T, std::int64_t>) {
        return typed_type::i64;
    } else if constexpr (std::is_same_v<T, std::uint64_t>) {
        return typed_type::u64;
    } else if constexpr (std::is_same_v<T, float>) {
        return typed_type::f32;
    } else {
        return typed_type::f64;
    }
}

// One value whose type is known at run time, for write_items() and write_mixed(): a scalar
// (typed_item(std::int64_t{42}), typed_item(0.5), typed_item(true)), or a string or bytes that
// are not copied (typed_item::string(text, n), typed_item::bytes(data, n): the memory must stay
// valid until the write).
class typed_item {
public:
    template <class T, std::enable_if_t<is_typed_scalar_v<T>, int> = 0>
    typed_item(T value) noexcept : type_(typed_type_of<T>()) {  // NOLINT: implicit, for write_mixed
        if constexpr (std::is_same_v<T, bool>) {
            scalar_[0] = value ? 1 : 0;
        } else {
            std::memcpy(scalar_, &value, sizeof value);
        }
    }
    static typed_item string(const char* text, std::size_t size) noexcept { return {typed_type::string, text, size}; }
    static typed_item bytes(const void* data, std::size_t size) noexcept { return {typed_type::bytes, data, size}; }

    typed_type type() const noexcept { return type_; }
    // The bytes it takes encoded (a string or bytes: its u32 length, then itself).
    std::size_t encoded_size() const noexcept;

private:
    friend class typed_cursor;
    typed_item(typed_type type, const void* data, std::size_t size) noexcept : type_(type), data_(data), size_(size) {}

    typed_type type_;
    std::uint8_t scalar_[8] = {};  // a scalar's bytes, as the encoding stores them
    const void* data_ = nullptr;   // a string's or bytes' (size_ of them)
    std::size_t size_ = 0;
};

// Where read_mixed() puts a string or bytes it reads: `capacity` bytes at `data`; `size`
// receives the length.
struct typed_string_out {
    char* data;
    std::size_t capacity;
    std::size_t size = 0;
};
struct typed_bytes_out {
    void* data;
    std::size_t capacity;
    std::size_t size = 0;
};

class typed_cursor {
public:
    typed_cursor() noexcept = default;
    typed_cursor(std::uint8_t* data, std::size_t size, bool writable) noexcept
        : data_(data), size_(size), writable_(writable) {}

    std::size_t position() const noexcept { return pos_; }
    std::size_t size() const noexcept { return size_; }
    // Bytes from the cursor to the end.
    std::size_t remaining() const noexcept { return pos_ <= size_ ? size_ - pos_ : 0; }
    [[nodiscard]] errc seek(std::size_t pos) noexcept {
        if (pos > size_) return errc::out_of_range;
        pos_ = pos;
        return errc::ok;
    }

    template <class T>
    [[nodiscard]] errc write(T value) noexcept {
        static_assert(is_typed_scalar_v<T>, "bool, u8, i32, u32, i64, u64, f32 or f64");
        if constexpr (std::is_same_v<T, bool>) {
            const std::uint8_t b = value ? 1 : 0;
            return put(&b, 1);
        } else {
            return put(&value, sizeof value);
        }
    }
    template <class T>
    result<T> read() noexcept {
        static_assert(is_typed_scalar_v<T>, "bool, u8, i32, u32, i64, u64, f32 or f64");
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

    // Writes `count` values one after the other, as one operation: all of them, or none when
    // one is refused (invalid_argument: a string that is not UTF-8, a string or bytes over 4 GiB;
    // out_of_range: they do not all fit; access_denied). Checked before the first byte is written.
    [[nodiscard]] errc write_items(const typed_item* items, std::size_t count) noexcept;
    // write_items() of its arguments: typed scalars and typed_items.
    template <class... Items>
    [[nodiscard]] errc write_mixed(const Items&... items) noexcept {
        static_assert(sizeof...(Items) > 0, "nothing to write");
        const typed_item list[] = {typed_item(items)...};
        return write_items(list, sizeof...(Items));
    }
    // Reads values one after the other into its arguments, as one operation: typed scalars,
    // typed_string_out and typed_bytes_out. On any error (that of the first value refused) the
    // cursor is where it was and the arguments hold nothing meaningful.
    template <class... Outs>
    [[nodiscard]] errc read_mixed(Outs&... outs) noexcept {
        static_assert(sizeof...(Outs) > 0, "nothing to read");
        const std::size_t start = pos_;
        errc e = errc::ok;
        static_cast<void>(((e = read_into(outs), !failed(e)) && ...));  // in order, up to a failure
        if (failed(e)) pos_ = start;
        return e;
    }

    // Zeroes all the bytes (not only those after the cursor); the cursor stays.
    [[nodiscard]] errc zero() noexcept;

private:
    bool room(std::size_t n) const noexcept { return pos_ <= size_ && n <= size_ - pos_; }
    errc put(const void* src, std::size_t n) noexcept;
    errc get(void* dst, std::size_t n) noexcept;
    template <class T>
    errc read_into(T& out) noexcept {
        auto v = read<T>();
        if (!v) return v.error();
        out = *v;
        return errc::ok;
    }
    errc read_into(typed_string_out& out) noexcept;
    errc read_into(typed_bytes_out& out) noexcept;

    std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t pos_ = 0;
    bool writable_ = false;
};

// How a typed_view's calls are locked: the lock state is the view's, stated when it is made,
// never guessed (the block's lock is not recursive).
enum class typed_locking : std::uint8_t {
    per_call,          // each call takes the lock (shared to read, exclusive to write) and releases it
    under_read_lock,   // the caller holds a read lock (a shared_guard): reads only, none locks
    under_write_lock,  // the caller holds the write lock (a unique_guard): no call locks
};

// Typed access to a block under its lock. A lock taken from a writer that died (or a guard
// that did) is noted in inconsistent(): the data it protects may be half-updated. The `_at`
// forms work at an offset and leave the cursor alone.
//
//     typed_view v(*b);                  // every call locks for itself
//     v.write(std::int64_t{42});
//     v.write_mixed(std::int64_t{1}, 0.5, typed_item::string("ok", 2));  // one lock, all or nothing
//     {
//         unique_guard g(*b, timeout);   // several calls as one update: check g.held() first
//         typed_view in(g);
//         in.write(std::int32_t{7});
//         in.write_string("auto", 4);
//     }
//
// Inside a guard, use a view made from it: one that locks per call would wait for the guard.
class typed_view {
public:
    explicit typed_view(block& b, nanoseconds lock_timeout = wait_forever) noexcept
        : block_(&b), cursor_(b.data(), b.size(), b.writable()), timeout_(lock_timeout) {}
    // Under the write lock `held` holds (it must hold it, and outlive the view): reads and
    // writes, none of which locks.
    explicit typed_view(unique_guard& held) noexcept
        : typed_view(held.guarded(), held.status(), typed_locking::under_write_lock) {
        SHMKIT_ASSERT(held.held());
    }
    // Under the read lock `held` holds (it must hold it, and outlive the view): reads only (a
    // write is a contract violation: it would race the other readers).
    explicit typed_view(shared_guard& held) noexcept
        : typed_view(held.guarded(), held.status(), typed_locking::under_read_lock) {
        SHMKIT_ASSERT(held.held());
    }

    typed_locking locking() const noexcept { return locking_; }
    std::size_t position() const noexcept { return cursor_.position(); }
    std::size_t tell() const noexcept { return cursor_.position(); }  // position(): files' and membridge's name
    [[nodiscard]] errc seek(std::size_t pos = 0) noexcept { return cursor_.seek(pos); }
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

    // Several values as one operation under one lock (typed_cursor's, which see): a reader sees
    // all of them or none of them, and a refused write writes nothing.
    [[nodiscard]] errc write_items(const typed_item* items, std::size_t count) noexcept {
        return exclusive([&] { return cursor_.write_items(items, count); });
    }
    template <class... Items>
    [[nodiscard]] errc write_mixed(const Items&... items) noexcept {
        return exclusive([&] { return cursor_.write_mixed(items...); });
    }
    template <class... Items>
    [[nodiscard]] errc write_mixed_at(std::size_t offset, const Items&... items) noexcept {
        return at(offset, [&] { return write_mixed(items...); });
    }
    template <class... Outs>
    [[nodiscard]] errc read_mixed(Outs&... outs) noexcept {
        return shared([&] { return cursor_.read_mixed(outs...); });
    }
    template <class... Outs>
    [[nodiscard]] errc read_mixed_at(std::size_t offset, Outs&... outs) noexcept {
        return at(offset, [&] { return read_mixed(outs...); });
    }

    // Zeroes the whole block under the write lock; the cursor stays.
    [[nodiscard]] errc zero() noexcept {
        return exclusive([&] { return cursor_.zero(); });
    }

private:
    typed_view(block& b, errc guard_status, typed_locking locking) noexcept
        : block_(&b),
          cursor_(b.data(), b.size(), b.writable()),
          timeout_(wait_forever),
          locking_(locking),
          inconsistent_(guard_status == errc::owner_dead) {}

    template <class F>
    errc exclusive(F&& f) noexcept {
        SHMKIT_ASSERT(locking_ != typed_locking::under_read_lock);  // a write under a read lock
        if (locking_ == typed_locking::under_write_lock) return f();
        // A read-only handle can write nothing: refused before taking the lock for it.
        if (block_->is_open() && !block_->writable()) return errc::access_denied;
        const errc l = block_->lock(timeout_);
        if (l != errc::ok && l != errc::owner_dead) return l;
        if (l == errc::owner_dead) inconsistent_ = true;
        const errc e = f();
        block_->unlock();
        return e;
    }
    template <class F>
    errc shared(F&& f) noexcept {
        if (locking_ != typed_locking::per_call) return f();  // under the caller's lock
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
    typed_locking locking_ = typed_locking::per_call;
    bool inconsistent_ = false;
};

}  // namespace shmkit
