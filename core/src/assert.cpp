#include "shmkit/assert.hpp"

#include "shmkit/os.hpp"

namespace shmkit {
namespace {

void default_handler(const char* expression, const char* file, int line) {
    os::report_assert(expression, file, line);
}

// Set once at start-up in practice; an atomic pointer keeps a late set_assert_handler well-defined.
assert_handler g_handler = &default_handler;

}  // namespace

assert_handler set_assert_handler(assert_handler handler) noexcept {
    if (handler == nullptr) handler = &default_handler;
    return __atomic_exchange_n(&g_handler, handler, __ATOMIC_ACQ_REL);
}

namespace detail {
void assert_failed(const char* expression, const char* file, int line) noexcept {
    assert_handler handler = __atomic_load_n(&g_handler, __ATOMIC_ACQUIRE);
    handler(expression, file, line);
    __builtin_trap();
}
}  // namespace detail

}  // namespace shmkit
