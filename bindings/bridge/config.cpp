#include "config.hpp"

#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "inventory.hpp"
#include "shmkit/segment.hpp"

namespace shmkit::bridge {
namespace {

using json = nlohmann::json;

std::string read_qos(const json& j, qos_choice* q) {
    if (j.contains("reliability")) {
        const std::string r = j.at("reliability").get<std::string>();
        if (r != "reliable" && r != "best-effort") return "reliability: 'reliable' or 'best-effort', not '" + r + "'";
        q->set = true;
        q->reliable = r == "reliable";
    }
    if (j.contains("depth")) {
        const long long d = j.at("depth").get<long long>();
        if (d < 1 || d > 100000) return "depth: from 1 to 100000";
        q->depth = static_cast<std::uint32_t>(d);
    }
    return {};
}

std::string read_link(const json& j, direction dir, link_config* out) {
    static const std::set<std::string> known = {"segment", "topic", "reliability", "depth", "ros_image", "every_sample"};
    for (const auto& item : j.items()) {
        if (known.count(item.key()) == 0) return "unknown field '" + item.key() + "'";
    }
    out->dir = dir;
    out->segment = j.at("segment").get<std::string>();
    if (j.contains("topic")) out->topic = j.at("topic").get<std::string>();
    if (j.contains("ros_image")) {
        if (dir != direction::export_) return "ros_image: only for exports";
        const json& r = j.at("ros_image");
        out->ros_image = r.is_string() || (r.is_boolean() && r.get<bool>());
        if (r.is_string()) out->ros_topic = r.get<std::string>();
    }
    if (j.contains("every_sample")) out->every_sample = j.at("every_sample").get<bool>();
    return read_qos(j, &out->qos);
}

}  // namespace

std::string read_config_file(const std::string& path, bridge_config* out) {
    std::ifstream in(path);
    if (!in) return "cannot read " + path;
    try {
        const json j = json::parse(in);
        static const std::set<std::string> known = {"domain", "interface", "export", "import"};
        for (const auto& item : j.items()) {
            if (known.count(item.key()) == 0) return path + ": unknown field '" + item.key() + "'";
        }
        if (j.contains("domain")) out->domain = j.at("domain").get<std::uint32_t>();
        if (j.contains("interface")) out->interface = j.at("interface").get<std::string>();
        for (const char* section : {"export", "import"}) {
            if (!j.contains(section)) continue;
            const direction dir = section[0] == 'e' ? direction::export_ : direction::import_;
            for (const json& entry : j.at(section)) {
                link_config link;
                const std::string error = read_link(entry, dir, &link);
                if (!error.empty()) return path + ": " + section + ": " + error;
                out->links.push_back(link);
            }
        }
    } catch (const json::exception& e) {
        return path + ": " + e.what();
    }
    return {};
}

link_config parse_link(const std::string& text, direction dir) {
    const std::size_t eq = text.find('=');
    link_config link;
    link.dir = dir;
    link.segment = text.substr(0, eq);
    if (eq != std::string::npos) link.topic = text.substr(eq + 1);
    return link;
}

std::string finish_config(bridge_config* config) {
    if (config->interface.find_first_of("<>&\"'") != std::string::npos) {
        return "invalid interface name '" + config->interface + "'";
    }
    std::set<std::string> topics, segments;
    for (link_config& link : config->links) {
        link.segment = inventory::normalize_name(link.segment);
        if (failed(validate_name(link.segment.c_str()))) {
            return "invalid segment name '" + inventory::printable(link.segment) + "': " + inventory::name_rules;
        }
        if (link.topic.empty()) link.topic = link.segment.substr(1);
        if (link.ros_image && link.ros_topic.empty()) link.ros_topic = link.topic;
        if (!topics.insert((link.dir == direction::export_ ? "export " : "import ") + link.topic).second) {
            return "topic '" + link.topic + "' is given twice";
        }
        // One link per segment: its companion holds one link's state and position.
        if (!segments.insert(link.segment).second) {
            return "segment " + inventory::printable(link.segment) +
                   " is given twice (one link per segment; an export's ROS 2 Image goes with --ros-image alone)";
        }
    }
    if (config->links.empty()) return "nothing to bridge: give --export or --import (or a --config file)";
    return {};
}

}  // namespace shmkit::bridge
