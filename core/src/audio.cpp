#include "shmkit/audio.hpp"

namespace shmkit {

const char* to_string(sample_format f) noexcept {
    switch (f) {
        case sample_format::u8: return "U8";
        case sample_format::s16le: return "S16LE";
        case sample_format::s24le: return "S24LE";
        case sample_format::s32le: return "S32LE";
        case sample_format::f32le: return "F32LE";
        case sample_format::f64le: return "F64LE";
    }
    return "unknown";
}

std::uint32_t bytes_per_sample(sample_format f) noexcept {
    switch (f) {
        case sample_format::u8: return 1;
        case sample_format::s16le: return 2;
        case sample_format::s24le: return 3;
        case sample_format::s32le:
        case sample_format::f32le: return 4;
        case sample_format::f64le: return 8;
    }
    return 0;
}

errc audio_geometry(const audio_config& c, audio_meta* m) noexcept {
    const std::uint32_t bps = bytes_per_sample(c.format);
    if (bps == 0 || c.channels == 0 || c.channels > 256 || c.sample_rate == 0 || c.sample_rate > 1'000'000 ||
        c.buffer_us == 0 || c.buffer_us > 10'000'000) {
        return errc::invalid_argument;
    }
    const std::uint64_t frames = std::uint64_t{c.sample_rate} * c.buffer_us / 1'000'000;
    if (frames == 0) return errc::invalid_argument;
    *m = audio_meta{};
    m->channels = c.channels;
    m->sample_format = static_cast<std::uint32_t>(c.format);
    m->sample_rate = c.sample_rate;
    m->frames_per_buffer = static_cast<std::uint32_t>(frames);
    m->buffer_us = c.buffer_us;
    m->bytes_per_frame = c.channels * bps;
    m->buffer_bytes = frames * m->bytes_per_frame;
    return errc::ok;
}

errc audio_kind::check(const audio_meta& m, std::uint64_t slot_capacity) noexcept {
    audio_config c;
    c.channels = m.channels;
    c.format = static_cast<sample_format>(m.sample_format);
    c.sample_rate = m.sample_rate;
    c.buffer_us = m.buffer_us;
    audio_meta expect;
    if (failed(audio_geometry(c, &expect))) return errc::invalid_argument;
    if (std::memcmp(&expect, &m, sizeof m) != 0) return errc::invalid_argument;
    return m.buffer_bytes == slot_capacity ? errc::ok : errc::invalid_argument;
}

slot_description<audio_meta> audio_kind::describe(const audio_config& config) noexcept {
    slot_description<audio_meta> d;
    d.error = audio_geometry(config, &d.meta);
    d.slots.slots = config.slots;
    d.slots.slot_capacity = d.meta.buffer_bytes;
    d.slots.page_aligned = config.page_aligned;
    return d;
}

result<reservation> audio_kind::writer_calls::reserve_buffer(std::int64_t pts) noexcept {
    auto r = static_cast<audio_writer&>(*this).reserve();
    if (!r) return r.error();
    r->meta[audio_buffer_pts_word] = static_cast<std::uint64_t>(pts);
    return r;
}

errc audio_kind::writer_calls::write_buffer(const void* samples, std::size_t size, std::int64_t pts) noexcept {
    auto& w = static_cast<audio_writer&>(*this);
    if (!w.is_open()) return errc::not_open;  // and bytes_per_frame is 0 until it is
    const audio_meta& m = w.description();
    if (size > m.buffer_bytes || size % m.bytes_per_frame != 0) return errc::size_mismatch;
    std::uint64_t meta[slot_meta_words] = {static_cast<std::uint64_t>(pts)};
    return w.write(samples, size, meta);
}

errc inspect_audio(const void* base, std::uint64_t size, slot_info* slots, audio_meta* meta) noexcept {
    return detail::inspect_kind<audio_kind>(base, size, slots, meta);
}

}  // namespace shmkit
