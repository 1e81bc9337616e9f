#include "shmkit/errc.hpp"

namespace shmkit {

const char* to_string(errc e) noexcept {
    switch (e) {
        case errc::ok: return "ok";
        case errc::invalid_argument: return "invalid_argument";
        case errc::not_found: return "not_found";
        case errc::already_exists: return "already_exists";
        case errc::access_denied: return "access_denied";
        case errc::size_mismatch: return "size_mismatch";
        case errc::invalid_layout: return "invalid_layout";
        case errc::version_mismatch: return "version_mismatch";
        case errc::wrong_kind: return "wrong_kind";
        case errc::not_open: return "not_open";
        case errc::message_too_large: return "message_too_large";
        case errc::full: return "full";
        case errc::empty: return "empty";
        case errc::timeout: return "timeout";
        case errc::overrun: return "overrun";
        case errc::lock_timeout: return "lock_timeout";
        case errc::peer_dead: return "peer_dead";
        case errc::os_error: return "os_error";
        case errc::not_ready: return "not_ready";
        case errc::busy: return "busy";
        case errc::no_space: return "no_space";
        case errc::interrupted: return "interrupted";
        case errc::owner_dead: return "owner_dead";
        case errc::stale: return "stale";
        case errc::out_of_range: return "out_of_range";
        case errc::unsupported: return "unsupported";
        case errc::wrong_process: return "wrong_process";
    }
    return "unknown";
}

}  // namespace shmkit
