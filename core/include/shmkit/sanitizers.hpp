// The one place shmkit talks to a sanitizer. See copy_from_shared for the only use and why.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define SHMKIT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SHMKIT_TSAN 1
#endif
#endif

#if defined(SHMKIT_TSAN)
#define SHMKIT_TSAN_SPECULATIVE_READ __attribute__((no_sanitize("thread")))
#else
#define SHMKIT_TSAN_SPECULATIVE_READ
#endif
