// audio: a ring of PCM buffers (libmembus memaud parity). Channels, sample format, sample rate
// and the buffer duration (hence frames per buffer) live in the segment; every buffer carries a
// pts. Over the slot ring.
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/slot_kind.hpp"
#include "shmkit/wire/audio.hpp"

namespace shmkit {

enum class sample_format : std::uint32_t { u8 = 1, s16le, s24le, s32le, f32le, f64le };
// "U8", "S16LE", "S24LE", "S32LE", "F32LE", "F64LE"; "unknown" otherwise.
const char* to_string(sample_format f) noexcept;
// Bytes per sample of one channel (3 for s24le); 0 if unknown.
std::uint32_t bytes_per_sample(sample_format f) noexcept;

struct audio_config {
    std::uint32_t channels = 2;
    sample_format format = sample_format::s16le;
    std::uint32_t sample_rate = 48000;
    std::uint32_t buffer_us = 20000;  // 20 ms buffers: 960 frames at 48 kHz
    std::uint64_t slots = 8;
    bool page_aligned = false;
};

errc audio_geometry(const audio_config& config, audio_meta* out) noexcept;

inline constexpr std::size_t audio_buffer_pts_word = 0;

// The audio slot kind (slot_kind.hpp).
struct audio_kind {
    using meta = audio_meta;
    using config = audio_config;
    using reader_options = slot_reader_options;
    static constexpr kind id = kind::audio;
    static slot_description<audio_meta> describe(const audio_config& config) noexcept;
    static errc check(const audio_meta& meta, std::uint64_t slot_capacity) noexcept;
    static errc accept(const audio_meta&, const slot_reader_options&) noexcept { return errc::ok; }

    struct writer_calls {
        // A buffer in place: fill data(), then commit().
        result<reservation> reserve_buffer(std::int64_t pts = 0) noexcept;
        // Copies whole frames in (size_mismatch otherwise, or beyond one buffer) and publishes them.
        [[nodiscard]] errc write_buffer(const void* samples, std::size_t size, std::int64_t pts = 0) noexcept;
    };
    struct reader_calls {};
};

using audio_writer = slot_kind_writer<audio_kind>;
using audio_reader = slot_kind_reader<audio_kind>;

inline std::int64_t buffer_pts(const sample_info& info) noexcept {
    return static_cast<std::int64_t>(info.meta[audio_buffer_pts_word]);
}

errc inspect_audio(const void* base, std::uint64_t size, slot_info* slots, audio_meta* meta) noexcept;

}  // namespace shmkit
