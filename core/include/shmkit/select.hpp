// Waiting on many sources at once: select() returns the index of the first source that is
// ready, sleeping in the kernel until one is (no periodic wake-ups while idle). On Linux >= 5.16
// one futex_waitv call waits on every source's word; on older kernels (JetPack 5/6 ship 5.10 and
// 5.15) a pool of helper threads each blocks on one word and rings a doorbell the caller sleeps
// on. Design: core/SPEC.md "select".
#pragma once

#include <cstddef>

#include "shmkit/errc.hpp"
#include "shmkit/os.hpp"
#include "shmkit/wait.hpp"

namespace shmkit {

inline constexpr std::size_t max_select_sources = os::max_wait_any;

// The index of a ready source; timeout; interrupted (a signal, with
// options.return_on_signal); invalid_argument (no sources, more than max_select_sources, or
// one without a readiness check); not_open (a source without a word: the waitable() of a
// closed handle); os_error (the OS could not wait: no helper threads, ...). Sources are
// checked in order, so a source earlier in the list wins when several are ready.
result<std::size_t> select(const select_source* sources, std::size_t count, nanoseconds timeout = wait_forever,
                           wait_options options = {}) noexcept;

}  // namespace shmkit
