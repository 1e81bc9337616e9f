#include "shmkit/detail/copy.hpp"

#include <cstring>

#include "shmkit/detail/atomic.hpp"
#include "shmkit/detail/sanitizers.hpp"

namespace shmkit {
namespace {

// Large copies. The word loops below run at about half of memcpy's speed on multi-MiB frames:
// compilers neither vectorise atomic accesses nor turn them into the CPU's block moves. So
// copies from bulk_copy_threshold up go through a few lines of inline assembly: `rep movsb` on
// x86-64 (a microcoded block move that fetches no destination line it overwrites whole), a
// 64-byte ldp/stp loop on aarch64. The compiler does not look inside inline assembly, so it can
// neither tear, repeat nor move those accesses; the CPU makes of them what it makes of relaxed
// atomic words: a reader that races a writer gets some mix of old and new bytes, and the
// position or sequence check after its copy (behind its acquire fence) discards them, as it does
// for the word loops. The "memory" clobber keeps every other access on its side of the copy.
// Sanitizer builds and the model check keep the word loops, so that ThreadSanitizer and the
// model checker see every store of a publication and AddressSanitizer every byte copied.
#if defined(__GNUC__) && !defined(SHMKIT_TSAN) && !defined(SHMKIT_CHECKED_MEMORY) && !defined(SHMKIT_MODEL_CHECK) && \
    (defined(__x86_64__) || defined(__aarch64__))
#define SHMKIT_BULK_COPY 1
#endif

#if defined(SHMKIT_BULK_COPY)
constexpr std::size_t bulk_copy_threshold = 1024;

// Copies the leading multiple of 64 bytes of `size` (at least bulk_copy_threshold) and returns
// how many bytes it copied.
std::size_t bulk_copy(void* dst, const void* src, std::size_t size) noexcept {
    std::size_t n = size & ~std::size_t{63};
    const std::size_t copied = n;
#if defined(__x86_64__)
    __asm__ __volatile__("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
#else
    __asm__ __volatile__(
        "1:\n\t"
        "ldp q0, q1, [%1], #32\n\t"
        "ldp q2, q3, [%1], #32\n\t"
        "stp q0, q1, [%0], #32\n\t"
        "stp q2, q3, [%0], #32\n\t"
        "subs %2, %2, #64\n\t"
        "b.ne 1b"
        : "+r"(dst), "+r"(src), "+r"(n)
        :
        : "v0", "v1", "v2", "v3", "cc", "memory");
#endif
    return copied;
}
#endif

}  // namespace

// A speculative read: see sanitizers.hpp for why TSan is told to ignore it.
void copy_from_shared(void* dst, const void* shared_src, std::size_t size) noexcept {
    SHMKIT_SPECULATIVE_READ_BEGIN();
    auto* out = static_cast<unsigned char*>(dst);
    const auto* words = static_cast<const std::uint64_t*>(shared_src);
    std::size_t i = 0;
#if defined(SHMKIT_BULK_COPY)
    if (size >= bulk_copy_threshold) i = bulk_copy(out, shared_src, size);
#endif
    // Four independent loads per step: about 2x faster than one at a time (close to memcpy
    // for frames), since compilers do not vectorise atomic loads.
    // Each word goes straight to the destination with its own 8-byte store: gathering them in a
    // local array and copying that out made the compiler reload it with 16-byte loads that
    // cannot be forwarded from the 8-byte stores (a stall per iteration, 8x slower).
    for (; size - i >= 32; i += 32) {
        const std::uint64_t w0 = load_shared(words + i / 8, order::relaxed);
        const std::uint64_t w1 = load_shared(words + i / 8 + 1, order::relaxed);
        const std::uint64_t w2 = load_shared(words + i / 8 + 2, order::relaxed);
        const std::uint64_t w3 = load_shared(words + i / 8 + 3, order::relaxed);
        std::memcpy(out + i, &w0, 8);
        std::memcpy(out + i + 8, &w1, 8);
        std::memcpy(out + i + 16, &w2, 8);
        std::memcpy(out + i + 24, &w3, 8);
    }
    for (; size - i >= 8; i += 8) {
        const std::uint64_t w = load_shared(words + i / 8, order::relaxed);
        std::memcpy(out + i, &w, 8);
    }
    if (i < size) {
        const std::uint64_t w = load_shared(words + i / 8, order::relaxed);
        std::memcpy(out + i, &w, size - i);
    }
    SHMKIT_SPECULATIVE_READ_END();
}

void copy_to_shared(void* shared_dst, const void* src, std::size_t size) noexcept {
    const auto* in = static_cast<const unsigned char*>(src);
    auto* words = static_cast<std::uint64_t*>(shared_dst);
    std::size_t i = 0;
#if defined(SHMKIT_BULK_COPY)
    if (size >= bulk_copy_threshold) i = bulk_copy(shared_dst, in, size);
#endif
    for (; size - i >= 32; i += 32) {
        std::uint64_t w0, w1, w2, w3;
        std::memcpy(&w0, in + i, 8);
        std::memcpy(&w1, in + i + 8, 8);
        std::memcpy(&w2, in + i + 16, 8);
        std::memcpy(&w3, in + i + 24, 8);
        store_shared(words + i / 8, w0, order::relaxed);
        store_shared(words + i / 8 + 1, w1, order::relaxed);
        store_shared(words + i / 8 + 2, w2, order::relaxed);
        store_shared(words + i / 8 + 3, w3, order::relaxed);
    }
    for (; size - i >= 8; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, in + i, 8);
        store_shared(words + i / 8, w, order::relaxed);
    }
    if (i < size) {
        std::uint64_t w = 0;
        std::memcpy(&w, in + i, size - i);
        store_shared(words + i / 8, w, order::relaxed);
    }
}

}  // namespace shmkit
