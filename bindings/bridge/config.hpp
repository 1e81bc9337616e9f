// What shmkit-bridge carries: the segments it exports as DDS topics and the topics it imports
// into local segments, with their QoS, the DDS domain and the network interface. Read from a
// JSON file (--config) and/or the command line; both fill the same structure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace shmkit::bridge {

enum class direction { export_, import_ };

// Delivery of one link. Defaults depend on the segment's kind (see defaults_for()):
// broadcast: reliable, in order, a history of `depth` messages; stream/video/audio: the latest
// sample (keep-last 1); kv: reliable, transient-local, the last value of every key.
struct qos_choice {
    bool set = false;         // given by the user (otherwise the kind's default)
    bool reliable = true;
    std::uint32_t depth = 0;  // history depth; 0: the kind's default
};

struct link_config {
    direction dir = direction::export_;
    std::string segment;  // local segment name, with its leading '/'
    std::string topic;    // DDS topic; default: the segment name without its '/'
    qos_choice qos{};
    // Exports of video only: publish ROS 2 sensor_msgs/msg/Image on "rt/<ros_topic>" too.
    bool ros_image = false;
    std::string ros_topic;
    // Exports of stream/video/audio: every sample in order (with losses counted) rather than
    // the latest one.
    bool every_sample = false;
};

struct bridge_config {
    std::uint32_t domain = 0;
    std::string interface;  // network interface DDS uses; empty: Cyclone's choice
    std::vector<link_config> links;
};

// Parses a JSON configuration file into `out` (links are appended). Returns an empty string on
// success, otherwise what is wrong with it.
std::string read_config_file(const std::string& path, bridge_config* out);

// "SEGMENT[=TOPIC]" from the command line (checked later, by finish_config()).
link_config parse_link(const std::string& text, direction dir);

// Checks names and fills defaults (topic from segment); empty string on success.
std::string finish_config(bridge_config* config);

}  // namespace shmkit::bridge
