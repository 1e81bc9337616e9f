// ls, info, rm, gc: the segment-management commands, over the shared inventory.
#include <cstdio>
#include <string>
#include <vector>

#include "cli.hpp"
#include "inventory.hpp"
#include "shmkit/segment.hpp"

namespace shmkit::cli {

int cmd_ls(args a) {
    if (wants_help(a)) {
        std::puts("usage: shmkit ls [--json] [--all]\n\n"
                  "Lists shmkit segments in /dev/shm: name, kind, size, creator pid, whether the\n"
                  "creator is alive, and the state (ready; creating: half-made, its creator still holds it;\n"
                  "abandoned: half-made and held by no process, so gc removes it; corrupt; other-version).\n"
                  "--all also lists shared-memory objects that are not shmkit's.");
        return exit_ok;
    }
    const bool json = has_flag(a, "--json");
    const bool all = has_flag(a, "--all");
    if (!a.empty()) {
        std::fprintf(stderr, "shmkit ls: unexpected argument '%s'\n", a[0].c_str());
        return exit_usage;
    }
    std::vector<inventory::entry> rows;
    if (failed(inventory::list(all, &rows))) std::fputs("shmkit ls: cannot list shared memory\n", stderr);
    if (json) std::fputs("[", stdout);
    else std::printf("%-32s %-10s %10s %8s %-5s %s\n", "NAME", "KIND", "SIZE", "CREATOR", "ALIVE", "STATE");
    bool first = true;
    for (const inventory::entry& row : rows) {
        if (json) {
            std::printf("%s\n  {\"name\": %s, \"kind\": %s, \"size\": %llu, \"creator_pid\": %u, \"alive\": %s, \"state\": %s}",
                        first ? "" : ",", inventory::json_string(row.name).c_str(), inventory::json_string(row.kind).c_str(), row.size,
                        row.creator_pid, row.creator_alive ? "true" : "false", inventory::json_string(row.state).c_str());
        } else {
            std::printf("%-32s %-10s %10s %8u %-5s %s\n", row.name.c_str(), row.kind.c_str(), human_bytes(row.size).c_str(),
                        row.creator_pid, row.creator_alive ? "yes" : "no", row.state.c_str());
        }
        first = false;
    }
    if (json) std::puts(first ? "]" : "\n]");
    return exit_ok;
}

int cmd_info(args a) {
    if (wants_help(a)) {
        std::puts("usage: shmkit info NAME [--json]\n\n"
                  "Prints the decoded segment header (kind, version, sizes, creator and whether it\n"
                  "is alive) and the kind's geometry and counters.");
        return exit_ok;
    }
    const bool json = has_flag(a, "--json");
    if (a.size() != 1) {
        std::fputs("usage: shmkit info NAME [--json]\n", stderr);
        return exit_usage;
    }
    if (failed(validate_name(a[0].c_str()))) {
        std::fprintf(stderr, "shmkit info: invalid name '%s' (one leading '/', no other)\n", a[0].c_str());
        return exit_usage;
    }
    std::vector<inventory::field> fields;
    const errc e = inventory::describe(a[0], &fields);
    if (fields.empty()) {
        std::fprintf(stderr, "shmkit info: %s: %s\n", a[0].c_str(),
                     e == errc::invalid_layout ? "not a shmkit segment" : to_string(e));
        return exit_failed;
    }
    if (json) {
        std::fputs("{", stdout);
        for (std::size_t i = 0; i < fields.size(); ++i) {
            std::printf("%s\n  %s: %s", i ? "," : "", inventory::json_string(fields[i].name).c_str(),
                        inventory::json_value(fields[i]).c_str());
        }
        std::puts("\n}");
    } else {
        for (const auto& f : fields) {
            const std::string v = f.kind == inventory::field::type::text ? f.text : inventory::json_value(f);
            std::printf("%-24s %s\n", f.name.c_str(), v.c_str());
        }
    }
    return e == errc::ok ? exit_ok : exit_failed;
}

int cmd_rm(args a) {
    if (wants_help(a) || a.empty()) {
        std::puts("usage: shmkit rm NAME...\n\n"
                  "Removes the named segments. Processes that have one mapped keep using it; new\n"
                  "attaches fail with not_found.");
        return a.empty() ? exit_usage : exit_ok;
    }
    int rc = exit_ok;
    for (const std::string& name : a) {
        const errc e = segment::remove(name.c_str());
        if (failed(e)) {
            std::fprintf(stderr, "shmkit rm: %s: %s\n", name.c_str(), to_string(e));
            rc = e == errc::invalid_argument ? exit_usage : exit_failed;
        }
    }
    return rc;
}

int cmd_gc(args a) {
    if (wants_help(a)) {
        std::puts("usage: shmkit gc [--force] [--dry-run]\n\n"
                  "Removes shmkit segments whose creator is dead (pid and process start time, so a\n"
                  "recycled pid does not count as alive) and which no live process has open. Every\n"
                  "attached process holds a shared lock on the object; gc takes an exclusive lock\n"
                  "without waiting, so it cannot succeed while anyone uses the segment, and it\n"
                  "re-checks that the name still refers to the same object before unlinking.\n"
                  "--force also removes segments of dead creators that live processes still have\n"
                  "open (they keep their mapping). --dry-run removes nothing and says what a real run\n"
                  "would remove and keep.");
        return exit_ok;
    }
    const bool force = has_flag(a, "--force");
    const bool dry = has_flag(a, "--dry-run");
    if (!a.empty()) {
        std::fprintf(stderr, "shmkit gc: unexpected argument '%s'\n", a[0].c_str());
        return exit_usage;
    }
    std::vector<inventory::reaped> candidates;
    int rc = exit_ok;
    if (failed(inventory::reap(force, dry, &candidates))) {
        std::fputs("shmkit gc: cannot list shared memory\n", stderr);
        rc = exit_failed;
    }
    int removed = 0;
    for (const inventory::reaped& r : candidates) {
        if (r.outcome == errc::ok) {
            std::printf(dry ? "would remove %s\n" : "removed %s\n", r.name.c_str());
            ++removed;
        } else if (r.outcome == errc::busy) {
            std::printf(dry ? "would keep %s (still in use; --force removes it)\n"
                            : "kept %s (still in use; --force removes it)\n",
                        r.name.c_str());
        } else {
            std::fprintf(stderr, "shmkit gc: %s: %s\n", r.name.c_str(), to_string(r.outcome));
            rc = exit_failed;
        }
    }
    if (!dry) std::printf("%d segment%s removed\n", removed, removed == 1 ? "" : "s");
    return rc;
}

}  // namespace shmkit::cli
