// ls, info, rm, gc: the segment-management commands, over the shared inventory.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "inventory.hpp"
#include "shmkit/segment.hpp"

namespace shmkit::cli {
namespace {

using json = nlohmann::ordered_json;  // keys in the order they are set

void print_json(const json& j) { std::puts(j.dump(2).c_str()); }

json value_of(const inventory::field& f) {
    switch (f.kind) {
        case inventory::field::type::text: return inventory::printable(f.text);
        case inventory::field::type::number: return f.number;
        case inventory::field::type::boolean: return f.flag;
        case inventory::field::type::null: return nullptr;
        case inventory::field::type::number_list: return f.list;
    }
    return nullptr;
}

// "1234 python3 (open, mapped)".
std::string describe_user(const inventory::user& u) {
    std::string s = std::to_string(u.pid) + " " + inventory::printable(u.command) + " (";
    if (u.open) s += u.mapped ? "open, mapped" : "open";
    else s += "mapped";
    return s + ")";
}

// A listed segment that shmkit-bridge carries (its companion "<name>.bridge" is there).
bool bridged(const inventory::entry& row, inventory::bridge_link* out) {
    return row.shmkit && row.state == "ready" && !failed(inventory::bridge_of(row.name, out));
}

int run_ls(bool as_json, bool all) {
    std::vector<inventory::entry> rows;
    if (failed(inventory::list(all, &rows))) std::fputs("shmkit ls: cannot list shared memory\n", stderr);
    if (as_json) {
        json out = json::array();
        for (const inventory::entry& row : rows) {
            json j;
            j["name"] = inventory::printable(row.name);
            if (j["name"].get_ref<const std::string&>() != row.name) j["name_hex"] = inventory::hex(row.name);
            j["kind"] = row.kind;
            j["size"] = row.size;
            j["creator_pid"] = row.creator_pid;
            j["alive"] = row.creator_alive;
            j["state"] = row.state;
            inventory::bridge_link b;
            if (bridged(row, &b)) {
                j["bridge"] = {{"role", b.role}, {"topic", b.topic}, {"state", b.state}, {"alive", b.alive}};
            }
            out.push_back(std::move(j));
        }
        print_json(out);
        return exit_ok;
    }
    std::printf("%-32s %-10s %10s %8s %-5s %s\n", "NAME", "KIND", "SIZE", "CREATOR", "ALIVE", "STATE");
    for (const inventory::entry& row : rows) {
        std::string state = row.state;
        inventory::bridge_link b;
        if (bridged(row, &b)) {
            state += ", bridged: " + b.role + " " + inventory::printable(b.topic) + " (" +
                     (b.alive ? b.state : std::string("bridge not running")) + ")";
        }
        std::printf("%-32s %-10s %10s %8u %-5s %s\n", inventory::printable(row.name).c_str(), row.kind.c_str(),
                    human_bytes(row.size).c_str(), row.creator_pid, row.creator_alive ? "yes" : "no", state.c_str());
    }
    return exit_ok;
}

int run_info(const std::string& given, bool as_json) {
    std::string name;
    if (!take_name("info", given, &name)) return exit_usage;
    std::vector<inventory::field> fields;
    const errc e = inventory::describe(name, &fields);
    if (fields.empty()) {
        std::fprintf(stderr, "shmkit info: %s: %s\n", inventory::printable(name).c_str(),
                     e == errc::invalid_layout ? "not a shmkit segment" : to_string(e));
        return exit_failed;
    }
    inventory::users_report users;
    const errc found_users = inventory::users_of(name, &users);
    const bool known = found_users == errc::ok && users.available;
    if (as_json) {
        json out;
        for (const inventory::field& f : fields) out[f.name] = value_of(f);
        json list = json::array();
        for (const inventory::user& u : users.users) {
            list.push_back(json{{"pid", u.pid}, {"command", inventory::printable(u.command)}, {"open", u.open}, {"mapped", u.mapped}});
        }
        out["users"] = known ? list : json(nullptr);
        out["uninspected_processes"] = known ? json(users.inaccessible) : json(nullptr);
        print_json(out);
    } else {
        for (const inventory::field& f : fields) {
            const std::string v = f.kind == inventory::field::type::text ? inventory::printable(f.text) : value_of(f).dump();
            std::printf("%-24s %s\n", f.name.c_str(), v.c_str());
        }
        std::string line;
        if (found_users != errc::ok) line = std::string("unknown (") + to_string(found_users) + ")";
        else if (!users.available) line = "unknown (not available on this OS)";
        else if (users.users.empty()) line = "none";
        for (const inventory::user& u : users.users) line += (line.empty() ? "" : ", ") + describe_user(u);
        std::printf("%-24s %s\n", "users", line.c_str());
        if (known && users.inaccessible != 0) {
            std::printf("%-24s %u (not permitted to look; root sees them all)\n", "uninspected_processes", users.inaccessible);
        }
    }
    return e == errc::ok ? exit_ok : exit_failed;
}

int run_rm(const std::vector<std::string>& names) {
    int rc = exit_ok;
    for (const std::string& given : names) {
        std::string name;
        if (!take_name("rm", given, &name)) {
            rc = exit_usage;
            continue;
        }
        const errc e = segment::remove(name.c_str());
        if (failed(e)) {
            std::fprintf(stderr, "shmkit rm: %s: %s\n", inventory::printable(name).c_str(), to_string(e));
            if (rc == exit_ok) rc = exit_failed;
        }
    }
    return rc;
}

int run_gc(bool force, bool dry) {
    std::vector<inventory::reaped> candidates;
    int rc = exit_ok;
    if (failed(inventory::reap(force, dry, &candidates))) {
        std::fputs("shmkit gc: cannot list shared memory\n", stderr);
        rc = exit_failed;
    }
    int removed = 0;
    for (const inventory::reaped& r : candidates) {
        const std::string name = inventory::printable(r.name);
        if (r.outcome == errc::ok) {
            std::printf(dry ? "would remove %s\n" : "removed %s\n", name.c_str());
            ++removed;
        } else if (r.outcome == errc::busy) {
            std::printf(dry ? "would keep %s (still in use; --force removes it)\n"
                            : "kept %s (still in use; --force removes it)\n",
                        name.c_str());
        } else {
            std::fprintf(stderr, "shmkit gc: %s: %s\n", name.c_str(), to_string(r.outcome));
            rc = exit_failed;
        }
    }
    if (!dry) std::printf("%d segment%s removed\n", removed, removed == 1 ? "" : "s");
    return rc;
}

}  // namespace

void add_ls(CLI::App& app, int* status) {
    CLI::App* cmd = add_command(
        app, "ls", "ls [--json] [--all]", "List shmkit segments: name, kind, size, creator pid, alive, state",
        "Lists shmkit segments in /dev/shm: name, kind, size, creator pid, whether the\n"
        "creator is alive, and the state (ready; creating: half-made, its creator still holds it;\n"
        "abandoned: half-made and held by no process, so gc removes it; corrupt; other-version).\n"
        "--all also lists shared-memory objects that are not shmkit's. A name that is not UTF-8 is\n"
        "shown with each undecodable byte as \\xNN; --json then adds \"name_hex\", the name's bytes in hex.");
    struct options {
        bool json = false;
        bool all = false;
    };
    auto o = std::make_shared<options>();
    cmd->add_flag("--json", o->json, "Print a JSON array");
    cmd->add_flag("--all", o->all, "Also list objects that are not shmkit segments");
    cmd->callback([o, status] { *status = run_ls(o->json, o->all); });
}

void add_info(CLI::App& app, int* status) {
    CLI::App* cmd = add_command(
        app, "info", "info NAME [--json]", "A segment's decoded header, counters and users",
        "Prints the decoded segment header (kind, version, sizes, creator and whether it\n"
        "is alive), the kind's geometry and counters, and the processes that have the segment\n"
        "open or mapped (pid and command; Linux only: found in /proc by the object's device and\n"
        "inode; processes this user may not inspect are counted as uninspected).");
    struct options {
        std::string name;
        bool json = false;
    };
    auto o = std::make_shared<options>();
    cmd->add_option("NAME", o->name, "The segment, with or without its leading '/'")->required();
    cmd->add_flag("--json", o->json, "Print a JSON object");
    cmd->callback([o, status] { *status = run_info(o->name, o->json); });
}

void add_rm(CLI::App& app, int* status) {
    CLI::App* cmd = add_command(app, "rm", "rm NAME...", "Remove segments (mapped users keep their mapping)",
                                "Removes the named segments. Processes that have one mapped keep using it; new\n"
                                "attaches fail with not_found.");
    auto names = std::make_shared<std::vector<std::string>>();
    cmd->add_option("NAME", *names, "The segments, with or without their leading '/'")->required();
    cmd->callback([names, status] { *status = run_rm(*names); });
}

void add_gc(CLI::App& app, int* status) {
    CLI::App* cmd = add_command(
        app, "gc", "gc [--force] [--dry-run]", "Remove segments whose creator is dead and that nobody uses",
        "Removes shmkit segments whose creator is dead (pid and process start time, so a\n"
        "recycled pid does not count as alive) and which no live process has open. Every\n"
        "attached process holds a shared lock on the object; gc takes an exclusive lock\n"
        "without waiting, so it cannot succeed while anyone uses the segment, and it\n"
        "re-checks that the name still refers to the same object before unlinking.\n"
        "--force also removes segments of dead creators that live processes still have\n"
        "open (they keep their mapping). --dry-run removes nothing and says what a real run\n"
        "would remove and keep.");
    struct options {
        bool force = false;
        bool dry_run = false;
    };
    auto o = std::make_shared<options>();
    cmd->add_flag("--force", o->force, "Also remove segments still in use");
    cmd->add_flag("--dry-run", o->dry_run, "Remove nothing; say what would be removed");
    cmd->callback([o, status] { *status = run_gc(o->force, o->dry_run); });
}

}  // namespace shmkit::cli
