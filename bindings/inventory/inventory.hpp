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

// JSON text of a field's value.
std::string json_value(const field& f);
std::string json_string(const std::string& s);

}  // namespace shmkit::inventory
