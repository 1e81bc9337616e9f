// shmkit.select(): wait on several readers at once, in the kernel, with the GIL released; and on
// plain Python callables, polled between those waits.
#include <algorithm>
#include <cmath>
#include <deque>
#include <optional>

#include "common.hpp"
#include "shmkit/select.hpp"

namespace shmkit::python {
namespace {

// How often select() polls its callables by default, in seconds: the longest a callable that
// became true waits to be noticed, and the number of wake-ups per second (1 / interval) a
// select with callables costs while nothing happens.
constexpr double default_poll_interval = 0.01;

// The readers of one select() call, waited on together through the C++ select().
class reader_set {
public:
    void add(handle_base* h, std::size_t position) {
        handles_.push_back(h);
        positions_.push_back(position);
    }
    bool empty() const noexcept { return handles_.empty(); }
    std::size_t size() const noexcept { return handles_.size(); }

    // Call once every reader is added.
    void prepare() {
        // Several handles are locked at once: always in address order, so two concurrent selects
        // over overlapping handles cannot deadlock. A handle listed twice is locked once.
        order_ = handles_;
        std::sort(order_.begin(), order_.end());
        order_.erase(std::unique(order_.begin(), order_.end()), order_.end());
    }

    // Waits up to `slice` (0: a look that does not wait) for a reader to be ready: its position
    // in the sources, or nothing (the slice ended, or a signal came). Without readers, sleeps for
    // the slice. Raises Closed for a closed reader, TypeError for a handle that is no reader.
    std::optional<std::size_t> wait(nanoseconds slice) {
        if (handles_.empty()) {
            py::gil_scoped_release release;
            if (slice.count() > 0) os::sleep_ns(static_cast<std::uint64_t>(slice.count()));
            return std::nullopt;
        }
        wait_options options;
        options.return_on_signal = true;
        const std::size_t count = handles_.size();
        result<std::size_t> r = errc::invalid_argument;
        bool closed = false, unsupported = false;
        {
            std::deque<handle_base::active_call> calls;
            for (handle_base* h : order_) calls.emplace_back(h);
            py::gil_scoped_release release;
            for (handle_base* h : order_) h->mutex().lock();
            std::vector<select_source> s(count);
            for (std::size_t i = 0; i < count && !closed && !unsupported; ++i) {
                if (handles_[i]->closed()) {
                    closed = true;
                } else if (!handles_[i]->source(&s[i])) {
                    unsupported = true;
                }
            }
            if (!closed && !unsupported) r = shmkit::select(s.data(), count, slice, options);
            for (auto it = order_.rbegin(); it != order_.rend(); ++it) (*it)->mutex().unlock();
        }
        if (closed) raise(errc::not_open, "select");
        if (unsupported) {
            throw py::type_error("select() takes readers (broadcast, spsc consumer, command, stream, video, audio, KV) "
                                 "and callables");
        }
        if (r) return positions_[*r];
        if (r.error() != errc::timeout && r.error() != errc::interrupted) raise(r.error(), "select");
        return std::nullopt;
    }

    void ensure_open() const {
        for (handle_base* h : order_) h->ensure_open();
    }

private:
    std::vector<handle_base*> handles_;
    std::vector<std::size_t> positions_;  // each reader's position in the sources
    std::vector<handle_base*> order_;     // the readers to lock, in address order
};

bool is_true(const py::object& value) {
    const int truth = PyObject_IsTrue(value.ptr());
    if (truth < 0) throw py::error_already_set();
    return truth != 0;
}

py::object select_py(const py::sequence& sources, const timeout_arg& timeout, double poll_interval) {
    const std::size_t count = py::len(sources);
    if (count == 0) throw py::value_error("select() needs at least one source");
    if (!(poll_interval > 0) || std::isinf(poll_interval)) {
        throw py::value_error("poll_interval must be a number of seconds > 0");
    }
    std::vector<py::object> objects;
    std::vector<bool> callable;  // per source: a callable, polled; otherwise a reader, waited on
    reader_set readers;
    for (const py::handle s : sources) {
        handle_base* h = nullptr;
        try {
            h = s.cast<handle_base*>();
        } catch (const py::cast_error&) {
            if (!PyCallable_Check(s.ptr())) {
                throw py::type_error(std::string("select() takes shmkit readers and callables, not ") +
                                     Py_TYPE(s.ptr())->tp_name);
            }
        }
        if (h != nullptr) {
            h->ensure_open();
            readers.add(h, objects.size());
        }
        callable.push_back(h == nullptr);
        objects.push_back(py::reinterpret_borrow<py::object>(s));
    }
    if (readers.size() > max_select_sources) {
        throw py::value_error("select() waits on at most " + std::to_string(max_select_sources) + " readers");
    }
    readers.prepare();

    const std::uint64_t deadline = deadline_of(timeout);
    // With callables, the readers are waited on in slices that end when the next poll is due.
    const bool polling = readers.size() < count;
    const auto poll_ns = static_cast<std::uint64_t>(std::min(poll_interval, 1e9) * 1e9);
    std::uint64_t next_poll = 0;  // the first poll is due at once
    for (;;) {
        const std::optional<std::size_t> ready = readers.wait(slice_until(polling ? std::min(deadline, next_poll) : deadline));
        const std::uint64_t now = os::monotonic_ns();
        // One pass in list order, so an earlier source wins a tie: the callables before the ready
        // reader (or all of them, when a poll is due or this is the last look), then the reader.
        const bool poll_due = polling && (now >= next_poll || now >= deadline);
        if (ready || poll_due) {
            const std::size_t end = ready ? *ready : count;
            for (std::size_t i = 0; i < end; ++i) {
                if (callable[i] && is_true(objects[i]())) return objects[i];
            }
            if (ready) return objects[*ready];
            next_poll = os::monotonic_ns() + poll_ns;
        }
        if (now >= deadline) return py::none();
        check_signals();
        readers.ensure_open();
    }
}

}  // namespace

void bind_select(py::module_& m) {
    m.def("select", &select_py, py::arg("sources"), py::arg("timeout") = py::none(), py::kw_only(),
          py::arg("poll_interval") = default_poll_interval,
          R"doc(Waits until one of `sources` is ready and returns it, or None when `timeout` seconds
pass. A source is a reader (BroadcastReader, SpscConsumer, CommandReader, StreamReader,
VideoReader, AudioReader, KV), ready when it has something to read (a KV: when its changes()
would be non-empty), or a callable taking no arguments, ready when it returns something true
(a cheap, non-consuming check). Sources earlier in the list win ties. Readers are waited on in
the kernel: over readers only, nothing is polled and a ready reader wakes the select at once
(like every wait, it also wakes every 50 ms to run signal handlers). Callables are
polled every `poll_interval` seconds (default 0.01) between waits on the readers: a callable
that becomes true is noticed within about poll_interval, at the cost of 1 / poll_interval
wake-ups per second while idle; readers still wake the select at once. An exception a callable
raises propagates.)doc");
}

}  // namespace shmkit::python
