// shmkit.select(): wait on several readers at once, in the kernel, with the GIL released.
#include <algorithm>
#include <deque>

#include "common.hpp"
#include "shmkit/select.hpp"

namespace shmkit::python {
namespace {

py::object select_py(const py::sequence& sources, const timeout_arg& timeout) {
    const std::size_t count = py::len(sources);
    if (count == 0) throw py::value_error("select() needs at least one source");
    if (count > max_select_sources) {
        throw py::value_error("select() waits on at most " + std::to_string(max_select_sources) + " sources");
    }
    std::vector<py::object> objects;
    std::vector<handle_base*> handles;
    for (const py::handle s : sources) {
        handle_base* h = nullptr;
        try {
            h = s.cast<handle_base*>();
        } catch (const py::cast_error&) {
            throw py::type_error(std::string("select() takes shmkit readers, not ") + Py_TYPE(s.ptr())->tp_name);
        }
        h->ensure_open();
        objects.push_back(py::reinterpret_borrow<py::object>(s));
        handles.push_back(h);
    }
    // Several handles are locked at once: always in address order, so two concurrent selects
    // over overlapping handles cannot deadlock. A handle listed twice is locked once.
    std::vector<handle_base*> order = handles;
    std::sort(order.begin(), order.end());
    order.erase(std::unique(order.begin(), order.end()), order.end());

    const std::uint64_t deadline = deadline_of(timeout);
    wait_options options;
    options.return_on_signal = true;
    for (;;) {
        const nanoseconds slice = slice_until(deadline);
        result<std::size_t> r = errc::invalid_argument;
        bool closed = false, unsupported = false;
        {
            std::deque<handle_base::active_call> calls;
            for (handle_base* h : order) calls.emplace_back(h);
            py::gil_scoped_release release;
            for (handle_base* h : order) h->mutex().lock();
            std::vector<select_source> s(count);
            for (std::size_t i = 0; i < count && !closed && !unsupported; ++i) {
                if (handles[i]->closed()) {
                    closed = true;
                } else if (!handles[i]->source(&s[i])) {
                    unsupported = true;
                }
            }
            if (!closed && !unsupported) r = shmkit::select(s.data(), count, slice, options);
            for (auto it = order.rbegin(); it != order.rend(); ++it) (*it)->mutex().unlock();
        }
        if (closed) raise(errc::not_open, "select");
        if (unsupported) throw py::type_error("select() takes readers (broadcast, spsc consumer, command, stream, video, audio, KV)");
        if (r) return objects[*r];
        if (r.error() != errc::timeout && r.error() != errc::interrupted) raise(r.error(), "select");
        if (os::monotonic_ns() >= deadline) return py::none();
        check_signals();
        for (handle_base* h : order) h->ensure_open();
    }
}

}  // namespace

void bind_select(py::module_& m) {
    m.def("select", &select_py, py::arg("sources"), py::arg("timeout") = py::none(),
          R"doc(Waits until one of `sources` (readers: BroadcastReader, SpscConsumer, CommandReader,
StreamReader, VideoReader, AudioReader, KV) has something to read; returns that source, or None
when `timeout` seconds pass. Sources earlier in the list win ties. Sleeps in the kernel: no CPU
while idle. A KV is ready when its changes() would be non-empty.)doc");
}

}  // namespace shmkit::python
