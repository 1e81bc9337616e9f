// iceoryx's RouDi daemon, run by the benchmark itself: started on the first iceoryx benchmark
// with a configuration of its own, stopped at the end of the run (and on the early exits: a
// signal, or the benchmark process dying, which sends RouDi SIGTERM through PR_SET_PDEATHSIG).
// A RouDi that was already running is left alone and iceoryx is skipped.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

namespace shmkit::peers::roudi {

// Starts RouDi if it is not running yet: an empty string when it is up, else why iceoryx must be
// skipped (remembered: later calls give the same answer without trying again).
std::string ensure(const char* dir);
// Its pid while it runs, else 0.
int pid() noexcept;
// SIGTERM and wait (SIGKILL after 15 s); if it did not exit cleanly, its files are removed by hand.
void stop() noexcept;
// The same from a signal handler.
void stop_from_signal() noexcept;

// The runtime name of an iceoryx application the benchmark runs as process `pid` (unique: the
// pid); forget_app removes the socket files its runtime leaves in /tmp when it is killed
// (async-signal-safe; nothing when they are gone already).
void app_name(pid_t pid, char* out, std::size_t size) noexcept;
void forget_app(pid_t pid) noexcept;

}  // namespace shmkit::peers::roudi
