// The port's failed calls record GetLastError() here (os::last_os_error() reports it) and
// translate it into an errc, as errno_map.hpp does for the POSIX port.
#pragma once

#include <windows.h>

#include "shmkit/errc.hpp"

namespace shmkit::os {

inline thread_local DWORD t_last_error = 0;

inline errc errc_of(DWORD error) noexcept {
    switch (error) {
        case ERROR_FILE_NOT_FOUND:
        case ERROR_PATH_NOT_FOUND: return errc::not_found;
        case ERROR_ALREADY_EXISTS:
        case ERROR_FILE_EXISTS: return errc::already_exists;
        case ERROR_ACCESS_DENIED: return errc::access_denied;
        case ERROR_NOT_ENOUGH_MEMORY:
        case ERROR_OUTOFMEMORY:
        case ERROR_COMMITMENT_LIMIT:
        case ERROR_DISK_FULL: return errc::no_space;
        case ERROR_INVALID_PARAMETER:
        case ERROR_INVALID_NAME: return errc::invalid_argument;
        case ERROR_BUSY: return errc::busy;
        default: return errc::os_error;
    }
}

// Records the calling thread's last error and returns its errc.
inline errc fail_with_last_error() noexcept {
    t_last_error = ::GetLastError();
    return errc_of(t_last_error);
}

}  // namespace shmkit::os
