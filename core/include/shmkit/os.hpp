// Everything the core needs from an operating system, in one header (littlefs-style hooks).
// The core only declares these; port/<os>/ implements them with identical file names per OS,
// and CMake links the selected folder. A bare-metal or RTOS user can supply their own.
// Every function is safe to call from any thread; none allocates in the core's name.
#pragma once

#include <cstdint>

#include "shmkit/errc.hpp"

namespace shmkit::os {

// ---- shared-memory objects -------------------------------------------------------------

enum class access : std::uint8_t { read_only, read_write };

struct mapping {
    void* address = nullptr;
    std::uint64_t size = 0;
    bool writable = false;
    std::intptr_t handle = -1;  // POSIX: the descriptor, kept open because it holds the in-use lock
};

struct create_options {
    std::uint32_t mode = 0600;  // POSIX permission bits of the new object
    bool reserve_memory = true;  // back the object with memory now (see shm_create)
};

// Creates a new object of exactly `size` bytes, backs it with memory now when
// `reserve_memory` is set (no_space instead of a later SIGBUS when /dev/shm is full; a port
// whose OS charges memory at creation anyway, as Windows' SEC_COMMIT does, ignores it), maps it read-write and marks it in use. The memory reads
// as zero. The object is not reachable by `name` yet: shm_link() names it once it is complete,
// so no process ever finds a half-made object, and one whose creator dies before that vanishes
// with it. (A port whose OS can only name an object when creating it names it here and fails
// with already_exists; its shm_link() then does nothing. Attachers then see a half-made
// segment, which the core handles: core/SPEC.md "Creation".)
errc shm_create(const char* name, std::uint64_t size, const create_options& options,
                mapping* out) noexcept;

// Gives an object from shm_create() its name, atomically: already_exists if the name is taken
// (nothing is replaced).
errc shm_link(const mapping& m, const char* name) noexcept;

// Maps an existing object at its current size and marks it in use.
errc shm_open(const char* name, access mode, mapping* out) noexcept;

// Unmaps and drops the in-use mark. Safe on an empty mapping.
void shm_close(mapping* m) noexcept;

errc shm_unlink(const char* name) noexcept;

// Removes `name` only if it still names the object `m` maps: ok; not_found if it names nothing
// or another object (the segment was removed, and perhaps created again by someone else).
errc shm_unlink_mapped(const char* name, const mapping& m) noexcept;

// What shm_peek() and the stale predicate see of an object: a copy of its first bytes, read
// without mapping it (an object truncated meanwhile cannot fault the reader).
struct object_snapshot {
    const void* bytes = nullptr;  // the first `copied` bytes (a private copy)
    std::uint64_t copied = 0;
    std::uint64_t size = 0;       // the object's size when it was read
    bool unused = false;          // no live process had it open (known only where checked)
};

// Removes `name` only if `is_stale(snapshot, context)` says so while this process holds the
// object exclusively, so the decision cannot race with a process attaching or re-creating it.
// The snapshot holds the object's first bytes (at least a segment header where it has them).
// With require_unused, an object that any live process has open is never removed (busy), and
// the snapshot says `unused`. Returns ok (removed), busy (in use or not stale), not_found, or an
// OS error.
using stale_predicate = bool (*)(const object_snapshot& s, void* context);
errc shm_remove_if_stale(const char* name, bool require_unused, stale_predicate is_stale,
                         void* context) noexcept;

// Copies up to `capacity` bytes from the start of the object `name` into `buffer` without
// mapping it or marking it in use, and says whether a live process has it open. For tools:
// a segment that another process truncates meanwhile is read short, never a SIGBUS.
errc shm_peek(const char* name, void* buffer, std::uint64_t capacity, object_snapshot* out) noexcept;

// Calls `visit` with the name ("/x") of every shared-memory object on the system.
// Returns os_error where the OS cannot enumerate them.
using name_visitor = void (*)(const char* name, void* context);
errc shm_list(name_visitor visit, void* context) noexcept;

// Advises the OS to populate the pages now, so the first writes do not fault.
void prefault(void* address, std::uint64_t size) noexcept;

// Makes [address, address + size) of a mapping read-only (page-aligned). ok, or an OS error.
errc protect_read_only(void* address, std::uint64_t size) noexcept;

// The OS page size in bytes.
std::uint64_t page_size() noexcept;

// ---- waiting on a 32-bit word in shared memory -------------------------------------------

inline constexpr std::uint64_t forever = ~std::uint64_t{0};

// Sleeps while *word == expected, at most timeout_ns. Returns ok when woken or when the value
// already differed (callers re-check their condition either way), timeout, or interrupted.
errc futex_wait(const std::uint32_t* word, std::uint32_t expected, std::uint64_t timeout_ns) noexcept;

// Wakes every process sleeping on `word`; returns how many it woke, or wake_count_unknown where
// the OS does not say (the core then never heals a waiter count, see wait.hpp).
inline constexpr std::uint32_t wake_count_unknown = ~std::uint32_t{0};
std::uint32_t futex_wake_all(const std::uint32_t* word) noexcept;

// Sleeps until any words[i] != expected[i], a wake on any of them, or the timeout (at most
// 127 words). Returns ok, timeout or interrupted; the caller re-checks its conditions.
inline constexpr std::uint32_t max_wait_any = 127;
errc futex_wait_any(const std::uint32_t* const* words, const std::uint32_t* expected, std::uint32_t count,
                    std::uint64_t timeout_ns) noexcept;

// This process's wait and wake system calls so far (futex_wait/futex_wait_any calls, and wakes
// that reached the kernel). For tests and benchmarks: "no system call while nobody waits" and
// "no wake-ups while idle" are counted, not timed.
struct wait_statistics {
    std::uint64_t waits = 0;
    std::uint64_t wakes = 0;
};
wait_statistics wait_statistics_of_this_process() noexcept;

// How futex_wait_any waits: one futex_waitv call (Linux >= 5.16), or helper threads blocked
// on each word (older kernels). `automatic` picks futex_waitv when the kernel has it; tests
// force the other.
enum class wait_any_method : std::uint8_t { automatic, futex_waitv, helper_threads };
void set_wait_any_method(wait_any_method method) noexcept;
wait_any_method wait_any_method_in_use() noexcept;

// ---- asymmetric barriers (see port/posix/fence.cpp) -----------------------------------------

// True if this process can take part in membarrier-mode segments: the kernel offers
// MEMBARRIER_CMD_GLOBAL_EXPEDITED and this process is registered for it (done on the first
// call). Cheap after the first call.
bool membarrier_usable() noexcept;
// membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED): a full barrier on every CPU running a registered
// process, and in this thread. ok, or an OS error.
errc heavy_membarrier() noexcept;

// ---- time and processes ------------------------------------------------------------------

std::uint64_t monotonic_ns() noexcept;
void sleep_ns(std::uint64_t ns) noexcept;  // the whole time, signals or not
// Sleeps up to `ns`: ok, or interrupted when a signal handler ran first.
errc sleep_or_signal_ns(std::uint64_t ns) noexcept;
void yield() noexcept;

// A process is identified by its pid and a token of its start time, so that a recycled pid
// is not mistaken for the process that recorded it.
struct process_id {
    std::uint32_t pid = 0;
    std::uint32_t start = 0;
};
process_id self() noexcept;
// Where the port may keep self() once computed, as pid | start << 32 (the role-word encoding),
// so the process check that every write and read of a role makes needs no call: 0 means "ask
// self()". It must read 0 in a forked child until self() has run there. Read with relaxed
// atomic loads; a port that keeps nothing here leaves it 0.
extern std::uint64_t self_word;

// Dead only when the OS says so for certain; anything ambiguous counts as alive.
bool process_alive(process_id id) noexcept;

// Watching for a process's exit: a wait for something only process `id` can give back (a lock
// it holds) ends when it exits, instead of re-checking its liveness periodically. Once the
// process has exited, `fired` is set (release), then `*word` is incremented (release) and its
// waiters woken, as a notify would.
struct exit_watch {
    std::uint32_t fired = 0;    // read with an acquire load
    std::intptr_t handle = -1;  // the port's
};
// ok (watching: call unwatch_exit before `word` or `watch` go away); peer_dead (it has exited
// already); unsupported (the OS cannot watch processes, or is out of watches: re-check liveness
// periodically instead).
errc watch_exit(process_id id, std::uint32_t* word, exit_watch* watch) noexcept;
// Stops watching (after which nothing touches `word` or `watch`). Safe on a watch that fired or
// was never set up.
void unwatch_exit(exit_watch* watch) noexcept;

// ---- diagnostics ---------------------------------------------------------------------------

// errno (or GetLastError) of the last failed call above on this thread.
int last_os_error() noexcept;

// Prints a contract violation somewhere useful (stderr). Must not allocate.
void report_assert(const char* expression, const char* file, int line) noexcept;

}  // namespace shmkit::os
