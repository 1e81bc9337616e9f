// shmkit: list, inspect, remove and reap shared-memory segments, and run the demo.
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "cli.hpp"
#include "inventory.hpp"
#include "shmkit/segment.hpp"
#include "shmkit/version.hpp"
#include "shmkit/wire/config.hpp"

namespace shmkit::cli {
namespace {

// CLI11's help, opening with the tool's own usage line ("usage: shmkit ls [--json] [--all]") and
// then the description.
class formatter : public CLI::Formatter {
public:
    std::map<const CLI::App*, std::string> synopsis;

    std::string make_usage(const CLI::App* app, std::string name) const override {
        const auto it = synopsis.find(app);
        if (it == synopsis.end()) return CLI::Formatter::make_usage(app, std::move(name));
        return "usage: shmkit " + it->second + "\n\n" + app->get_description() + "\n";
    }
    std::string make_description(const CLI::App* app) const override {
        return synopsis.count(app) != 0 ? std::string() : CLI::Formatter::make_description(app);
    }
};

std::shared_ptr<formatter> the_formatter = std::make_shared<formatter>();

}  // namespace

CLI::App* add_command(CLI::App& app, const std::string& name, const std::string& synopsis, const std::string& summary,
                      const std::string& details) {
    CLI::App* sub = app.add_subcommand(name, summary);
    sub->footer(details);
    the_formatter->synopsis[sub] = synopsis;
    return sub;
}

bool take_name(const char* command, const std::string& given, std::string* name) {
    *name = inventory::normalize_name(given);
    if (given.find('\0') == std::string::npos && !failed(validate_name(name->c_str()))) return true;
    std::fprintf(stderr, "shmkit %s: invalid name '%s': %s\n", command, inventory::printable(given).c_str(),
                 inventory::name_rules);
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

int main(int argc, char** argv) {
    using namespace shmkit::cli;
    CLI::App app("List, inspect, remove and reap shared-memory segments, and run the demo.", "shmkit");
    app.formatter(the_formatter);  // before the subcommands, which take the formatter they find
    the_formatter->synopsis[&app] = "<command> [options]";
    app.footer("Every command takes --help. Names are given with or without their leading '/' ('info x' is\n"
               "'info /x'). Exit status: 0 ok, 1 failed, 2 usage error.");
    const std::string version = std::string("shmkit ") + SHMKIT_VERSION_STRING + " (wire format " +
                                std::to_string(static_cast<unsigned>(shmkit::wire_format_version)) + ")";
    app.set_version_flag("--version", version, "Print the version and the wire format version");
    app.require_subcommand(1);
    // Segment names start with '/': never read as Windows-style options ("/x"), which CLI11 does on
    // Windows by default. Set before the subcommands, which take it from here.
    app.allow_windows_style_options(false);

    int status = exit_ok;
    add_ls(app, &status);
    add_info(app, &status);
    add_rm(app, &status);
    add_gc(app, &status);
    add_demo(app, &status);
    add_demo_reader(app, &status);

    if (argc < 2) {
        std::fputs(app.help().c_str(), stderr);
        return exit_usage;
    }
    const std::string command = argv[1];
    if (command == "help") {
        std::fputs(app.help().c_str(), stdout);
        return exit_ok;
    }
    bool known = command[0] == '-';
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        known = known || sub->get_name() == command;
    }
    if (!known) {
        std::fprintf(stderr, "shmkit: unknown command '%s'\n\n%s", command.c_str(), app.help().c_str());
        return exit_usage;
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);  // --help, --version
        std::fprintf(stderr, "shmkit%s%s: %s\n", command[0] == '-' ? "" : " ", command[0] == '-' ? "" : command.c_str(),
                     e.what());
        std::fprintf(stderr, "(shmkit%s%s --help shows the usage)\n", command[0] == '-' ? "" : " ",
                     command[0] == '-' ? "" : command.c_str());
        return exit_usage;
    }
    return status;
}
