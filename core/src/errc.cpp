#include "shmkit/errc.hpp"

namespace shmkit {

const char* to_string(errc e) noexcept {
    switch (e) {
#define SHMKIT_ERRC_NAME(code, python_class, meaning) \
    case errc::code: return #code;
        SHMKIT_ERRC_LIST(SHMKIT_ERRC_NAME)
#undef SHMKIT_ERRC_NAME
    }
    return "unknown";
}

const char* explain(errc e) noexcept {
    switch (e) {
#define SHMKIT_ERRC_MEANING(code, python_class, meaning) \
    case errc::code: return meaning;
        SHMKIT_ERRC_LIST(SHMKIT_ERRC_MEANING)
#undef SHMKIT_ERRC_MEANING
    }
    return "unknown error";
}

}  // namespace shmkit
