// video: a zero-copy ring of frames (libmembus memvid parity). Width, height, stride, pixel
// format and frame rate live in the segment; every frame carries a video pts, an audio pts and
// its sequence number. The writer fills a slot in place and publishes it; readers take the newest
// frame or every frame in order. Over the slot ring.
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/slot_kind.hpp"
#include "shmkit/wire/video.hpp"

namespace shmkit {

enum class pixel_format : std::uint32_t {
    gray8 = 1, rgb24, bgr24, rgba32, bgra32, yuyv422, uyvy422, nv12, i420,
};
// "GRAY8", "RGB24", ..., "NV12", "I420"; "unknown" otherwise.
const char* to_string(pixel_format f) noexcept;
// Bytes per pixel of the first plane (1 for the planar formats' luma plane); 0 if unknown.
std::uint32_t bytes_per_pixel(pixel_format f) noexcept;
// Planes: 1 for packed formats, 2 for nv12, 3 for i420.
std::uint32_t plane_count(pixel_format f) noexcept;

struct video_config {
    std::uint32_t width = 640, height = 480;
    pixel_format format = pixel_format::rgb24;
    std::uint32_t stride = 0;  // 0: width * bytes per pixel
    std::uint32_t fps_num = 30, fps_den = 1;
    std::uint64_t slots = 4;
    bool page_aligned = true;  // frames are often handed to DMA engines
};

// Computes the frame geometry (stride, planes, frame size) of a configuration.
errc video_geometry(const video_config& config, video_meta* out) noexcept;

// Per-frame fields in the slot header's meta words.
inline constexpr std::size_t video_pts_word = 0;
inline constexpr std::size_t audio_pts_word = 1;

// The video slot kind (slot_kind.hpp).
struct video_kind {
    using meta = video_meta;
    using config = video_config;
    using reader_options = slot_reader_options;
    static constexpr kind id = kind::video;
    static slot_description<video_meta> describe(const video_config& config) noexcept;
    static errc check(const video_meta& meta, std::uint64_t slot_capacity) noexcept;
    static errc accept(const video_meta&, const slot_reader_options&) noexcept { return errc::ok; }

    struct writer_calls {
        // A frame in place: fill data(), then commit().
        result<reservation> reserve_frame(std::int64_t video_pts = 0, std::int64_t audio_pts = 0) noexcept;
        // Copies one whole frame in (size_mismatch for any other size) and publishes it.
        [[nodiscard]] errc write_frame(const void* pixels, std::size_t size, std::int64_t video_pts = 0,
                                       std::int64_t audio_pts = 0) noexcept;
    };
    struct reader_calls {};
};

using video_writer = slot_kind_writer<video_kind>;
using video_reader = slot_kind_reader<video_kind>;

inline std::int64_t video_pts(const sample_info& info) noexcept {
    return static_cast<std::int64_t>(info.meta[video_pts_word]);
}
inline std::int64_t audio_pts(const sample_info& info) noexcept {
    return static_cast<std::int64_t>(info.meta[audio_pts_word]);
}

errc inspect_video(const void* base, std::uint64_t size, slot_info* slots, video_meta* meta) noexcept;

}  // namespace shmkit
