// The DDS side of the bridge tests, with no shmkit in it: what other DDS programs on the network
// do with the bridge's topics.
//
//   shmkit_bridge_dds_tool ros-image-sub TOPIC COUNT TIMEOUT_S WIDTH HEIGHT
//       A ROS 2 style subscriber of sensor_msgs/msg/Image on "rt/TOPIC" (best-effort, as ROS
//       2's sensor-data QoS), built from the same IDL a ROS 2 installation uses: waits for COUNT
//       images of WIDTH x HEIGHT rgb8 and checks each frame as shmkit_bridge_peer wrote it
//       (index first, FNV-1a of the rest in the last 8 bytes). Prints "images=N".
//   shmkit_bridge_dds_tool hostile TOPIC KIND SECONDS
//       Publishes samples no exporter would send on a bridge topic, KIND broadcast (messages
//       larger than any segment takes), video (frames of the wrong size) or kv (unknown keys,
//       oversize values), 20 a second. Prints "sent=N".
//
// Cyclone is configured by CYCLONEDDS_URI (the test binds it to one host's interface).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <dds/dds.h>

#include "bridge_types.h"
#include "ros_image.h"

namespace {

std::uint64_t fnv1a(const std::uint8_t* p, std::size_t n) {
    std::uint64_t h = 14695981039346656037ull;
    for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

int fail(const std::string& what) {
    std::fprintf(stderr, "shmkit_bridge_dds_tool: %s\n", what.c_str());
    return 1;
}

int ros_image_sub(const std::string& topic, long count, double timeout_s, std::uint32_t width, std::uint32_t height) {
    const dds_entity_t participant = dds_create_participant(DDS_DOMAIN_DEFAULT, nullptr, nullptr);
    if (participant < 0) return fail("participant");
    const dds_entity_t t = dds_create_topic(participant, &sensor_msgs_msg_dds__Image__desc, ("rt/" + topic).c_str(),
                                            nullptr, nullptr);
    dds_qos_t* q = dds_create_qos();
    dds_qset_reliability(q, DDS_RELIABILITY_BEST_EFFORT, 0);
    dds_qset_history(q, DDS_HISTORY_KEEP_LAST, 5);
    const dds_entity_t reader = dds_create_reader(participant, t, q, nullptr);
    dds_delete_qos(q);
    if (t < 0 || reader < 0) return fail("topic or reader");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    long images = 0, bad = 0;
    std::string problem;
    while (images < count && std::chrono::steady_clock::now() < deadline) {
        void* samples[8] = {};
        dds_sample_info_t infos[8];
        const dds_return_t n = dds_take(reader, samples, infos, 8, 8);
        if (n <= 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            continue;
        }
        for (dds_return_t i = 0; i < n; ++i) {
            if (!infos[i].valid_data) continue;
            const auto* m = static_cast<const sensor_msgs_msg_dds__Image_*>(samples[i]);
            const std::size_t size = m->data._length;
            const bool shape = m->width == width && m->height == height && m->step == width * 3 &&
                               std::strcmp(m->encoding, "rgb8") == 0 && m->is_bigendian == 0 &&
                               size == std::size_t{width} * 3 * height && size >= 16;
            std::uint64_t sum = 0;
            if (shape) std::memcpy(&sum, m->data._buffer + size - 8, 8);
            if (!shape || sum != fnv1a(m->data._buffer, size - 8)) {
                if (bad++ == 0) {
                    problem = "image " + std::to_string(m->width) + "x" + std::to_string(m->height) + " " +
                              m->encoding + " step " + std::to_string(m->step) + " size " + std::to_string(size) +
                              (shape ? ": checksum mismatch" : ": not the frame written");
                }
                continue;
            }
            ++images;
        }
        dds_return_loan(reader, samples, n);
    }
    dds_delete(participant);
    std::printf("images=%ld bad=%ld\n", images, bad);
    if (bad != 0) return fail(problem);
    return images >= count ? 0 : fail("timed out");
}

int hostile(const std::string& topic, const std::string& kind, double seconds) {
    const dds_entity_t participant = dds_create_participant(DDS_DOMAIN_DEFAULT, nullptr, nullptr);
    if (participant < 0) return fail("participant");
    const bool kv = kind == "kv";
    const dds_topic_descriptor_t* type = kind == "broadcast" ? &shmkit_bridge_Message_desc
                                         : kind == "video"   ? &shmkit_bridge_Sample_desc
                                         : kv                ? &shmkit_bridge_KvEntry_desc
                                                             : nullptr;
    if (type == nullptr) return fail("KIND: broadcast, video or kv");
    const dds_entity_t t = dds_create_topic(participant, type, topic.c_str(), nullptr, nullptr);
    dds_qos_t* q = dds_create_qos();
    dds_qset_reliability(q, DDS_RELIABILITY_RELIABLE, DDS_SECS(1));
    dds_qset_history(q, DDS_HISTORY_KEEP_LAST, 1);
    // The bridge's kv readers ask for transient-local data: only such a writer matches them.
    dds_qset_durability(q, kv ? DDS_DURABILITY_TRANSIENT_LOCAL : DDS_DURABILITY_VOLATILE);
    const dds_entity_t writer = dds_create_writer(participant, t, q, nullptr);
    dds_delete_qos(q);
    if (t < 0 || writer < 0) return fail("topic or writer");
    std::vector<std::uint8_t> junk(8 << 20, 0xA5);  // 8 MiB: beyond any test segment
    long sent = 0;
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
        dds_return_t r = DDS_RETCODE_OK;
        if (kind == "broadcast") {
            shmkit_bridge_Message m{};
            m.source = 1;
            m.seq = static_cast<std::uint64_t>(sent);
            m.data._length = m.data._maximum = static_cast<std::uint32_t>(junk.size());
            m.data._buffer = junk.data();
            r = dds_write(writer, &m);
        } else if (kind == "video") {
            shmkit_bridge_Sample s{};
            s.source = 1;
            s.index = static_cast<std::uint64_t>(sent);
            s.data._length = s.data._maximum = 1000 + static_cast<std::uint32_t>(sent);  // never a whole frame
            s.data._buffer = junk.data();
            r = dds_write(writer, &s);
        } else {
            shmkit_bridge_KvEntry e{};
            std::string key = sent % 2 ? "no-such-key" : "mode";
            e.key = key.data();
            e.stamp_ns = ~0ull;  // would win every conflict, were it taken
            e.origin = 1;
            // An unknown key, or a known one with a value beyond what the store holds.
            e.value._length = e.value._maximum = sent % 2 ? 4 : 4096;
            e.value._buffer = junk.data();
            r = dds_write(writer, &e);
        }
        if (r == DDS_RETCODE_OK) ++sent;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    dds_delete(participant);
    std::printf("sent=%ld\n", sent);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "ros-image-sub" && argc == 7) {
        return ros_image_sub(argv[2], std::atol(argv[3]), std::atof(argv[4]),
                             static_cast<std::uint32_t>(std::atol(argv[5])), static_cast<std::uint32_t>(std::atol(argv[6])));
    }
    if (cmd == "hostile" && argc == 5) return hostile(argv[2], argv[3], std::atof(argv[4]));
    std::fprintf(stderr,
                 "usage: shmkit_bridge_dds_tool ros-image-sub TOPIC COUNT TIMEOUT_S WIDTH HEIGHT\n"
                 "       shmkit_bridge_dds_tool hostile TOPIC KIND SECONDS\n");
    return 2;
}
