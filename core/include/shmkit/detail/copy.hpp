// Copies between private memory and shared memory that another process may be writing at the
// same moment. Both go through relaxed atomic 64-bit words, so a concurrent overwrite is a
// well-defined (if stale) read rather than a data race; the caller validates afterwards (a
// seqlock or position check) and discards what it copied if the writer got there first.
//
// The shared side must be 8-byte aligned and readable/writable up to the next multiple of 8:
// every shmkit layout pads its payloads to at least that.
#pragma once

#include <cstddef>
#include <cstdint>

namespace shmkit {

void copy_from_shared(void* dst, const void* shared_src, std::size_t size) noexcept;
void copy_to_shared(void* shared_dst, const void* src, std::size_t size) noexcept;

// Copies into or out of a record that no other process touches meanwhile (spsc, command): the
// bytes change hands through a release/acquire publication, so a plain memcpy is correct and
// fastest. The model-checking build copies through relaxed atomic words instead, so the checker
// sees the bytes and would catch a publication that failed to order them.
inline void copy_to_record(void* shared_dst, const void* src, std::size_t size) noexcept {
#if defined(SHMKIT_MODEL_CHECK)
    copy_to_shared(shared_dst, src, size);
#else
    if (size != 0) __builtin_memcpy(shared_dst, src, size);
#endif
}
inline void copy_from_record(void* dst, const void* shared_src, std::size_t size) noexcept {
#if defined(SHMKIT_MODEL_CHECK)
    copy_from_shared(dst, shared_src, size);
#else
    if (size != 0) __builtin_memcpy(dst, shared_src, size);
#endif
}

}  // namespace shmkit
