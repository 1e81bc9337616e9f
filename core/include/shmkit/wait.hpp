// What a caller of a blocking call chooses: timeouts (std::chrono, wait_forever) and how a
// wait spins before it sleeps; and what select() waits on. The mechanism behind them (the wait
// word, notify, the sleeping loop) is detail/wait.hpp; design: core/SPEC.md "Wait word".
#pragma once

#include <chrono>
#include <cstdint>

#include "shmkit/detail/atomic.hpp"  // barrier_mode
#include "shmkit/errc.hpp"
#include "shmkit/wire/wait.hpp"

namespace shmkit {

using nanoseconds = std::chrono::nanoseconds;
inline constexpr nanoseconds wait_forever = nanoseconds::max();

struct wait_options {
    // Polls of the condition (with a CPU pause between) before going to sleep: a few
    // microseconds that save the sleep and wake-up (a membarrier and two futex calls) when the
    // next message is about to arrive anyway. 0 sleeps at once.
    std::uint32_t spin = 64;
    bool return_on_signal = false;   // a signal ends the wait with `interrupted` (else it resumes)
};

// A source select() can wait on: its wait word, a cheap non-consuming readiness check, and
// optionally how long a wait may sleep before the source needs a look (a command reader
// waiting on a claim whose writer may have died). Every reader kind provides waitable().
struct select_source {
    wait_word* word = nullptr;
    barrier_mode barriers = barrier_mode::fences;  // the source's segment's
    bool (*ready)(void* context) = nullptr;
    void* context = nullptr;
    std::uint64_t (*recheck_after_ns)(void* context) = nullptr;  // 0 or nullptr: no limit
    // Not ok: the source cannot be slept on (a read-only mapping cannot announce a waiter).
    // select() then returns it instead of sleeping, as the reader's own blocking calls do.
    errc refusal = errc::ok;
};

}  // namespace shmkit
