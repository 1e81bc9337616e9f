// video's description in the slot kind area (core/SPEC.md "video").
#pragma once

#include <cstddef>
#include <cstdint>



namespace shmkit {

struct video_meta {
    std::uint32_t width;
    std::uint32_t height;
    std::uint32_t stride;        // bytes per row of the first plane (>= width * bytes per pixel)
    std::uint32_t pixel_format;  // shmkit::pixel_format
    std::uint32_t fps_num;       // frame rate as a fraction (informational)
    std::uint32_t fps_den;
    std::uint64_t frame_bytes;   // bytes of one frame, all planes
    std::uint64_t plane_offset[3];
    std::uint32_t plane_stride[3];
    std::uint32_t reserved0;
    std::uint64_t reserved[7];
};
static_assert(sizeof(video_meta) == 128);
static_assert(offsetof(video_meta, width) == 0);
static_assert(offsetof(video_meta, height) == 4);
static_assert(offsetof(video_meta, stride) == 8);
static_assert(offsetof(video_meta, pixel_format) == 12);
static_assert(offsetof(video_meta, fps_num) == 16);
static_assert(offsetof(video_meta, fps_den) == 20);
static_assert(offsetof(video_meta, frame_bytes) == 24);
static_assert(offsetof(video_meta, plane_offset) == 32);
static_assert(offsetof(video_meta, plane_stride) == 56);
static_assert(offsetof(video_meta, reserved0) == 68);
static_assert(offsetof(video_meta, reserved) == 72);

}  // namespace shmkit
