#include "shmkit/typed.hpp"

namespace shmkit {

bool is_valid_utf8(const void* data, std::size_t size) noexcept {
    const auto* s = static_cast<const std::uint8_t*>(data);
    std::size_t i = 0;
    while (i < size) {
        const std::uint8_t c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t n;
        std::uint32_t cp;
        if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (size - i - 1 < n) return false;
        for (std::size_t k = 1; k <= n; ++k) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        const std::uint32_t min[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += n + 1;
    }
    return true;
}

errc typed_cursor::put(const void* src, std::size_t n) noexcept {
    if (data_ == nullptr) return errc::not_open;
    if (!writable_) return errc::access_denied;
    if (!room(n)) return errc::out_of_range;
    std::memcpy(data_ + pos_, src, n);
    pos_ += n;
    return errc::ok;
}

errc typed_cursor::get(void* dst, std::size_t n) noexcept {
    if (data_ == nullptr) return errc::not_open;
    if (!room(n)) return errc::out_of_range;
    std::memcpy(dst, data_ + pos_, n);
    pos_ += n;
    return errc::ok;
}

errc typed_cursor::write_bytes(const void* bytes, std::size_t length) noexcept {
    if (length > 0xFFFF'FFFFu) return errc::invalid_argument;
    if (!writable_) return errc::access_denied;
    if (!room(4 + length)) return errc::out_of_range;
    static_cast<void>(write<std::uint32_t>(static_cast<std::uint32_t>(length)));
    return put(bytes, length);
}

errc typed_cursor::write_string(const char* text, std::size_t length) noexcept {
    if (!is_valid_utf8(text, length)) return errc::invalid_argument;
    return write_bytes(text, length);
}

result<std::uint32_t> typed_cursor::peek_length() const noexcept {
    if (data_ == nullptr) return errc::not_open;
    if (!room(4)) return errc::out_of_range;
    std::uint32_t n;
    std::memcpy(&n, data_ + pos_, 4);
    return n;
}

result<std::size_t> typed_cursor::read_bytes(void* out, std::size_t capacity) noexcept {
    auto n = peek_length();
    if (!n) return n.error();
    if (!room(4 + std::size_t{*n})) return errc::out_of_range;
    if (*n > capacity) return errc::message_too_large;
    pos_ += 4;
    return get(out, *n) == errc::ok ? result<std::size_t>(std::size_t{*n}) : result<std::size_t>(errc::out_of_range);
}

result<std::size_t> typed_cursor::read_string(char* out, std::size_t capacity) noexcept {
    auto n = peek_length();
    if (!n) return n.error();
    if (!room(4 + std::size_t{*n})) return errc::out_of_range;
    if (!is_valid_utf8(data_ + pos_ + 4, *n)) return errc::invalid_layout;
    return read_bytes(out, capacity);
}

namespace {

std::size_t scalar_width(typed_type t) noexcept {
    switch (t) {
        case typed_type::boolean:
        case typed_type::u8: return 1;
        case typed_type::i32:
        case typed_type::u32:
        case typed_type::f32: return 4;
        case typed_type::i64:
        case typed_type::u64:
        case typed_type::f64: return 8;
        case typed_type::string:
        case typed_type::bytes: break;
    }
    return 0;
}

bool sized(typed_type t) noexcept { return t == typed_type::string || t == typed_type::bytes; }

}  // namespace

std::size_t typed_item::encoded_size() const noexcept { return sized(type_) ? 4 + size_ : scalar_width(type_); }

errc typed_cursor::write_items(const typed_item* items, std::size_t count) noexcept {
    if (data_ == nullptr) return errc::not_open;
    if (!writable_) return errc::access_denied;
    // Everything is checked before anything is written.
    std::size_t total = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const typed_item& item = items[i];
        if (sized(item.type_)) {
            if (item.size_ > 0xFFFF'FFFFu) return errc::invalid_argument;
            if (item.type_ == typed_type::string && !is_valid_utf8(item.data_, item.size_)) return errc::invalid_argument;
        }
        const std::size_t n = item.encoded_size();
        if (n > remaining() - total) return errc::out_of_range;  // total <= remaining() throughout
        total += n;
    }
    for (std::size_t i = 0; i < count; ++i) {
        const typed_item& item = items[i];
        if (sized(item.type_)) {
            const auto length = static_cast<std::uint32_t>(item.size_);
            static_cast<void>(put(&length, 4));
            if (item.size_ != 0) static_cast<void>(put(item.data_, item.size_));  // data_ may be null then
        } else {
            static_cast<void>(put(item.scalar_, scalar_width(item.type_)));
        }
    }
    return errc::ok;
}

errc typed_cursor::read_into(typed_string_out& out) noexcept {
    auto n = read_string(out.data, out.capacity);
    if (!n) return n.error();
    out.size = *n;
    return errc::ok;
}

errc typed_cursor::read_into(typed_bytes_out& out) noexcept {
    auto n = read_bytes(out.data, out.capacity);
    if (!n) return n.error();
    out.size = *n;
    return errc::ok;
}

errc typed_cursor::zero() noexcept {
    if (data_ == nullptr) return errc::not_open;
    if (!writable_) return errc::access_denied;
    std::memset(data_, 0, size_);
    return errc::ok;
}

}  // namespace shmkit
