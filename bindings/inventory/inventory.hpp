// The segment inventory shared by the command-line tool and the Python module: list the shared
// memory objects, decode one segment's header and counters, remove the stale ones. Hosted C++
// (std::string, std::vector); never part of the freestanding core.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shmkit/errc.hpp"

namespace shmkit::inventory {

// One decoded property of a segment. Values are typed so each front end renders them its own
// way (JSON, aligned text, a Python dict).
struct field {
    enum class type { text, number, boolean, null, number_list };
    std::string name;
    type kind = type::null;
    std::string text;
    unsigned long long number = 0;
    bool flag = false;
    std::vector<unsigned long long> list;
};

// A listing row. `state` is "ready", "creating", "corrupt", "other-version", or "foreign" for a
// shared-memory object that does not carry shmkit's magic.
struct entry {
    std::string name;
    bool shmkit = false;
    std::string kind;   // "broadcast", ...; "-" when not decodable
    std::string state;
    unsigned long long size = 0;
    unsigned creator_pid = 0;
    bool creator_alive = false;
};

// Every shared-memory object's name, sorted (shmkit's or not). errc::os_error if the
// directory cannot be read.
errc list_names(std::vector<std::string>* out);
// One row per object; foreign objects only when `include_foreign`.
errc list(bool include_foreign, std::vector<entry>* out);

// The decoded header and the kind's geometry and counters. not_found; errc::invalid_layout with
// `*fields` empty for an object that is not shmkit's; for a shmkit segment that fails
// validation, the header fields it has and the validation error.
errc describe(const std::string& name, std::vector<field>* fields);

namespace detail {
// What describe() does with the bytes it read: decodes an image of `size` bytes at `base`
// (64-byte aligned; the object's size, with zeros past what could be read), `unused` saying
// whether no live process holds the object. Any bytes are safe: a corrupt or hostile image gets
// an errc and the fields it has. For describe() and the fuzz tests; touches no named object.
errc describe_image(const std::string& name, const void* base, std::uint64_t size, bool unused,
                    std::vector<field>* fields);
}  // namespace detail

// What reap() did with one stale candidate.
struct reaped {
    std::string name;
    errc outcome = errc::ok;  // ok (removed, or would be on a dry run), busy (still in use), ...
};
// Removes segments whose creator is dead and that no live process has open (with `force`, even
// if open). `dry_run` removes nothing and reports what a real run would do (ok or busy).
errc reap(bool force, bool dry_run, std::vector<reaped>* out);

// Segment names, as both front ends (the tool and the Python module) take them: "/x" or "x"
// (the leading '/' is optional), then checked by validate_name(). `name_rules` states the rules
// for their error messages.
extern const char* const name_rules;
// "x" -> "/x"; anything else unchanged (an invalid name stays invalid).
std::string normalize_name(const std::string& name);

// A name (or any text) as valid UTF-8 for display and JSON: every byte that is not part of a
// well-formed UTF-8 sequence becomes the four characters \xNN (lowercase hex), as Python's
// bytes.decode("utf-8", "backslashreplace") does. Text that is valid UTF-8 is returned as is.
std::string printable(const std::string& text);
// Lowercase hex of every byte of `bytes`.
std::string hex(const std::string& bytes);

// A process that has a segment open or mapped (Linux: found in /proc/<pid>/fd and
// /proc/<pid>/maps by the object's device and inode, never by name).
struct user {
    unsigned pid = 0;
    std::string command;  // /proc/<pid>/comm
    bool open = false;    // holds a file descriptor of the object
    bool mapped = false;  // has it mapped
};
struct users_report {
    bool available = false;     // false where the OS gives no way to find them (Windows)
    std::vector<user> users;    // by pid; this process excluded
    unsigned inaccessible = 0;  // processes whose fds or maps could not be read (permissions)
};
// The processes using the segment `name`. not_found if there is no such object; ok with
// available == false where the OS cannot tell.
errc users_of(const std::string& name, users_report* out);

// A segment carried by shmkit-bridge, as its companion kv segment "<name>.bridge" says (the
// bridge keeps its link's state and counters there while it runs, and leaves them when it
// stops). Counters are since the companion was made.
struct bridge_link {
    std::string role;   // "export" or "import"
    std::string topic;  // the DDS topic
    std::string state;  // "running", "waiting: ...", "stopped", "failed: ..."
    unsigned pid = 0;   // the bridge's
    bool alive = false;
    unsigned long long peers = 0, samples = 0, lost = 0, dropped = 0;
};
// not_found when `name` has no companion (or it is not one).
errc bridge_of(const std::string& name, bridge_link* out);

}  // namespace shmkit::inventory
