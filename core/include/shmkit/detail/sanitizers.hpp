// The one place shmkit talks to a sanitizer.
//
// Readers of broadcast (and later the other rings) read record headers and payloads
// speculatively: the bytes may be being overwritten by a writer that lapped them, and the
// position check that follows discards the read in that case. Applications fill zero-copy
// reservations with plain stores, so ThreadSanitizer would report those stores against our
// speculative reads even though the result of such a read is never used. The two speculative
// reads (byte_ring::load_header and copy_from_shared) are therefore bracketed with TSan's
// "ignore reads" annotation: it skips race detection for the reads in between only; the
// acquire semantics of the header load still create their happens-before edge, every other
// access stays checked, and nothing is suppressed globally.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define SHMKIT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SHMKIT_TSAN 1
#endif
#endif

// A sanitizer that checks memory accesses byte by byte (ASan, HWASan, MSan): it cannot see
// inside inline assembly, so code that copies there keeps a plain C++ path under it.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_HWADDRESS__)
#define SHMKIT_CHECKED_MEMORY 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(hwaddress_sanitizer)
#define SHMKIT_CHECKED_MEMORY 1
#endif
#endif

#if defined(SHMKIT_TSAN)
extern "C" void AnnotateIgnoreReadsBegin(const char* file, int line);
extern "C" void AnnotateIgnoreReadsEnd(const char* file, int line);
#define SHMKIT_SPECULATIVE_READ_BEGIN() AnnotateIgnoreReadsBegin(__FILE__, __LINE__)
#define SHMKIT_SPECULATIVE_READ_END() AnnotateIgnoreReadsEnd(__FILE__, __LINE__)
#else
#define SHMKIT_SPECULATIVE_READ_BEGIN() static_cast<void>(0)
#define SHMKIT_SPECULATIVE_READ_END() static_cast<void>(0)
#endif
