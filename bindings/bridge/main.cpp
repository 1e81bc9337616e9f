// shmkit-bridge: carries named shmkit segments between hosts over Eclipse Cyclone DDS. Exports
// publish a local segment as a DDS topic; imports make (or take over) a local segment fed from
// one. Runs until SIGINT or SIGTERM, then prints one JSON line of counters per link.
#include <csignal>
#include <cstdio>
#include <random>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bridge_types.h"
#include "config.hpp"
#include "link.hpp"
#include "shmkit/version.hpp"

using namespace shmkit::bridge;

namespace {

std::uint64_t random_origin() {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

void print_counters(const link_config& config, link_status& status) {
    const nlohmann::json line = {{"segment", config.segment},
                                 {"role", config.dir == direction::export_ ? "export" : "import"},
                                 {"topic", config.topic},
                                 {"state", status.state()},
                                 {"samples", status.samples.load()},
                                 {"lost", status.lost.load()},
                                 {"dropped", status.dropped.load()}};
    std::printf("%s\n", line.dump().c_str());
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app("Carry shmkit segments between hosts over DDS (Eclipse Cyclone DDS).", "shmkit-bridge");
    app.allow_windows_style_options(false);
    app.set_version_flag("--version", std::string("shmkit-bridge ") + SHMKIT_VERSION_STRING);
    bridge_config config;
    std::string config_file;
    std::vector<std::string> exports, imports, ros_images;
    std::string reliability;
    std::uint32_t depth = 0;
    bool every_sample = false;
    app.add_option("--config", config_file, "JSON file: {domain, interface, export: [...], import: [...]}");
    app.add_option("--export", exports, "SEGMENT[=TOPIC]: publish a local segment (its kind is found)");
    app.add_option("--import", imports, "SEGMENT[=TOPIC]: make a local segment fed from a topic");
    app.add_option("--ros-image", ros_images, "SEGMENT[=TOPIC]: export a video segment as ROS 2 Image on rt/TOPIC too");
    app.add_option("--domain", config.domain, "DDS domain id (default 0)");
    app.add_option("--interface", config.interface, "network interface DDS uses (default: Cyclone's choice)");
    app.add_option("--reliability", reliability, "reliable or best-effort, for the links given here")
        ->check(CLI::IsMember({"reliable", "best-effort"}));
    app.add_option("--depth", depth, "history depth, for the links given here")->check(CLI::Range(1, 100000));
    app.add_flag("--every-sample", every_sample, "stream/video/audio: every sample in order, not the latest");
    app.footer("Each link keeps its counters in a kv segment named <segment>.bridge (shmkit info shows them).\n"
               "Exit status: 0 stopped by SIGINT/SIGTERM, 1 failed to start, 2 usage error.");
    CLI11_PARSE(app, argc, argv);

    if (!config_file.empty()) {
        const std::string error = read_config_file(config_file, &config);
        if (!error.empty()) {
            std::fprintf(stderr, "shmkit-bridge: %s\n", error.c_str());
            return 2;
        }
    }
    const auto add = [&](const std::vector<std::string>& given, direction dir, bool ros) {
        for (const std::string& text : given) {
            link_config link = parse_link(text, dir);
            if (!reliability.empty()) {
                link.qos.set = true;
                link.qos.reliable = reliability == "reliable";
            }
            link.qos.depth = depth;
            link.every_sample = every_sample;
            link.ros_image = ros;
            config.links.push_back(link);
        }
    };
    add(exports, direction::export_, false);
    add(imports, direction::import_, false);
    add(ros_images, direction::export_, true);
    const std::string error = finish_config(&config);
    if (!error.empty()) {
        std::fprintf(stderr, "shmkit-bridge: %s\n", error.c_str());
        return 2;
    }

    // SIGINT and SIGTERM are taken by this thread alone (sigwait), so every link thread runs
    // undisturbed and stops when asked.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    std::atomic<bool> stop{false};
    bridge_context context;
    context.stop = &stop;
    context.origin = random_origin();
    entity participant, announce_topic, announce_writer;
    try {
        participant = make_participant(config.domain, config.interface);
        context.participant = participant.get();
        announce_topic = make_topic(context.participant, &shmkit_bridge_Announce_desc, "shmkit/announce");
        context.announce_topic = announce_topic.get();
        const qos_ptr q = make_qos(true, 1, true);
        announce_writer = make_writer(context.participant, context.announce_topic, q.get());
        context.announce_writer = announce_writer.get();
    } catch (const dds_failure& e) {
        std::fprintf(stderr, "shmkit-bridge: %s\n", e.what());
        return 1;
    }

    std::vector<std::unique_ptr<link_status>> statuses;
    std::vector<std::thread> threads;
    for (const link_config& link : config.links) {
        statuses.push_back(std::make_unique<link_status>(link));
        link_status* status = statuses.back().get();
        threads.emplace_back([&link, &context, status] {
            try {
                run_link(link, context, *status);
            } catch (const std::exception& e) {  // DDS set-up failures, and out of memory
                status->set_state(std::string("failed: ") + e.what());
            }
            status->publish();
            if (status->state().rfind("failed", 0) == 0) {
                std::fprintf(stderr, "shmkit-bridge: %s: %s\n", link.segment.c_str(), status->state().c_str());
            }
        });
    }
    std::fprintf(stderr, "shmkit-bridge: running %zu link(s) on DDS domain %u%s%s\n", config.links.size(),
                 static_cast<unsigned>(config.domain), config.interface.empty() ? "" : ", interface ",
                 config.interface.c_str());
    int signal = 0;
    sigwait(&stop_signals, &signal);
    stop = true;
    for (std::thread& t : threads) t.join();
    for (std::size_t i = 0; i < config.links.size(); ++i) print_counters(config.links[i], *statuses[i]);
    std::fflush(stdout);
    return 0;
}
