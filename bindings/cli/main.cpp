// shmkit: list, inspect, remove and reap shared-memory segments, and run the demo.
#include <cstring>
#include <string>

#include "cli.hpp"
#include "inventory.hpp"
#include "shmkit/version.hpp"
#include "shmkit/wire/config.hpp"

namespace shmkit::cli {

bool has_flag(args& a, const char* flag) {
    for (auto it = a.begin(); it != a.end(); ++it) {
        if (*it == flag) {
            a.erase(it);
            return true;
        }
    }
    return false;
}

bool wants_help(const args& a) {
    for (const auto& s : a) {
        if (s == "--help" || s == "-h") return true;
    }
    return false;
}

std::string human_bytes(unsigned long long n) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(n);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return buf;
}

}  // namespace shmkit::cli

namespace {

const char* const usage =
    "usage: shmkit <command> [options]\n"
    "\n"
    "commands:\n"
    "  ls [--json]              list shmkit segments: name, kind, size, creator pid, alive\n"
    "  info NAME [--json]       decoded header and the kind's counters\n"
    "  rm NAME...               remove segments by name (mapped users keep their mapping)\n"
    "  gc [--force] [--dry-run] remove segments whose creator is dead and that nobody uses\n"
    "  demo [options]           a writer and two reader processes; prints rates and latency\n"
    "\n"
    "Every command takes --help; --version prints the version. Exit status: 0 ok, 1 failed,\n"
    "2 usage error.\n";

}  // namespace

int main(int argc, char** argv) {
    using namespace shmkit::cli;
    if (argc < 2) {
        std::fputs(usage, stderr);
        return exit_usage;
    }
    const std::string command = argv[1];
    args rest(argv + 2, argv + argc);
    if (command == "--help" || command == "-h" || command == "help") {
        std::fputs(usage, stdout);
        return exit_ok;
    }
    if (command == "--version") {
        std::printf("shmkit %s (wire format %u)\n", SHMKIT_VERSION_STRING, static_cast<unsigned>(shmkit::wire_format_version));
        return exit_ok;
    }
    if (command == "ls") return cmd_ls(rest);
    if (command == "info") return cmd_info(rest);
    if (command == "rm") return cmd_rm(rest);
    if (command == "gc") return cmd_gc(rest);
    if (command == "demo") return cmd_demo(rest);
    if (command == "demo-reader") return cmd_demo_reader(rest);
    std::fprintf(stderr, "shmkit: unknown command '%s'\n\n%s", command.c_str(), usage);
    return exit_usage;
}
