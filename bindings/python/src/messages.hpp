// Receiving variable-size messages (broadcast, spsc, command) into Python bytes or a caller's
// buffer, and sending them from any bytes-like object: the parts the three kinds share.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "common.hpp"
#include "shmkit/broadcast.hpp"  // message_info

namespace shmkit::python {

// Per-thread staging for copy-out reads: the copy happens with the GIL released, so it cannot
// go straight into a bytes object of unknown size; one buffer per thread needs no locking.
std::vector<std::uint8_t>& staging_buffer(std::size_t at_least);

// Bytes from staged memory; the copy runs with the GIL released when it is large.
py::bytes bytes_from(const std::uint8_t* data, std::size_t size);

// A message reader as the binding sees it: try_(buffer, capacity) and wait_(buffer, capacity,
// slice) return result<message_info>; pending() is the size of a message that did not fit.
// `large` says whether copies may exceed copy_with_gil_limit (then they release the GIL).
// Returns the message and sets *info. `blocking` (read, pop): waits up to `timeout` and raises
// Timeout when it expires, 0 included; otherwise (try_read, try_pop) returns None when there is
// nothing. Raises the kind's other errors (via on_error).
template <class H, class Try, class Wait, class Pending>
py::object receive(H& h, bool blocking, const timeout_arg& timeout, bool large, message_info* info, const char* what,
                   Try&& try_, Wait&& wait_, Pending&& pending) {
    validate_timeout(timeout);
    std::size_t want = h.max_message() < 65536 ? h.max_message() : 65536;
    for (;;) {
        std::vector<std::uint8_t>& buf = staging_buffer(want);
        std::size_t too_large = 0;
        auto attempt_try = [&] {
            auto r = try_(buf.data(), buf.size());
            if (!r && r.error() == errc::message_too_large) too_large = pending();
            return r;
        };
        result<message_info> r = large ? h.blocking(attempt_try) : h.quick(attempt_try);
        if (!r && r.error() == errc::empty && blocking) {
            r = h.wait_rest(timeout, [&](nanoseconds slice) {
                auto w = wait_(buf.data(), buf.size(), slice);
                if (!w && w.error() == errc::message_too_large) too_large = pending();
                return w;
            });
        }
        if (r) {
            *info = *r;
            return bytes_from(buf.data(), r->size);
        }
        if (r.error() == errc::message_too_large && too_large > buf.size()) {
            want = too_large;  // nothing was consumed: stage a larger buffer and read it again
            continue;
        }
        if (r.error() == errc::empty) return py::none();
        h.on_error(r.error(), what);
    }
}

// As receive(), into a caller's writable buffer: the message size, or None (nothing, and not
// `blocking`).
template <class H, class Try, class Wait>
py::object receive_into(H& h, const py::handle& target, bool blocking, const timeout_arg& timeout, message_info* info,
                        const char* what, Try&& try_, Wait&& wait_) {
    validate_timeout(timeout);
    output_buffer out(target);
    result<message_info> r = h.blocking([&] { return try_(out.data(), out.size()); });
    if (!r && r.error() == errc::empty && blocking) {
        r = h.wait_rest(timeout, [&](nanoseconds slice) { return wait_(out.data(), out.size(), slice); });
    }
    if (r) {
        *info = *r;
        return py::int_(r->size);
    }
    if (r.error() == errc::empty) return py::none();
    h.on_error(r.error(), what);
    return py::none();
}

}  // namespace shmkit::python
