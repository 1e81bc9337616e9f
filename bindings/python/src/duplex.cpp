// shmkit.DuplexServer / DuplexClient: request/response over two channels (core duplex.hpp). The
// serving loops (a handler, a worker pool) are Python, in shmkit/_channel.py, over these calls.
#include <cstring>

#include "messages.hpp"
#include "reservation.hpp"
#include "shmkit/duplex.hpp"

namespace shmkit::python {
namespace {

struct py_duplex_server final : handle_base {
    duplex_server impl;
    bool reading = false;  // a request awaits _release_request() (under the mutex)
    void close_impl() noexcept override { impl.close(); }
    errc unlink_impl() noexcept override { return impl.unlink(); }
    bool source(select_source* out) noexcept override {
        *out = impl.waitable();
        return true;
    }
    // A response that finds its client dead is dropped by the caller: ReaderDead says so.
    [[noreturn]] void on_error(errc e, const char* op) {
        if (e == errc::peer_dead) raise_as("ReaderDead", e, what(*this, op));
        raise(e, what(*this, op));
    }
};

struct py_duplex_client final : handle_base {
    duplex_client impl;
    void close_impl() noexcept override { impl.close(); }
    errc unlink_impl() noexcept override { return impl.unlink(); }
    [[noreturn]] void on_error(errc e, const char* op) {
        if (e == errc::peer_dead) raise_as("ServerDead", e, what(*this, op));
        raise(e, what(*this, op));
    }
    // The next response of ours as (bytes, seq), waiting up to `timeout`.
    py::tuple receive(const timeout_arg& timeout, const char* op) {
        result<message_view> v = wait_rest(timeout, [&](nanoseconds s) { return impl.receive_response(s); });
        if (!v) on_error(v.error(), op);
        // Copied out before the release, under the handle's mutex.
        std::vector<std::uint8_t>& buf = staging_buffer(v->size);
        blocking([&] {
            std::memcpy(buf.data(), v->data, v->size);
            impl.release_response();
            return true;
        });
        return py::make_tuple(bytes_from(buf.data(), v->size), v->seq);
    }
};

// What is left of `deadline` (deadline_of) as a timeout argument.
timeout_arg seconds_until(std::uint64_t deadline) {
    if (deadline == os::forever) return std::nullopt;
    const std::uint64_t now = os::monotonic_ns();
    return deadline > now ? static_cast<double>(deadline - now) / 1e9 : 0.0;
}

channel_options duplex_options(const segment_options& segment, double liveness_period) {
    auto o = interruptible<channel_options>(segment);
    o.liveness_period_ns = liveness_period_ns(liveness_period);
    return o;
}

}  // namespace

void bind_duplex(py::module_& m) {
    py::class_<py_duplex_server, handle_base>(m, "DuplexServer", R"doc(
The serving end of a request/response channel: create() makes "<name>.request" and
"<name>.response". serve() and serve_one() run a handler per request; a client that dies is
replaced by the next one that opens the duplex.
)doc")
        .def_static(
            "create",
            [](const segment_name& name, std::uint64_t request_capacity, std::uint64_t response_capacity,
               std::uint32_t max_request, std::uint32_t max_response, double liveness_period, bool replace_stale,
               std::uint32_t mode) {
                duplex_config c;
                c.request_capacity = request_capacity;
                c.response_capacity = response_capacity;
                c.max_request = max_request;
                c.max_response = max_response;
                const segment_options s = segment_options_from(
                    replace_stale, /*prefault=*/false, /*reserve_memory=*/true, mode, /*allow_membarrier=*/true, 0.5);
                const auto o = duplex_options(s, liveness_period);
                return open_handle<py_duplex_server>(name, "create",
                                                     [&] { return duplex_server::create(name.c_str(), c, o); });
            },
            py::arg("name"), py::kw_only(), py::arg("request_capacity") = 1u << 20,
            py::arg("response_capacity") = 1u << 20, py::arg("max_request") = 0, py::arg("max_response") = 0,
            py::arg("liveness_period") = 0.1, py::arg("replace_stale") = true, py::arg_v("mode", 0600, "0o600"),
            "Creates the duplex as its server. Capacities are ring bytes of each direction; max_* 0: as large as "
            "the ring allows.")
        .def(
            "_receive_request",
            [](py::object self, timeout_arg timeout) {
                auto& s = self.cast<py_duplex_server&>();
                validate_timeout(timeout);
                bool unreleased = false;
                result<message_view> v = s.wait_rest(timeout, [&](nanoseconds slice) {
                    if (s.reading) {
                        unreleased = true;
                        return result<message_view>(errc::busy);
                    }
                    auto r = s.impl.receive_request(slice);
                    if (r) s.reading = true;
                    return r;
                });
                if (unreleased) throw std::runtime_error("the request received before is not released yet");
                const py::object guard = pin(self);
                if (!v) s.on_error(v.error(), "receive_request");
                return py::make_tuple(shared_bytes(guard, v->data, v->size, false), v->seq);
            },
            py::arg("timeout") = py::none(),
            "(request array in place, seq), waiting up to `timeout`; serve() and serve_one() wrap it.")
        .def(
            "_release_request",
            [](py_duplex_server& s) {
                return s.quick([&] {
                    if (!s.reading) return false;
                    s.impl.release_request();
                    s.reading = false;
                    return true;
                });
            },
            "Gives the request received last back to the client.")
        .def(
            "respond",
            [](py_duplex_server& s, std::uint64_t seq, const py::handle& data, timeout_arg timeout) {
                validate_timeout(timeout);
                input_bytes in(data);
                const errc e =
                    s.wait_rest(timeout, [&](nanoseconds slice) { return s.impl.respond(seq, in.data(), in.size(), slice); });
                if (failed(e)) s.on_error(e, "respond");
            },
            py::arg("seq"), py::arg("data"), py::arg("timeout") = py::none(),
            "Answers request `seq` with a copy of `data`. Raises ReaderDead when the client died (the response "
            "is dropped), Timeout when no room came in time.")
        .def(
            "reserve_response",
            [](py::object self, std::uint64_t seq, std::size_t size, timeout_arg timeout) {
                auto& s = self.cast<py_duplex_server&>();
                validate_timeout(timeout);
                result<reservation> r =
                    s.wait_rest(timeout, [&](nanoseconds slice) { return s.impl.reserve_response(seq, size, slice); });
                const py::object guard = pin_reserved(self, s, r, nullptr);
                if (!r) s.on_error(r.error(), "reserve_response");
                py::array a = shared_bytes(guard, r->data(), r->size(), true);
                return make_reservation(self, s, nullptr, std::move(r).value(), std::move(a), size, true);
            },
            py::arg("seq"), py::arg("size"), py::arg("timeout") = py::none(),
            "Zero-copy: a Reservation of up to `size` bytes for the response to request `seq`; commit(n) sends it.")
        .def_property_readonly("client_connected",
                               &ask<py_duplex_server, &impl_of<py_duplex_server>::client_connected>,
                               "True while a live client holds the duplex.")
        .def_property_readonly("max_request", &ask<py_duplex_server, &impl_of<py_duplex_server>::max_request>,
                               "The largest request, in bytes.")
        .def_property_readonly("max_response", &ask<py_duplex_server, &impl_of<py_duplex_server>::max_response>,
                               "The largest response, in bytes.");

    py::class_<py_duplex_client, handle_base>(m, "DuplexClient", R"doc(
The calling end of a request/response channel: call() for one request at a time, or
send_request() and receive_response() with several in flight, matched by sequence number. A
server that dies raises ServerDead (a PeerDead).
)doc")
        .def_static(
            "open",
            [](const segment_name& name, double ready_timeout, double liveness_period) {
                const auto o = duplex_options(attach_segment_options(ready_timeout), liveness_period);
                return open_handle<py_duplex_client>(name, "open", [&] { return duplex_client::open(name.c_str(), o); },
                                                     ready_timeout);
            },
            py::arg("name"), py::kw_only(), py::arg("ready_timeout") = 0.5, py::arg("liveness_period") = 0.1,
            "Becomes the client of a duplex (Busy while another client lives).")
        .def(
            "send_request",
            [](py_duplex_client& c, const py::handle& data, timeout_arg timeout) {
                validate_timeout(timeout);
                input_bytes in(data);
                result<std::uint64_t> seq = c.wait_rest(
                    timeout, [&](nanoseconds slice) { return c.impl.send_request(in.data(), in.size(), slice); });
                if (!seq) c.on_error(seq.error(), "send_request");
                return *seq;
            },
            py::arg("data"), py::arg("timeout") = py::none(),
            "Sends a request (a copy), waiting up to `timeout` for room; returns its sequence number, which its "
            "response carries.")
        .def(
            "receive_response", [](py_duplex_client& c, timeout_arg timeout) {
                validate_timeout(timeout);
                return c.receive(timeout, "receive_response");
            },
            py::arg("timeout") = py::none(),
            "(response bytes, request seq) of the next response, waiting up to `timeout`.")
        .def(
            "call",
            [](py_duplex_client& c, const py::handle& data, timeout_arg timeout) {
                validate_timeout(timeout);
                if (c.quick([&] { return c.impl.in_flight(); }) != 0) c.on_error(errc::busy, "call");
                const std::uint64_t deadline = deadline_of(timeout);
                input_bytes in(data);
                result<std::uint64_t> seq = c.wait_rest(
                    timeout, [&](nanoseconds slice) { return c.impl.send_request(in.data(), in.size(), slice); });
                if (!seq) c.on_error(seq.error(), "call");
                for (;;) {
                    py::tuple got = c.receive(seconds_until(deadline), "call");
                    if (got[1].cast<std::uint64_t>() == *seq) return py::bytes(got[0]);
                }
            },
            py::arg("data"), py::arg("timeout") = py::none(),
            "Sends one request and returns its response (bytes), within `timeout` in all. Raises Busy while other "
            "requests are in flight, ServerDead when the server dies, Timeout.")
        .def_property_readonly("in_flight", &ask<py_duplex_client, &impl_of<py_duplex_client>::in_flight>,
                               "Requests sent whose responses have not been received.")
        .def_property_readonly("server_connected",
                               &ask<py_duplex_client, &impl_of<py_duplex_client>::server_connected>,
                               "True while a live server holds the duplex.")
        .def_property_readonly("max_request", &ask<py_duplex_client, &impl_of<py_duplex_client>::max_request>,
                               "The largest request, in bytes.")
        .def_property_readonly("max_response", &ask<py_duplex_client, &impl_of<py_duplex_client>::max_response>,
                               "The largest response, in bytes.");
}

}  // namespace shmkit::python
