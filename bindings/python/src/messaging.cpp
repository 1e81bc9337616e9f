// shmkit.BroadcastWriter/BroadcastReader, SpscProducer/SpscConsumer, CommandWriter/CommandReader.
#include <pybind11/stl.h>

#include <utility>

#include "messages.hpp"
#include "reservation.hpp"
#include "shmkit/broadcast.hpp"
#include "shmkit/channel.hpp"
#include "shmkit/command.hpp"
#include "shmkit/spsc.hpp"

namespace shmkit::python {

std::vector<std::uint8_t>& staging_buffer(std::size_t at_least) {
    thread_local std::vector<std::uint8_t> buffer;
    if (buffer.size() < at_least) buffer.resize(at_least);
    return buffer;
}

py::bytes bytes_from(const std::uint8_t* data, std::size_t size) {
    if (size <= copy_with_gil_limit) return py::bytes(reinterpret_cast<const char*>(data), size);
    PyObject* b = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(size));
    if (b == nullptr) throw py::error_already_set();
    {
        // The new bytes object is not visible to any other thread yet.
        py::gil_scoped_release release;
        std::memcpy(PyBytes_AS_STRING(b), data, size);
    }
    return py::reinterpret_steal<py::bytes>(b);
}

namespace {

// A configured largest message above what the ring carries, refused with both figures (the
// core's invalid_argument alone does not say which argument, nor the limit).
void refuse_beyond_ring(const std::string& name, const char* field, std::uint64_t asked, std::uint64_t largest,
                        std::uint64_t capacity) {
    if (asked <= largest || ring_capacity_for(capacity) == 0) return;
    raise(errc::invalid_argument, what(name, "create") + ": " + field + " " + std::to_string(asked) +
                                      " is more than a ring of " + std::to_string(ring_capacity_for(capacity)) +
                                      " bytes carries (at most " + std::to_string(largest) + ")");
}
std::uint32_t largest_for(const spsc_config&, std::uint64_t capacity) noexcept { return largest_frame(capacity); }
std::uint32_t largest_for(const command_config&, std::uint64_t capacity) noexcept { return largest_message(capacity); }

// "... (the largest is N bytes)" for a message_too_large from a writer whose limit is `largest`.
std::string with_limit(errc e, std::string what, const char* limit_name, std::uint64_t largest) {
    if (e == errc::message_too_large) what += " (" + std::string(limit_name) + " is " + std::to_string(largest) + " bytes)";
    return what;
}

// ---- broadcast -----------------------------------------------------------------------------

struct py_broadcast_writer final : reserving_writer {
    broadcast_writer impl;
    void close_impl() noexcept override { impl.close(); }
    errc unlink_impl() noexcept override { return impl.unlink(); }
};

// The readers of byte messages that share try_read()/read(): broadcast and command.
template <class Impl>
struct py_message_reader final : handle_base {
    Impl impl;
    message_info last{};
    void close_impl() noexcept override { impl.close(); }
    errc unlink_impl() noexcept override { return impl.unlink(); }
    bool source(select_source* out) noexcept override {
        *out = impl.waitable();
        return true;
    }
    std::uint64_t max_message() const noexcept { return impl.max_message(); }
    [[noreturn]] void on_error(errc e, const char* op) { raise(e, what(*this, op)); }
    py::object read(bool blocking, const timeout_arg& timeout, const char* op) {
        return receive(
            *this, blocking, timeout, impl.max_message() > copy_with_gil_limit, &last, op,
            [this](void* b, std::size_t n) { return impl.try_read(b, n); },
            [this](void* b, std::size_t n, nanoseconds t) { return impl.read(b, n, t); },
            [this] { return impl.pending_size(); });
    }
    py::object read_into(const py::handle& buffer, bool blocking, const timeout_arg& timeout, const char* op) {
        return receive_into(
            *this, buffer, blocking, timeout, &last, op, [this](void* b, std::size_t n) { return impl.try_read(b, n); },
            [this](void* b, std::size_t n, nanoseconds t) { return impl.read(b, n, t); });
    }
};
using py_broadcast_reader = py_message_reader<broadcast_reader>;
using py_command_reader = py_message_reader<command_reader>;

// ---- spsc ----------------------------------------------------------------------------------

struct py_spsc_producer final : reserving_writer {
    spsc_producer impl;
    void close_impl() noexcept override { impl.close(); }
    [[noreturn]] void on_error(errc e, const char* op) {
        raise(e, with_limit(e, what(*this, op), "max_message", impl.max_message()));
    }
    errc unlink_impl() noexcept override { return impl.unlink(); }
};

struct py_spsc_consumer final : handle_base {
    spsc_consumer impl;
    message_info last{};
    bool peeked = false;  // a peek() awaits release() (under the mutex, like the core's own state)
    void close_impl() noexcept override { impl.close(); }
    errc unlink_impl() noexcept override { return impl.unlink(); }
    // Called under the mutex with a pop's result: a pop that found a message (delivered, or
    // too large for the buffer) drops any earlier peek, as the core does.
    result<message_info> popped(result<message_info> r) noexcept {
        if (r || r.error() == errc::message_too_large) peeked = false;
        return r;
    }
    bool source(select_source* out) noexcept override {
        *out = impl.waitable();
        return true;
    }
    std::uint64_t max_message() const noexcept { return impl.max_message(); }
    [[noreturn]] void on_error(errc e, const char* op) { raise(e, what(*this, op)); }
    py::object pop_into(const py::handle& buffer, bool blocking, const timeout_arg& timeout, const char* op) {
        return receive_into(
            *this, buffer, blocking, timeout, &last, op,
            [this](void* b, std::size_t cap) { return popped(impl.try_pop(b, cap)); },
            [this](void* b, std::size_t cap, nanoseconds t) { return popped(impl.pop(b, cap, t)); });
    }
    // peek() and try_peek(): the next message in place, without consuming it.
    py::object peek(py::object self, bool blocking, const timeout_arg& timeout, const char* op) {
        validate_timeout(timeout);
        auto peeked_now = [&](result<message_view> v) {
            if (v) peeked = true;
            return v;
        };
        result<message_view> v = quick([&] { return peeked_now(impl.try_peek()); });
        if (!v && v.error() == errc::empty && blocking) {
            v = wait_rest(timeout, [&](nanoseconds s) { return peeked_now(impl.peek(s)); });
        }
        // Pinned right after the wait (before it, close() from another thread could not
        // cancel the wait); no Python code ran since the pointer was taken.
        const py::object guard = pin(self);
        if (!v && v.error() == errc::empty) return py::none();
        if (!v) raise(v.error(), what(*this, op));
        last = message_info{v->size, v->seq, v->lost};
        return shared_bytes(guard, v->data, v->size, false);
    }
    py::object pop(bool blocking, const timeout_arg& timeout, const char* op) {
        return receive(
            *this, blocking, timeout, impl.max_message() > copy_with_gil_limit, &last, op,
            [this](void* b, std::size_t n) { return popped(impl.try_pop(b, n)); },
            [this](void* b, std::size_t n, nanoseconds t) { return popped(impl.pop(b, n, t)); },
            [this] { return impl.pending_size(); });
    }
};

// ---- channel -------------------------------------------------------------------------------

// A channel end's death, as the Python class of the end that died (WriterDead, ReaderDead: both
// PeerDead); every other error as usual.
[[noreturn]] void raise_channel_error(errc e, const std::string& what, const char* dead_class) {
    if (e == errc::peer_dead) raise_as(dead_class, e, what);
    raise(e, what);
}

struct py_channel_writer final : reserving_writer {
    channel_writer impl;
    void close_impl() noexcept override { impl.close(); }
    errc unlink_impl() noexcept override { return impl.unlink(); }
    [[noreturn]] void on_error(errc e, const char* op) {
        raise_channel_error(e, with_limit(e, what(*this, op), "max_frame", impl.max_frame()), "ReaderDead");
    }
};

struct py_channel_reader final : handle_base {
    channel_reader impl;
    bool reading = false;  // a frame awaits release() (under the mutex, like the core's own state)
    void close_impl() noexcept override { impl.close(); }
    errc unlink_impl() noexcept override { return impl.unlink(); }
    bool source(select_source* out) noexcept override {
        *out = impl.waitable();
        return true;
    }
    [[noreturn]] void on_error(errc e, const char* op) { raise_channel_error(e, what(*this, op), "WriterDead"); }
    // read() and try_read(): (array over the frame, seq), or None (try_read: nothing now).
    py::object read(py::object self, bool blocking, const timeout_arg& timeout, const char* op) {
        validate_timeout(timeout);
        bool unreleased = false;
        auto read_now = [&](auto attempt) {
            if (reading) {
                unreleased = true;
                return result<message_view>(errc::busy);
            }
            result<message_view> v = attempt();
            if (v) reading = true;
            return v;
        };
        result<message_view> v = quick([&] { return read_now([&] { return impl.try_read(); }); });
        if (!v && v.error() == errc::empty && blocking) {
            v = wait_rest(timeout, [&](nanoseconds s) { return read_now([&] { return impl.read(s); }); });
        }
        if (unreleased) throw std::runtime_error("a frame read earlier is not released yet: release() it first");
        // Pinned right after the wait, as in SpscConsumer.peek().
        const py::object guard = pin(self);
        if (!v && v.error() == errc::empty) return py::none();
        if (!v) on_error(v.error(), op);
        return py::make_tuple(shared_bytes(guard, v->data, v->size, false), v->seq);
    }
};

// create() and open() of both channel ends.
template <class H>
std::unique_ptr<H> create_channel(const segment_name& name, std::uint64_t capacity, std::uint32_t max_frame,
                                  std::uint32_t metadata_size, double liveness_period, bool replace_stale,
                                  bool prefault, bool reserve_memory, std::uint32_t mode, bool allow_membarrier) {
    channel_config c;
    c.capacity = capacity;
    c.max_frame = max_frame;
    c.metadata_size = metadata_size;
    auto o = interruptible<channel_options>(
        segment_options_from(replace_stale, prefault, reserve_memory, mode, allow_membarrier, 0.5));
    o.liveness_period_ns = liveness_period_ns(liveness_period);
    refuse_beyond_ring(name, "max_frame", max_frame, largest_frame(ring_capacity_for(capacity)), capacity);
    return open_handle<H>(name, "create", [&] { return decltype(H::impl)::create(name.c_str(), c, o); });
}
template <class H>
std::unique_ptr<H> open_channel(const segment_name& name, double ready_timeout, double liveness_period) {
    auto o = interruptible<channel_options>(attach_segment_options(ready_timeout));
    o.liveness_period_ns = liveness_period_ns(liveness_period);
    return open_handle<H>(name, "open", [&] { return decltype(H::impl)::open(name.c_str(), o); }, ready_timeout);
}

// ---- command -------------------------------------------------------------------------------

struct py_command_writer final : handle_base {
    command_writer impl;
    void close_impl() noexcept override { impl.close(); }
    errc unlink_impl() noexcept override { return impl.unlink(); }
};

// Sends, waiting up to `timeout` for room: try first, then wait in slices while `full` (or the
// claim lock is busy). Timeout when it expires, 0 included.
template <class H, class Try, class Wait>
errc send_waiting(H& h, const py::handle& data, const timeout_arg& timeout, Try&& try_, Wait&& wait_) {
    validate_timeout(timeout);
    input_bytes in(data);
    errc e = h.copying(in.size(), [&] { return try_(in.data(), in.size()); });
    if (e == errc::full || e == errc::lock_timeout) {
        e = h.wait_rest(timeout, [&](nanoseconds slice) { return wait_(in.data(), in.size(), slice); });
    }
    return e;
}

// create() and open() of the queue kinds whose options carry `wait` and `segment` (spsc and
// command): H is the Python handle, its `impl` the C++ end.
template <class H, class Config, class Options>
std::unique_ptr<H> create_queue(const segment_name& name, std::uint64_t capacity, std::uint32_t max_message,
                                bool replace_stale, bool prefault, bool reserve_memory, std::uint32_t mode,
                                bool allow_membarrier) {
    Config c;
    c.capacity = capacity;
    c.max_message = max_message;
    refuse_beyond_ring(name, "max_message", max_message, largest_for(c, ring_capacity_for(capacity)), capacity);
    const auto o = interruptible<Options>(
        segment_options_from(replace_stale, prefault, reserve_memory, mode, allow_membarrier, 0.5));
    return open_handle<H>(name, "create", [&] { return decltype(H::impl)::create(name.c_str(), c, o); });
}
template <class H, class Options>
std::unique_ptr<H> open_queue(const segment_name& name, double ready_timeout) {
    const auto o = interruptible<Options>(attach_segment_options(ready_timeout));
    return open_handle<H>(name, "open", [&] { return decltype(H::impl)::open(name.c_str(), o); }, ready_timeout);
}

// A Reservation of message bytes; `guard` pinned the writer (pin()) before it reserved.
py::object bytes_reservation(const py::object& guard, py::object self, handle_base& w, bool* open_flag,
                             reservation&& r) {
    py::array a = shared_bytes(guard, r.data(), r.size(), true);
    const std::size_t size = r.size();
    return make_reservation(std::move(self), w, open_flag, std::move(r), std::move(a), size, true);
}

// spsc and channel reserve() and try_reserve(): a Reservation; without `blocking`, None when
// there is no room. `on_error` raises the writer's errors.
template <class H>
py::object ring_reserve(py::object self, std::size_t size, bool blocking, const timeout_arg& timeout, const char* op) {
    auto& p = self.cast<H&>();
    validate_timeout(timeout);
    bool refused = false;
    result<reservation> r = p.quick(p.reserve_guarded(refused, [&] { return p.impl.try_reserve(size); }));
    if (!r && r.error() == errc::full && blocking) {
        r = p.wait_rest(timeout, p.reserve_guarded(refused, [&](nanoseconds s) { return p.impl.reserve(size, s); }));
    }
    const py::object guard = pin_reserved(self, p, r, &p.reserving);
    p.check_refused(refused);
    if (!r && r.error() == errc::full && !blocking) return py::none();
    if (!r) p.on_error(r.error(), op);
    return bytes_reservation(guard, self, p, &p.reserving, std::move(r).value());
}

// command reserve() and try_reserve(), likewise (no room, or the claim lock busy: None).
py::object command_reserve(py::object self, std::size_t size, bool blocking, const timeout_arg& timeout,
                           const char* op) {
    auto& w = self.cast<py_command_writer&>();
    validate_timeout(timeout);
    result<reservation> r = w.quick([&] { return w.impl.try_reserve(size); });
    if (!r && (r.error() == errc::full || r.error() == errc::lock_timeout) && blocking) {
        r = w.wait_rest(timeout, [&](nanoseconds s) { return w.impl.reserve(size, s); });
    }
    const py::object guard = pin_reserved(self, w, r, nullptr);
    if (!r && (r.error() == errc::full || r.error() == errc::lock_timeout) && !blocking) return py::none();
    if (!r) raise(r.error(), what(w, op));
    return bytes_reservation(guard, self, w, nullptr, std::move(r).value());
}

const std::string seg_doc =
    std::string("replace_stale: replace a segment of that name whose creator died and which nobody has open. "
                "prefault: touch every page now (no page faults on the first writes). ") +
    reserve_memory_doc +
    " mode: permission bits. "
    "allow_membarrier: cheaper notifies with membarrier where every attaching process can use it.";

}  // namespace

// How full an spsc ring is, from either end: the same five properties on both classes.
template <class H>
void add_ring_occupancy(py::class_<H, handle_base>& c) {
    c.def_property_readonly("capacity", &ask<H, &impl_of<H>::capacity>, "Ring bytes.")
        .def_property_readonly("used", &ask<H, &impl_of<H>::used>,
                               "Ring bytes in use now (messages not yet consumed, their headers and padding).")
        .def_property_readonly("free", &ask<H, &impl_of<H>::free>, "Ring bytes free now.")
        .def_property_readonly("is_empty", &ask<H, &impl_of<H>::is_empty>, "True when no message waits.")
        .def_property_readonly("is_full", &ask<H, &impl_of<H>::is_full>, "True when not even an empty message fits now.");
}

void bind_messaging(py::module_& m) {
    // ---- broadcast -----------------------------------------------------------------------
    py::class_<py_broadcast_writer, handle_base>(m, "BroadcastWriter", R"doc(
The single writer of a broadcast channel: every reader sees every message, in order.

The writer never waits for readers; a reader the writer laps continues at the oldest message
still kept and is told how many it lost (its `lost`).
)doc")
        .def_static(
            "create",
            [](const segment_name& name, std::uint64_t capacity, std::uint32_t max_message, bool replace_stale,
               bool prefault, bool reserve_memory, std::uint32_t mode, bool allow_membarrier) {
                broadcast_config c;
                c.capacity = capacity;
                c.max_message = max_message;
                const segment_options o =
                    segment_options_from(replace_stale, prefault, reserve_memory, mode, allow_membarrier, 0.5);
                return open_handle<py_broadcast_writer>(name, "create",
                                                        [&] { return broadcast_writer::create(name.c_str(), c, o); });
            },
            py::arg("name"), py::kw_only(), py::arg("capacity") = 1u << 20, py::arg("max_message") = 0,
            py::arg("replace_stale") = true, py::arg("prefault") = false, py::arg("reserve_memory") = true,
            py::arg_v("mode", 0600, "0o600"), py::arg("allow_membarrier") = true,
            (std::string("Creates the channel and becomes its writer. capacity: ring bytes; max_message: largest "
                         "message (0: about capacity/2). ") +
             seg_doc)
                .c_str())
        .def_static(
            "open",
            [](const segment_name& name, double ready_timeout) {
                const segment_options o = attach_segment_options(ready_timeout);
                return open_handle<py_broadcast_writer>(name, "open",
                                                        [&] { return broadcast_writer::open(name.c_str(), o); }, ready_timeout);
            },
            py::arg("name"), py::kw_only(), py::arg("ready_timeout") = 0.5,
            "Becomes the writer of an existing channel: Busy while another writer lives; a dead writer's role "
            "is taken over.")
        .def(
            "write",
            [](py_broadcast_writer& w, const py::handle& data) {
                bool refused = false;
                const errc e =
                    send(w, data, w.guarded(refused, [&](const void* p, std::size_t n) { return w.impl.write(p, n); }));
                w.check_refused(refused);
                check(e, w, "write");
            },
            py::arg("data"), "Publishes one message: bytes, str (UTF-8) or any C-contiguous buffer (NumPy arrays).")
        .def(
            "reserve",
            [](py::object self, std::size_t size) {
                auto& w = self.cast<py_broadcast_writer&>();
                const py::object guard = pin(self);
                bool refused = false;
                auto r = w.quick(w.reserve_guarded(refused, [&] { return w.impl.reserve(size); }));
                w.check_refused(refused);
                if (!r) raise(r.error(), what(w, "reserve"));
                return bytes_reservation(guard, self, w, &w.reserving, std::move(r).value());
            },
            py::arg("size"), "Reserves `size` bytes to fill in place; returns a Reservation.")
        .def(
            "skip", [](py_broadcast_writer& w, std::uint64_t count) { check(w.impl.skip(count), w, "skip"); },
            py::arg("count"),
            "Counts `count` messages as lost before the next one published: readers get them in that "
            "message's `lost` and in total_lost, as after a lap (for a writer forwarding messages from elsewhere).")
        .def_property_readonly("max_message", &ask<py_broadcast_writer, &impl_of<py_broadcast_writer>::max_message>,
                               "The largest message this channel carries, in bytes.")
        .def_property_readonly("messages_written",
                               &ask<py_broadcast_writer, &impl_of<py_broadcast_writer>::messages_written>,
                               "Sequence numbers used by this writer and writers before it: messages published, plus those "
                               "skip() counted as lost.");

    py::class_<py_broadcast_reader, handle_base>(m, "BroadcastReader", R"doc(
A reader of a broadcast channel (any number, no registration).

read() waits for the next message; try_read() returns None when there is none. If the writer
laps this reader, the read returns the oldest message still kept, and `lost` then says how many
messages were overwritten just before it (0 after an ordinary read); `total_lost` and
`overruns` keep count since attach. Lapping is never an exception.
)doc")
        .def_static(
            "open",
            [](const segment_name& name, bool from_oldest, bool from_newest, bool read_only, double ready_timeout) {
                const auto o =
                    reader_options<broadcast_reader_options>(from_oldest, from_newest, read_only, ready_timeout);
                return open_handle<py_broadcast_reader>(name, "open",
                                                        [&] { return broadcast_reader::open(name.c_str(), o); }, ready_timeout);
            },
            py::arg("name"), py::kw_only(), py::arg("from_oldest") = false, py::arg("from_newest") = false,
            py::arg("read_only") = false, py::arg("ready_timeout") = 0.5,
            "Attaches to a channel. from_oldest / from_newest: start at the oldest message kept / the newest "
            "present, not the next new one (not both: InvalidArgument). "
            "read_only: map read-only (try_read and poll work; a blocking read that would have to sleep raises "
            "AccessDenied, one with timeout 0 raises Timeout).")
        .def(
            "read", [](py_broadcast_reader& r, timeout_arg timeout) { return r.read(true, timeout, "read"); },
            py::arg("timeout") = py::none(),
            "The next message as bytes, waiting up to `timeout` seconds (None: forever). Raises Timeout when "
            "it expires (0 included).")
        .def(
            "try_read", [](py_broadcast_reader& r) { return r.read(false, 0.0, "try_read"); },
            "The next message as bytes, or None if there is none yet. Never waits.")
        .def(
            "read_into",
            [](py_broadcast_reader& r, const py::handle& buffer, timeout_arg timeout) {
                return r.read_into(buffer, true, timeout, "read_into");
            },
            py::arg("buffer"), py::arg("timeout") = py::none(),
            "Copies the next message into a writable buffer, waiting up to `timeout` seconds; returns its size. "
            "Raises Timeout; MessageTooLarge if it does not fit (nothing consumed; see pending_size).")
        .def(
            "try_read_into",
            [](py_broadcast_reader& r, const py::handle& buffer) { return r.read_into(buffer, false, 0.0, "try_read_into"); },
            py::arg("buffer"),
            "Copies the next message into a writable buffer; returns its size, or None if there is none yet. "
            "Never waits.")
        .def("poll", &ask<py_broadcast_reader, &impl_of<py_broadcast_reader>::poll>,
             "True if a read would return a message at once (also after a lap).")
        .def(
            "wait",
            [](py_broadcast_reader& r, timeout_arg timeout) {
                const errc e = r.sliced(timeout, errc::timeout, [&](nanoseconds s) { return r.impl.wait(s); });
                if (e == errc::timeout) return false;
                check(e, r, "wait");
                return true;
            },
            py::arg("timeout") = py::none(), "Waits until poll() is true: True, or False on timeout.")
        .def_property_readonly("last_seq", [](py_broadcast_reader& r) { return r.last.seq; },
                               "The writer's sequence number of the last message read.")
        .def_property_readonly("next_seq", &ask<py_broadcast_reader, &impl_of<py_broadcast_reader>::next_seq>,
                               "The sequence number the next message will carry.")
        .def_property_readonly("lost", &ask<py_broadcast_reader, &impl_of<py_broadcast_reader>::lost>,
                               "Messages lost just before the message last read (the writer lapped this reader).")
        .def_property_readonly("total_lost",
                               &ask<py_broadcast_reader, &impl_of<py_broadcast_reader>::total_lost>,
                               "Messages lost since attach.")
        .def_property_readonly("overruns", &ask<py_broadcast_reader, &impl_of<py_broadcast_reader>::overruns>,
                               "How many times the writer lapped this reader.")
        .def_property_readonly("pending_size",
                               &ask<py_broadcast_reader, &impl_of<py_broadcast_reader>::pending_size>,
                               "Size of the message a buffer was too small for (MessageTooLarge).")
        .def_property_readonly("max_message",
                               &ask<py_broadcast_reader, &impl_of<py_broadcast_reader>::max_message>,
                               "The largest message this channel carries, in bytes.")
        .def_property_readonly("writer_alive",
                               &ask<py_broadcast_reader, &impl_of<py_broadcast_reader>::writer_alive>,
                               "True while the writer's process lives.");

    // ---- spsc ----------------------------------------------------------------------------
    auto spsc_producer_class = py::class_<py_spsc_producer, handle_base>(m, "SpscProducer", R"doc(
The producing end of a single-producer/single-consumer queue. Nothing is ever dropped: a full
queue makes push() wait (or try_push() return False).
)doc")
        .def_static("create", &create_queue<py_spsc_producer, spsc_config, spsc_options>, py::arg("name"), py::kw_only(),
                    py::arg("capacity") = 1u << 20, py::arg("max_message") = 0, py::arg("replace_stale") = true,
                    py::arg("prefault") = false, py::arg("reserve_memory") = true, py::arg_v("mode", 0600, "0o600"),
                    py::arg("allow_membarrier") = true,
                    (std::string("Creates the queue as its producer. ") + seg_doc).c_str())
        .def_static("open", &open_queue<py_spsc_producer, spsc_options>, py::arg("name"), py::kw_only(), py::arg("ready_timeout") = 0.5,
                    "Becomes the producer of an existing queue (Busy while another producer lives).")
        .def(
            "push",
            [](py_spsc_producer& p, const py::handle& data, timeout_arg timeout) {
                bool refused = false;
                const errc e = send_waiting(
                    p, data, timeout, p.guarded(refused, [&](const void* d, std::size_t n) { return p.impl.try_push(d, n); }),
                    p.guarded(refused, [&](const void* d, std::size_t n, nanoseconds t) { return p.impl.push(d, n, t); }));
                p.check_refused(refused);  // a refusal, not the Busy it was returned as
                if (failed(e)) p.on_error(e, "push");
            },
            py::arg("data"), py::arg("timeout") = py::none(),
            "Queues one message, waiting up to `timeout` seconds for room (None: forever). Raises Timeout when it "
            "expires (0 included).")
        .def(
            "try_push",
            [](py_spsc_producer& p, const py::handle& data) {
                bool refused = false;
                const errc e =
                    send(p, data, p.guarded(refused, [&](const void* d, std::size_t n) { return p.impl.try_push(d, n); }));
                p.check_refused(refused);
                if (e == errc::full) return false;
                if (failed(e)) p.on_error(e, "try_push");
                return true;
            },
            py::arg("data"), "Queues one message if there is room: True, or False when the queue is full.")
        .def(
            "reserve",
            [](py::object self, std::size_t size, timeout_arg timeout) {
                return ring_reserve<py_spsc_producer>(std::move(self), size, true, timeout, "reserve");
            },
            py::arg("size"), py::arg("timeout") = py::none(),
            "Reserves `size` bytes to fill in place, waiting up to `timeout` seconds for room; returns a "
            "Reservation. Raises Timeout when it expires (0 included).")
        .def(
            "try_reserve",
            [](py::object self, std::size_t size) {
                return ring_reserve<py_spsc_producer>(std::move(self), size, false, 0.0, "try_reserve");
            },
            py::arg("size"), "Reserves `size` bytes to fill in place if there is room now: a Reservation, or None.")
        .def_property_readonly("consumer_alive",
                               &ask<py_spsc_producer, &impl_of<py_spsc_producer>::consumer_alive>,
                               "True while the consumer's process lives.")
        .def_property_readonly("max_message",
                               &ask<py_spsc_producer, &impl_of<py_spsc_producer>::max_message>,
                               "The largest message this channel carries, in bytes.");
    add_ring_occupancy(spsc_producer_class);

    auto spsc_consumer_class = py::class_<py_spsc_consumer, handle_base>(m, "SpscConsumer", R"doc(
The consuming end of a single-producer/single-consumer queue: messages in order, none lost.
)doc")
        .def_static("create", &create_queue<py_spsc_consumer, spsc_config, spsc_options>, py::arg("name"), py::kw_only(),
                    py::arg("capacity") = 1u << 20, py::arg("max_message") = 0, py::arg("replace_stale") = true,
                    py::arg("prefault") = false, py::arg("reserve_memory") = true, py::arg_v("mode", 0600, "0o600"),
                    py::arg("allow_membarrier") = true,
                    (std::string("Creates the queue as its consumer. ") + seg_doc).c_str())
        .def_static("open", &open_queue<py_spsc_consumer, spsc_options>, py::arg("name"), py::kw_only(), py::arg("ready_timeout") = 0.5,
                    "Becomes the consumer of an existing queue (Busy while another consumer lives).")
        .def(
            "pop", [](py_spsc_consumer& c, timeout_arg timeout) { return c.pop(true, timeout, "pop"); },
            py::arg("timeout") = py::none(),
            "The next message as bytes, waiting up to `timeout` seconds. Raises Timeout when it expires (0 included).")
        .def(
            "try_pop", [](py_spsc_consumer& c) { return c.pop(false, 0.0, "try_pop"); },
            "The next message as bytes, or None if the queue is empty. Never waits.")
        .def(
            "pop_into",
            [](py_spsc_consumer& c, const py::handle& buffer, timeout_arg timeout) {
                return c.pop_into(buffer, true, timeout, "pop_into");
            },
            py::arg("buffer"), py::arg("timeout") = py::none(),
            "Copies the next message into a writable buffer, waiting up to `timeout` seconds; returns its size. "
            "Raises Timeout.")
        .def(
            "try_pop_into",
            [](py_spsc_consumer& c, const py::handle& buffer) { return c.pop_into(buffer, false, 0.0, "try_pop_into"); },
            py::arg("buffer"),
            "Copies the next message into a writable buffer; returns its size, or None if the queue is empty.")
        .def(
            "peek",
            [](py::object self, timeout_arg timeout) { return self.cast<py_spsc_consumer&>().peek(self, true, timeout, "peek"); },
            py::arg("timeout") = py::none(),
            "Zero-copy: the next message as a read-only uint8 array over the queue, without consuming it, "
            "waiting up to `timeout` seconds (Timeout when it expires, 0 included). It stays valid until "
            "release(); after that the producer may reuse the memory.")
        .def(
            "try_peek",
            [](py::object self) { return self.cast<py_spsc_consumer&>().peek(self, false, 0.0, "try_peek"); },
            "As peek(), without waiting: None if the queue is empty.")
        .def(
            "release",
            [](py_spsc_consumer& c) {
                const bool released = c.quick([&] {
                    if (!c.peeked) return false;
                    c.impl.release();
                    c.peeked = false;
                    return true;
                });
                if (!released) throw std::runtime_error("release() without a peeked message");
            },
            "Consumes the message peek() returned.")
        .def("poll", &ask<py_spsc_consumer, &impl_of<py_spsc_consumer>::poll>,
             "True if a message is waiting.")
        .def_property_readonly("last_seq", [](py_spsc_consumer& c) { return c.last.seq; },
                               "Sequence number of the last message read.")
        .def_property_readonly("pending_size",
                               &ask<py_spsc_consumer, &impl_of<py_spsc_consumer>::pending_size>,
                               "Size of the message a buffer was too small for (MessageTooLarge).")
        .def_property_readonly("producer_alive",
                               &ask<py_spsc_consumer, &impl_of<py_spsc_consumer>::producer_alive>,
                               "True while the producer's process lives.")
        .def_property_readonly("max_message",
                               &ask<py_spsc_consumer, &impl_of<py_spsc_consumer>::max_message>,
                               "The largest message this channel carries, in bytes.");
    add_ring_occupancy(spsc_consumer_class);

    // ---- command -------------------------------------------------------------------------
    py::class_<py_command_writer, handle_base>(m, "CommandWriter", R"doc(
One of many writers of a command channel (control paths: UI -> capture process). Commands from
all writers arrive at the single reader in claim order.
)doc")
        .def_static("open", &open_queue<py_command_writer, command_options>, py::arg("name"), py::kw_only(), py::arg("ready_timeout") = 0.5,
            "Attaches as a writer to the channel the reader created.")
        .def(
            "write",
            [](py_command_writer& w, const py::handle& data, timeout_arg timeout) {
                check(send_waiting(
                          w, data, timeout, [&](const void* d, std::size_t n) { return w.impl.try_write(d, n); },
                          [&](const void* d, std::size_t n, nanoseconds t) { return w.impl.write(d, n, t); }),
                      w, "write");
            },
            py::arg("data"), py::arg("timeout") = py::none(),
            "Sends one command, waiting up to `timeout` seconds for room (None: forever). Raises Timeout when it "
            "expires (0 included).")
        .def(
            "try_write",
            [](py_command_writer& w, const py::handle& data) {
                const errc e = send(w, data, [&](const void* d, std::size_t n) { return w.impl.try_write(d, n); });
                if (e == errc::full || e == errc::lock_timeout) return false;
                check(e, w, "try_write");
                return true;
            },
            py::arg("data"), "Sends one command if there is room now: True, or False.")
        .def(
            "reserve",
            [](py::object self, std::size_t size, timeout_arg timeout) {
                return command_reserve(std::move(self), size, true, timeout, "reserve");
            },
            py::arg("size"), py::arg("timeout") = py::none(),
            "Claims `size` bytes to fill in place, waiting up to `timeout` seconds for room; returns a Reservation. "
            "Raises Timeout when it expires (0 included). An abandoned claim is skipped by the reader.")
        .def(
            "try_reserve",
            [](py::object self, std::size_t size) {
                return command_reserve(std::move(self), size, false, 0.0, "try_reserve");
            },
            py::arg("size"), "Claims `size` bytes to fill in place if there is room now: a Reservation, or None.")
        .def_property_readonly("reader_alive",
                               &ask<py_command_writer, &impl_of<py_command_writer>::reader_alive>,
                               "True while the reader's process lives.")
        .def_property_readonly("max_message",
                               &ask<py_command_writer, &impl_of<py_command_writer>::max_message>,
                               "The largest message this channel carries, in bytes.");

    py::class_<py_command_reader, handle_base>(m, "CommandReader", R"doc(
The single reader of a command channel; it creates the channel. A writer that dies between
claiming and committing is skipped after one liveness period (counted in `abandoned`).
)doc")
        .def_static("create", &create_queue<py_command_reader, command_config, command_options>, py::arg("name"), py::kw_only(), py::arg("capacity") = 64u << 10, py::arg("max_message") = 0,
            py::arg("replace_stale") = true, py::arg("prefault") = false, py::arg("reserve_memory") = true,
            py::arg_v("mode", 0600, "0o600"), py::arg("allow_membarrier") = true,
            (std::string("Creates the channel as its reader. ") + seg_doc).c_str())
        .def_static("open", &open_queue<py_command_reader, command_options>, py::arg("name"), py::kw_only(), py::arg("ready_timeout") = 0.5,
            "Becomes the reader of an existing channel (Busy while another reader lives).")
        .def(
            "read", [](py_command_reader& r, timeout_arg timeout) { return r.read(true, timeout, "read"); },
            py::arg("timeout") = py::none(),
            "The next command as bytes, waiting up to `timeout` seconds. Raises Timeout when it expires (0 included).")
        .def(
            "try_read", [](py_command_reader& r) { return r.read(false, 0.0, "try_read"); },
            "The next command as bytes, or None if none is committed yet. Never waits.")
        .def(
            "read_into",
            [](py_command_reader& r, const py::handle& buffer, timeout_arg timeout) {
                return r.read_into(buffer, true, timeout, "read_into");
            },
            py::arg("buffer"), py::arg("timeout") = py::none(),
            "Copies the next command into a writable buffer, waiting up to `timeout` seconds; returns its size. "
            "Raises Timeout.")
        .def(
            "try_read_into",
            [](py_command_reader& r, const py::handle& buffer) { return r.read_into(buffer, false, 0.0, "try_read_into"); },
            py::arg("buffer"),
            "Copies the next command into a writable buffer; returns its size, or None if none is committed yet.")
        .def("poll", &ask<py_command_reader, &impl_of<py_command_reader>::poll>,
             "True if a committed command (or an abandoned claim to skip) is at the front.")
        .def_property_readonly("last_seq", [](py_command_reader& r) { return r.last.seq; },
                               "How many commands were delivered before the last one read.")
        .def_property_readonly("abandoned", &ask<py_command_reader, &impl_of<py_command_reader>::abandoned>,
                               "Claims skipped because their writer died.")
        .def_property_readonly("pending_size",
                               &ask<py_command_reader, &impl_of<py_command_reader>::pending_size>,
                               "Size of the message a buffer was too small for (MessageTooLarge).")
        .def_property_readonly("max_message",
                               &ask<py_command_reader, &impl_of<py_command_reader>::max_message>,
                               "The largest message this channel carries, in bytes.");

    // ---- channel -------------------------------------------------------------------------
    constexpr const char* channel_create_doc =
        "capacity: ring bytes for frames; max_frame: the largest frame (0: as large as the ring allows, "
        "its capacity less 16); metadata_size: bytes of the metadata block; liveness_period: seconds within "
        "which a blocking call notices the other end's death. ";
    auto channel_writer_class = py::class_<py_channel_writer, handle_base>(m, "ChannelWriter", R"doc(
The writing end of a zero-copy frame channel (one writer, one reader). Frames up to nearly the
whole ring, contiguous; space comes back only when the reader releases a frame, so a reader that
holds frames back-pressures the writer. A blocking call raises ReaderDead (a PeerDead) when the
reader dies.
)doc")
        .def_static("create", &create_channel<py_channel_writer>, py::arg("name"), py::kw_only(),
                    py::arg("capacity") = 1u << 20, py::arg("max_frame") = 0, py::arg("metadata_size") = 0,
                    py::arg("liveness_period") = 0.1, py::arg("replace_stale") = true, py::arg("prefault") = false,
                    py::arg("reserve_memory") = true, py::arg_v("mode", 0600, "0o600"), py::arg("allow_membarrier") = true,
                    (std::string("Creates the channel as its writer. ") + channel_create_doc + seg_doc).c_str())
        .def_static("open", &open_channel<py_channel_writer>, py::arg("name"), py::kw_only(),
                    py::arg("ready_timeout") = 0.5, py::arg("liveness_period") = 0.1,
                    "Becomes the writer of an existing channel (Busy while another writer lives).")
        .def(
            "write",
            [](py_channel_writer& w, const py::handle& data, timeout_arg timeout) {
                bool refused = false;
                const errc e = send_waiting(
                    w, data, timeout, w.guarded(refused, [&](const void* d, std::size_t n) { return w.impl.try_write(d, n); }),
                    w.guarded(refused, [&](const void* d, std::size_t n, nanoseconds t) { return w.impl.write(d, n, t); }));
                w.check_refused(refused);
                if (failed(e)) w.on_error(e, "write");
            },
            py::arg("data"), py::arg("timeout") = py::none(),
            "Sends one frame (a copy), waiting up to `timeout` seconds for room (None: forever). Raises Timeout when "
            "it expires (0 included), ReaderDead when the reader died holding the room.")
        .def(
            "try_write",
            [](py_channel_writer& w, const py::handle& data) {
                bool refused = false;
                const errc e =
                    send(w, data, w.guarded(refused, [&](const void* d, std::size_t n) { return w.impl.try_write(d, n); }));
                w.check_refused(refused);
                if (e == errc::full) return false;
                if (failed(e)) w.on_error(e, "try_write");
                return true;
            },
            py::arg("data"), "Sends one frame if there is room: True, or False when the channel is full.")
        .def(
            "reserve",
            [](py::object self, std::size_t size, timeout_arg timeout) {
                return ring_reserve<py_channel_writer>(std::move(self), size, true, timeout, "reserve");
            },
            py::arg("size"), py::arg("timeout") = py::none(),
            "Zero-copy: reserves a contiguous frame of `size` bytes to fill in place, waiting up to `timeout` "
            "seconds for room; returns a Reservation whose commit() sends it.")
        .def(
            "try_reserve",
            [](py::object self, std::size_t size) {
                return ring_reserve<py_channel_writer>(std::move(self), size, false, 0.0, "try_reserve");
            },
            py::arg("size"), "As reserve(), without waiting: a Reservation, or None when there is no room now.")
        .def(
            "set_metadata",
            [](py_channel_writer& w, const py::handle& data) {
                input_bytes in(data);
                const errc e = w.quick([&] { return w.impl.set_metadata(in.data(), in.size()); });
                if (failed(e)) w.on_error(e, "set_metadata");
            },
            py::arg("data"),
            "Fills the metadata block, once per channel. Raises AlreadySet when it was set before, MessageTooLarge "
            "beyond metadata_capacity.")
        .def_property_readonly("reader_connected",
                               &ask<py_channel_writer, &impl_of<py_channel_writer>::reader_connected>,
                               "True while a live process holds the reader's end.")
        .def_property_readonly("max_frame", &ask<py_channel_writer, &impl_of<py_channel_writer>::max_frame>,
                               "The largest frame, in bytes.")
        .def_property_readonly("metadata_capacity",
                               &ask<py_channel_writer, &impl_of<py_channel_writer>::metadata_capacity>,
                               "Bytes of the metadata block.");
    add_ring_occupancy(channel_writer_class);

    auto channel_reader_class = py::class_<py_channel_reader, handle_base>(m, "ChannelReader", R"doc(
The reading end of a zero-copy frame channel. read() returns a Frame over the channel's memory;
its release() gives the space back, after which the frame's data raises on access. A blocking
read raises WriterDead (a PeerDead) once every frame is read and the writer has died.
)doc")
        .def_static("create", &create_channel<py_channel_reader>, py::arg("name"), py::kw_only(),
                    py::arg("capacity") = 1u << 20, py::arg("max_frame") = 0, py::arg("metadata_size") = 0,
                    py::arg("liveness_period") = 0.1, py::arg("replace_stale") = true, py::arg("prefault") = false,
                    py::arg("reserve_memory") = true, py::arg_v("mode", 0600, "0o600"), py::arg("allow_membarrier") = true,
                    (std::string("Creates the channel as its reader. ") + channel_create_doc + seg_doc).c_str())
        .def_static("open", &open_channel<py_channel_reader>, py::arg("name"), py::kw_only(),
                    py::arg("ready_timeout") = 0.5, py::arg("liveness_period") = 0.1,
                    "Becomes the reader of an existing channel (Busy while another reader lives).")
        .def(
            "_read",
            [](py::object self, timeout_arg timeout) {
                return self.cast<py_channel_reader&>().read(self, true, timeout, "read");
            },
            py::arg("timeout") = py::none(), "(array, seq) of the next frame, waiting; read() wraps it in a Frame.")
        .def(
            "_try_read",
            [](py::object self) { return self.cast<py_channel_reader&>().read(self, false, 0.0, "try_read"); },
            "(array, seq) of the next frame, or None; try_read() wraps it in a Frame.")
        .def(
            "_release",
            [](py_channel_reader& r) {
                r.quick([&] {
                    if (!r.reading) return false;
                    r.impl.release();
                    r.reading = false;
                    return true;
                });
            },
            "Gives the frame read last back to the writer (Frame.release() calls it).")
        .def_property_readonly(
            "metadata",
            [](py::object self) -> py::object {
                auto& r = self.cast<py_channel_reader&>();
                result<message_view> v = r.quick([&] { return r.impl.metadata(); });
                if (!v && v.error() == errc::empty) return py::none();
                if (!v) r.on_error(v.error(), "metadata");
                return shared_bytes(pin(self), v->data, v->size, false);
            },
            "The metadata block as a read-only uint8 array in place, or None until the writer has set it.")
        .def("poll", &ask<py_channel_reader, &impl_of<py_channel_reader>::poll>, "True if a frame is waiting.")
        .def_property_readonly("writer_connected",
                               &ask<py_channel_reader, &impl_of<py_channel_reader>::writer_connected>,
                               "True while a live process holds the writer's end.")
        .def_property_readonly("max_frame", &ask<py_channel_reader, &impl_of<py_channel_reader>::max_frame>,
                               "The largest frame, in bytes.")
        .def_property_readonly("metadata_capacity",
                               &ask<py_channel_reader, &impl_of<py_channel_reader>::metadata_capacity>,
                               "Bytes of the metadata block.");
    add_ring_occupancy(channel_reader_class);
}

}  // namespace shmkit::python
