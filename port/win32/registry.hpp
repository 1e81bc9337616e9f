// The session registry of the Windows port (core/SPEC.md "Windows: names, registry and
// waits"): which section holds the segment of each name, and which threads wait on which word.
#pragma once

#include <cstdint>

#include "shmkit/errc.hpp"
#include "shmkit/wire/win32_registry.hpp"

namespace shmkit::os::win32 {

// The registry, mapped on first use and kept for the life of the process; nullptr if it cannot
// be (last_os_error() says why).
win32_registry* registry() noexcept;

// Holds the registry mutex: entries change and are looked up only under it. A holder that died
// leaves it abandoned; the next owner goes on, since every change commits with one store. Not
// held after 5 s of waiting (last error ERROR_BUSY).
class registry_lock {
public:
    registry_lock() noexcept;
    ~registry_lock();
    registry_lock(const registry_lock&) = delete;
    registry_lock& operator=(const registry_lock&) = delete;
    bool held() const noexcept { return held_; }

private:
    bool held_ = false;
};

// The section name of a generation: "Local\shmkit.<name>#<generation>" (name without its '/').
// False if `name` is not "/x..." of 2..win32_registry_name_bytes bytes.
bool valid_name(const char* name) noexcept;
void section_name(const char* name, std::uint64_t generation, char (&out)[300]) noexcept;

// The entry that holds `name` (generation nonzero), or nullptr. Under the lock.
win32_registry_entry* find_entry(win32_registry& r, const char* name) noexcept;
// A free entry; nullptr when all are taken. Under the lock.
win32_registry_entry* free_entry(win32_registry& r) noexcept;
// Commits `name` at `generation` into a free entry. Under the lock.
void commit_entry(win32_registry_entry& e, const char* name, std::uint64_t generation) noexcept;

// The views this process mapped, so that a waited-on word can be named across processes by
// its section's generation and its offset in it.
// False when the table is full (the caller fails the mapping with no_space).
bool remember_view(const void* base, std::uint64_t size, std::uint64_t generation) noexcept;
// The generation of the section of a view at `base` (0 if not remembered).
std::uint64_t view_generation(const void* base) noexcept;
// Forgets a view; returns its section's generation (0 if it was not remembered).
std::uint64_t forget_view(const void* base) noexcept;
// The key of a word: a hash of (generation, offset) for a word in a remembered view, which
// every process computes alike (*shared = true); for any other address (caller-given memory),
// a hash of the address and this process (*shared = false): only wakes from this process find
// it, so such a wait also re-checks its word periodically. Never 0.
std::uint64_t word_key(const void* word, bool* shared) noexcept;

}  // namespace shmkit::os::win32
