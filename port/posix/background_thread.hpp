// The port's own threads (select's futex helpers, the exit watcher). Private to the POSIX port.
#pragma once

#include <limits.h>  // PTHREAD_STACK_MIN
#include <pthread.h>
#include <signal.h>

#include <cstddef>

namespace shmkit::os {

// Starts `body(argument)` on a detached thread with a small stack (never below the platform
// minimum: 128 KiB on aarch64) and every signal blocked, so the application's handlers never
// run on it. Returns pthread_create's result (0 on success).
inline int start_background_thread(void* (*body)(void*), void* argument, pthread_t* thread) noexcept {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    const std::size_t stack = PTHREAD_STACK_MIN > 64 * 1024 ? PTHREAD_STACK_MIN : 64 * 1024;
    pthread_attr_setstacksize(&attr, stack);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    const int rc = pthread_create(thread, &attr, body, argument);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    pthread_attr_destroy(&attr);
    return rc;
}

}  // namespace shmkit::os
