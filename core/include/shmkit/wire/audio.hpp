// audio's description in the slot kind area (core/SPEC.md "audio").
#pragma once

#include <cstddef>
#include <cstdint>



namespace shmkit {

struct audio_meta {
    std::uint32_t channels;
    std::uint32_t sample_format;      // shmkit::sample_format
    std::uint32_t sample_rate;        // frames per second
    std::uint32_t frames_per_buffer;  // sample_rate x buffer duration
    std::uint32_t buffer_us;          // buffer duration in microseconds
    std::uint32_t bytes_per_frame;    // channels x bytes per sample
    std::uint64_t buffer_bytes;       // frames_per_buffer x bytes_per_frame
    std::uint64_t reserved[12];
};
static_assert(sizeof(audio_meta) == 128);
static_assert(offsetof(audio_meta, channels) == 0);
static_assert(offsetof(audio_meta, sample_format) == 4);
static_assert(offsetof(audio_meta, sample_rate) == 8);
static_assert(offsetof(audio_meta, frames_per_buffer) == 12);
static_assert(offsetof(audio_meta, buffer_us) == 16);
static_assert(offsetof(audio_meta, bytes_per_frame) == 20);
static_assert(offsetof(audio_meta, buffer_bytes) == 24);
static_assert(offsetof(audio_meta, reserved) == 32);

}  // namespace shmkit
