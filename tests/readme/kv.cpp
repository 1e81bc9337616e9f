// Harness for README.md's kv snippets (see CMakeLists.txt).
#include <cstdint>

#include <shmkit/kv.hpp>

namespace {
void on_change(std::uint32_t, const char*, std::size_t) {}
}  // namespace

void readme_kv(std::uint64_t last_epoch, shmkit::nanoseconds timeout) {
    char buf[64];
#include "readme_kv_1.inc"
    static_cast<void>(stored);
    static_cast<void>(v);
    static_cast<void>(n);
    static_cast<void>(woke);
}

// The second snippet goes on with the first one's store and epochs.
void readme_kv_values(shmkit::result<shmkit::kv_store>& kv, std::uint64_t last_epoch) {
    std::uint64_t epoch = 0;
#include "readme_kv_2.inc"
    static_cast<void>(n);
}
