// stream, video and audio across the bridge: samples with their index, commit time and the
// kind's per-sample words (pts). By default the latest sample (keep-last 1: a slow link or
// reader skips to the newest, as a local latest() reader does); with every_sample, every sample
// in order with the exporter's losses counted. The importer makes a segment with the exported
// one's description (geometry, format, stride, schema) byte for byte, so readers on the other
// host open it as they would the original.
#include <cstring>
#include <vector>

#include "bridge_types.h"
#include "link.hpp"
#include "ros_image.h"
#include "shmkit/audio.hpp"
#include "shmkit/stream.hpp"
#include "shmkit/video.hpp"

namespace shmkit::bridge {
namespace {

// A slot kind whose writer is made from a description as stored in a segment (the exporter's,
// announced) rather than from a configuration: it checks the description as the real kind does.
template <class Real>
struct mirrored_kind {
    using meta = typename Real::meta;
    struct config {
        slot_config slots{};
        meta description{};
    };
    using reader_options = slot_reader_options;
    static constexpr kind id = Real::id;
    static slot_description<meta> describe(const config& c) noexcept {
        slot_description<meta> d;
        d.meta = c.description;
        d.slots = c.slots;
        return d;
    }
    static errc check(const meta& m, std::uint64_t slot_capacity) noexcept { return Real::check(m, slot_capacity); }
    static errc accept(const meta&, const reader_options&) noexcept { return errc::ok; }
    struct writer_calls {};
    struct reader_calls {};
};

// Whether a received sample of `size` bytes is one the segment's writer would have written.
bool sample_fits(const video_meta& m, std::uint64_t size) { return size == m.frame_bytes; }
bool sample_fits(const audio_meta& m, std::uint64_t size) {
    return size != 0 && size <= m.buffer_bytes && m.bytes_per_frame != 0 && size % m.bytes_per_frame == 0;
}
bool sample_fits(const stream_meta& m, std::uint64_t size) {
    return static_cast<dtype>(m.dtype) == dtype::bytes ? size <= m.sample_bytes : size == m.sample_bytes;
}

// Latest: keep-last 1 (a newer sample replaces one not yet sent). Every sample, reliable:
// keep-all, flow controlled as a reliable broadcast link is; best-effort: keep-last `depth` (64).
qos_ptr slot_qos(const link_config& config) {
    const bool reliable = config.qos.set ? config.qos.reliable : true;
    if (config.every_sample && reliable) return make_qos(true, config.qos.depth, false, true);
    const std::uint32_t depth = config.qos.depth ? config.qos.depth : (config.every_sample ? 64 : 1);
    return make_qos(reliable, depth, false);
}

// ROS 2's name for a pixel format (sensor_msgs/image_encodings.hpp); nullptr: none.
const char* ros_encoding(pixel_format f) {
    switch (f) {
        case pixel_format::gray8: return "mono8";
        case pixel_format::rgb24: return "rgb8";
        case pixel_format::bgr24: return "bgr8";
        case pixel_format::rgba32: return "rgba8";
        case pixel_format::bgra32: return "bgra8";
        case pixel_format::yuyv422: return "yuv422_yuy2";
        case pixel_format::uyvy422: return "yuv422";
        default: return nullptr;  // planar formats have no single-plane ROS encoding
    }
}

template <class Real>
void export_kind(const link_config& config, const bridge_context& context, link_status& status) {
    typename Real::reader_options options;
    options.from_oldest = config.every_sample;
    result<slot_kind_reader<Real>> opened = slot_kind_reader<Real>::open(config.segment.c_str(), options);
    if (!opened) {
        (void)open_failed(opened.error(), status);
        return;
    }
    slot_kind_reader<Real> reader = std::move(*opened);
    const typename Real::meta description = reader.description();

    announcement a;
    a.segment_kind = Real::id;
    const described_segment described(config.segment);
    a.source = described.identity();
    a.slots = reader.slots();
    a.slot_capacity = reader.slot_capacity();
    // Page alignment is not in the description: a segment larger than the unaligned layout has it.
    slot_config unaligned{a.slots, a.slot_capacity, false};
    std::uint64_t data_offset;
    std::uint32_t alignment;
    a.page_aligned = described.number("size") > detail::slot_segment_size(unaligned, &data_offset, &alignment);
    a.kind_meta.assign(reinterpret_cast<const char*>(&description), sizeof description);

    entity topic = make_topic(context.participant, &shmkit_bridge_Sample_desc, config.topic);
    const qos_ptr q = slot_qos(config);
    entity writer = make_writer(context.participant, topic.get(), q.get());

    // ROS 2 Image alongside (video only): the first plane's rows, as ROS describes an image.
    entity ros_topic, ros_writer;
    const char* encoding = nullptr;
    if constexpr (Real::id == kind::video) {
        if (config.ros_image) {
            encoding = ros_encoding(static_cast<pixel_format>(description.pixel_format));
            if (encoding == nullptr) {
                return status.set_state(std::string("failed: ROS 2 Image has no encoding for ") +
                                        to_string(static_cast<pixel_format>(description.pixel_format)));
            }
            ros_topic = make_topic(context.participant, &sensor_msgs_msg_dds__Image__desc, "rt/" + config.ros_topic);
            const qos_ptr rq = make_qos(config.qos.set ? config.qos.reliable : true, 1, false);
            dds_qset_ignorelocal(rq.get(), DDS_IGNORELOCAL_NONE);
            ros_writer = make_writer(context.participant, ros_topic.get(), rq.get());
        }
    }
    announce(context, config.topic, a);
    status.set_state("running");

    std::vector<std::uint8_t> buffer(reader.slot_capacity());
    shmkit_bridge_Sample s{};
    s.source = a.source;
    unsigned idle_turns = 0;
    while (!context.stopping()) {
        report_export(writer.get(), status);
        const auto wait = std::chrono::milliseconds(100);
        const result<sample_info> got = config.every_sample ? reader.next(buffer.data(), buffer.size(), wait)
                                                            : reader.wait_latest(buffer.data(), buffer.size(), wait);
        if (!got) {
            if (keep_reading(got.error(), config, a.source, &idle_turns, status)) continue;
            return;
        }
        status.lost += got->lost;
        s.index = got->index;
        s.timestamp_ns = got->timestamp_ns;
        std::memcpy(s.meta, got->meta, sizeof s.meta);
        s.data._length = s.data._maximum = static_cast<std::uint32_t>(got->size);
        s.data._buffer = buffer.data();
        if (write_waiting(writer.get(), &s, context) == DDS_RETCODE_OK) ++status.samples;
        if constexpr (Real::id == kind::video) {
            if (ros_writer.get() > 0) {
                sensor_msgs_msg_dds__Image_ image{};
                const std::uint64_t now = wall_clock_ns();
                image.header.stamp.sec = static_cast<std::int32_t>(now / 1000000000u);
                image.header.stamp.nanosec = static_cast<std::uint32_t>(now % 1000000000u);
                image.header.frame_id = const_cast<char*>(config.segment.c_str());
                image.height = description.height;
                image.width = description.width;
                image.encoding = const_cast<char*>(encoding);
                image.is_bigendian = 0;
                image.step = description.stride;
                image.data._length = image.data._maximum = description.stride * description.height;
                image.data._buffer = buffer.data();
                (void)write_waiting(ros_writer.get(), &image, context);
            }
        }
    }
}

template <class Real>
void import_kind(const link_config& config, const bridge_context& context, link_status& status,
                 announcement_watch& watch) {
    const announcement a = watch.latest();  // a copy: the segment is made from this one
    using kind_type = mirrored_kind<Real>;
    typename kind_type::config made_config;
    if (a.kind_meta.size() != sizeof made_config.description) {
        return status.set_state("failed: the announced description is not " +
                                std::to_string(sizeof made_config.description) + " bytes");
    }
    std::memcpy(&made_config.description, a.kind_meta.data(), sizeof made_config.description);
    made_config.slots = slot_config{a.slots, a.slot_capacity, a.page_aligned};
    using writer_type = slot_kind_writer<kind_type>;
    result<writer_type> made =
        open_or_create<writer_type>([&] { return writer_type::open(config.segment.c_str()); },
                                    [&] { return writer_type::create(config.segment.c_str(), made_config); });
    if (!made) return status.set_state(std::string("failed: making the segment: ") + to_string(made.error()));
    slot_kind_writer<kind_type> writer = std::move(*made);
    if (std::memcmp(&writer.description(), &made_config.description, sizeof made_config.description) != 0 ||
        writer.slot_capacity() != a.slot_capacity) {
        return status.set_state("failed: a segment of that name exists with another description");
    }

    entity topic = make_topic(context.participant, &shmkit_bridge_Sample_desc, config.topic);
    const qos_ptr q = slot_qos(config);
    std::uint64_t position[2] = {};  // the exported segment's identity, the index expected next
    bool started = status.saved_position(position, 2);
    std::uint64_t& source = position[0];
    std::uint64_t& expected = position[1];
    // Each sample is written into the segment on DDS's receiving thread, as it arrives.
    listened_reader<shmkit_bridge_Sample> reader(context.participant, topic.get(), q.get(), [&](const shmkit_bridge_Sample& s) {
        if (!sample_fits(made_config.description, s.data._length) || !watch.accepts(s.source)) {
            ++status.dropped;
            return;
        }
        if (!started || s.source != source) {
            started = true;
            source = s.source;
            expected = s.index;
        }
        if (s.index < expected) return;  // delivered already
        if (s.index - expected > max_plausible_gap) {
            ++status.dropped;
            return;
        }
        // Skipped samples are lost only to an every-sample link; a latest link skips by design.
        if (config.every_sample) status.lost += s.index - expected;
        expected = s.index + 1;
        if (failed(writer.write(s.data._buffer, s.data._length, s.meta))) {
            ++status.dropped;
            return;
        }
        ++status.samples;
        status.save_position(position, 2);
    });
    status.set_state("running");
    report_until_stopped(reader.get(), context, status);
}

}  // namespace

void export_slots(kind k, const link_config& config, const bridge_context& context, link_status& status) {
    if (config.ros_image && k != kind::video) return status.set_state("failed: ros_image is for video segments");
    switch (k) {
        case kind::stream: return export_kind<stream_kind>(config, context, status);
        case kind::video: return export_kind<video_kind>(config, context, status);
        default: return export_kind<audio_kind>(config, context, status);
    }
}

void import_slots(const link_config& config, const bridge_context& context, link_status& status,
                  announcement_watch& watch) {
    switch (watch.latest().segment_kind) {
        case kind::stream: return import_kind<stream_kind>(config, context, status, watch);
        case kind::video: return import_kind<video_kind>(config, context, status, watch);
        default: return import_kind<audio_kind>(config, context, status, watch);
    }
}

}  // namespace shmkit::bridge
