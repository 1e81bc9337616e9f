#include "shmkit/video.hpp"

namespace shmkit {

const char* to_string(pixel_format f) noexcept {
    switch (f) {
        case pixel_format::gray8: return "GRAY8";
        case pixel_format::rgb24: return "RGB24";
        case pixel_format::bgr24: return "BGR24";
        case pixel_format::rgba32: return "RGBA32";
        case pixel_format::bgra32: return "BGRA32";
        case pixel_format::yuyv422: return "YUYV422";
        case pixel_format::uyvy422: return "UYVY422";
        case pixel_format::nv12: return "NV12";
        case pixel_format::i420: return "I420";
    }
    return "unknown";
}

std::uint32_t bytes_per_pixel(pixel_format f) noexcept {
    switch (f) {
        case pixel_format::gray8:
        case pixel_format::nv12:
        case pixel_format::i420: return 1;
        case pixel_format::yuyv422:
        case pixel_format::uyvy422: return 2;
        case pixel_format::rgb24:
        case pixel_format::bgr24: return 3;
        case pixel_format::rgba32:
        case pixel_format::bgra32: return 4;
    }
    return 0;
}

std::uint32_t plane_count(pixel_format f) noexcept {
    return f == pixel_format::nv12 ? 2 : f == pixel_format::i420 ? 3 : 1;
}

errc video_geometry(const video_config& c, video_meta* m) noexcept {
    const std::uint32_t bpp = bytes_per_pixel(c.format);
    if (bpp == 0 || c.width == 0 || c.height == 0 || c.width > 65536 || c.height > 65536) return errc::invalid_argument;
    const bool subsampled = c.format == pixel_format::nv12 || c.format == pixel_format::i420;
    const bool pairs = c.format == pixel_format::yuyv422 || c.format == pixel_format::uyvy422;
    if ((subsampled && (c.width % 2 != 0 || c.height % 2 != 0)) || (pairs && c.width % 2 != 0)) {
        return errc::invalid_argument;  // chroma is shared by pixel pairs (and row pairs)
    }
    const std::uint64_t row = std::uint64_t{c.width} * bpp;
    const std::uint64_t stride = c.stride == 0 ? row : c.stride;
    if (stride < row || stride > 0xFFFF'FFFFu || (c.format == pixel_format::i420 && stride % 2 != 0)) {
        return errc::invalid_argument;
    }
    *m = video_meta{};
    m->width = c.width;
    m->height = c.height;
    m->stride = static_cast<std::uint32_t>(stride);
    m->pixel_format = static_cast<std::uint32_t>(c.format);
    m->fps_num = c.fps_num;
    m->fps_den = c.fps_den;
    const std::uint64_t luma = stride * c.height;
    m->plane_offset[0] = 0;
    m->plane_stride[0] = static_cast<std::uint32_t>(stride);
    if (c.format == pixel_format::nv12) {
        m->plane_offset[1] = luma;  // interleaved UV, half height
        m->plane_stride[1] = static_cast<std::uint32_t>(stride);
        m->frame_bytes = luma + stride * (c.height / 2);
    } else if (c.format == pixel_format::i420) {
        const std::uint64_t chroma = (stride / 2) * (c.height / 2);
        m->plane_offset[1] = luma;  // U, then V, each half width and half height
        m->plane_offset[2] = luma + chroma;
        m->plane_stride[1] = m->plane_stride[2] = static_cast<std::uint32_t>(stride / 2);
        m->frame_bytes = luma + 2 * chroma;
    } else {
        m->frame_bytes = luma;
    }
    return errc::ok;
}

errc video_kind::check(const video_meta& m, std::uint64_t slot_capacity) noexcept {
    video_config c;
    c.width = m.width;
    c.height = m.height;
    c.format = static_cast<pixel_format>(m.pixel_format);
    c.stride = m.stride;
    c.fps_num = m.fps_num;
    c.fps_den = m.fps_den;
    video_meta expect;
    if (failed(video_geometry(c, &expect))) return errc::invalid_argument;
    // Every derived field (and the reserved ones) must be exactly what the geometry says.
    if (std::memcmp(&expect, &m, sizeof m) != 0) return errc::invalid_argument;
    return m.frame_bytes == slot_capacity ? errc::ok : errc::invalid_argument;
}

slot_description<video_meta> video_kind::describe(const video_config& config) noexcept {
    slot_description<video_meta> d;
    d.error = video_geometry(config, &d.meta);
    d.slots.slots = config.slots;
    d.slots.slot_capacity = d.meta.frame_bytes;
    d.slots.page_aligned = config.page_aligned;
    return d;
}

result<reservation> video_kind::writer_calls::reserve_frame(std::int64_t video_pts, std::int64_t audio_pts) noexcept {
    auto r = static_cast<video_writer&>(*this).reserve();
    if (!r) return r.error();
    r->meta[video_pts_word] = static_cast<std::uint64_t>(video_pts);
    r->meta[audio_pts_word] = static_cast<std::uint64_t>(audio_pts);
    return r;
}

errc video_kind::writer_calls::write_frame(const void* pixels, std::size_t size, std::int64_t video_pts,
                                           std::int64_t audio_pts) noexcept {
    auto& w = static_cast<video_writer&>(*this);
    if (!w.is_open()) return errc::not_open;
    if (size != w.description().frame_bytes) return errc::size_mismatch;
    std::uint64_t meta[slot_meta_words] = {static_cast<std::uint64_t>(video_pts), static_cast<std::uint64_t>(audio_pts)};
    return w.write(pixels, size, meta);
}

errc inspect_video(const void* base, std::uint64_t size, slot_info* slots, video_meta* meta) noexcept {
    return detail::inspect_kind<video_kind>(base, size, slots, meta);
}

}  // namespace shmkit
