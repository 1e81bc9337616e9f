// Maps errno to errc and remembers errno for os::last_os_error(). Private to the POSIX port.
#pragma once

#include <cerrno>

#include "shmkit/errc.hpp"

namespace shmkit::os {

inline thread_local int t_last_errno = 0;

inline errc fail_with_errno() noexcept {
    const int err = errno;
    t_last_errno = err;
    switch (err) {
        case ENOENT: return errc::not_found;
        case EEXIST: return errc::already_exists;
        case EACCES:
        case EPERM:
        case EROFS: return errc::access_denied;
        case EINVAL:
        case ENAMETOOLONG: return errc::invalid_argument;
        case ENOSPC:
        case ENOMEM:
        case EFBIG: return errc::no_space;
        case ETIMEDOUT: return errc::timeout;
        case EINTR: return errc::interrupted;
        default: return errc::os_error;
    }
}

}  // namespace shmkit::os
