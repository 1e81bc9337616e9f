// The slot-ring kinds in Python (stream, video, audio): what their bindings share, as templates
// over a kind's traits (how its samples look as NumPy arrays). Private to the binding: each kind
// binds itself in its own file (stream.cpp, video.cpp, audio.cpp).
#pragma once

#include <pybind11/stl.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "messages.hpp"
#include "reservation.hpp"
#include "shmkit/slot_ring.hpp"

namespace shmkit::python {

// How a sample of `size` bytes looks as an array: dtype, shape and strides over its bytes.
// `raw` samples (bytes streams) are returned as Python bytes when copied out.
struct sample_layout {
    py::dtype dtype = py::dtype::of<std::uint8_t>();
    std::vector<py::ssize_t> shape;
    std::vector<py::ssize_t> strides;
    bool raw = false;
};

inline sample_layout flat_layout(std::uint64_t size, bool raw) {
    sample_layout l;
    l.shape = {static_cast<py::ssize_t>(size)};
    l.strides = {1};
    l.raw = raw;
    return l;
}

inline bool same_dtype(const py::dtype& a, const py::dtype& b) {
    const int eq = PyObject_RichCompareBool(a.ptr(), b.ptr(), Py_EQ);
    if (eq < 0) throw py::error_already_set();
    return eq == 1;
}

// ---- handles -------------------------------------------------------------------------------

template <class K>
struct py_slot_writer final : reserving_writer {
    typename K::writer impl;
    py::object schema;  // stream: its shmkit.Schema (with the message class if one was given), or None
    void close_impl() noexcept override { impl.close(); }
    errc unlink_impl() noexcept override { return impl.unlink(); }
    sample_layout layout(std::uint64_t size) const { return K::layout(impl.description(), size); }
};

template <class K>
struct py_slot_reader final : handle_base {
    typename K::reader impl;
    sample_info last{};
    py::object schema;  // stream: as the writer's
    void close_impl() noexcept override { impl.close(); }
    errc unlink_impl() noexcept override { return impl.unlink(); }
    bool source(select_source* out) noexcept override {
        *out = impl.waitable();
        return true;
    }
    sample_layout layout(std::uint64_t size) const { return K::layout(impl.description(), size); }
    [[noreturn]] void on_error(errc e, const char* op) { raise(e, what(*this, op)); }
};

struct sample_info_py {
    std::uint64_t index, size, timestamp_ns;
    std::int64_t pts, audio_pts;
    std::uint64_t lost;
};
inline sample_info_py to_py(const sample_info& i) {
    return {i.index, i.size, i.timestamp_ns, static_cast<std::int64_t>(i.meta[0]), static_cast<std::int64_t>(i.meta[1]),
            i.lost};
}

// A zero-copy sample: `array` reads the slot in place; `valid` says whether the writer has
// overwritten it since (check after using the data).
struct sample_view_py {
    sample_view view;
    py::array array;
    bool valid() const noexcept { return view.valid(); }
};

// A zero-copy read: `view()` (under the mutex) returns result<sample_view>; None when empty.
template <class K, class View>
py::object view_sample(const py::object& self, View&& view, const char* op) {
    auto& r = self.cast<py_slot_reader<K>&>();
    const py::object guard = pin(self);  // before the pointer exists
    auto v = r.quick(view);
    if (!v && v.error() == errc::empty) return py::none();
    if (!v) r.on_error(v.error(), op);
    r.last = v->info;
    const sample_layout l = r.layout(v->info.size);
    return py::cast(sample_view_py{*v, shared_array(guard, v->data, l.dtype, l.shape, l.strides, false)});
}

// ---- reading -------------------------------------------------------------------------------

// One copy-out read: `try_(buffer, capacity)` returns result<sample_info> (empty when there is
// nothing), `wait_(buffer, capacity, slice)` waits up to a slice. Copies into `out` when given
// (returned as is), else into a new array shaped like the sample (bytes for a bytes stream).
// `blocking` (next, wait_latest): waits up to `timeout`, Timeout when it expires (0 included);
// otherwise (latest, try_next) None when there is nothing.
template <class K, class Try, class Wait>
py::object copy_sample(py_slot_reader<K>& r, const py::object& out, bool blocking, const timeout_arg& timeout,
                       const char* op, Try&& try_, Wait&& wait_) {
    validate_timeout(timeout);
    const std::uint64_t capacity = r.impl.slot_capacity();
    const std::uint64_t deadline = deadline_of(timeout);
    std::unique_ptr<output_buffer> target;
    py::array owned;
    std::uint8_t* dst = nullptr;
    std::size_t room = 0;
    if (!out.is_none()) {
        target = std::make_unique<output_buffer>(out);
        dst = static_cast<std::uint8_t*>(target->data());
        room = target->size();
    } else {
        owned = py::array(py::dtype::of<std::uint8_t>(), std::vector<py::ssize_t>{static_cast<py::ssize_t>(capacity)});
        dst = static_cast<std::uint8_t*>(owned.mutable_data());
        room = capacity;
    }
    result<sample_info> got = errc::empty;
    for (int stale_retries = 0;; ++stale_retries) {
        got = r.copying(capacity, [&] { return try_(dst, room); });
        if (!got && got.error() == errc::empty && blocking) {
            got = r.wait_rest(timeout, [&](nanoseconds slice) { return wait_(dst, room, slice); });
        }
        // A copy the writer kept overwriting: a few more tries before reporting it.
        if (!got && got.error() == errc::stale && stale_retries < 3 && os::monotonic_ns() < deadline) continue;
        break;
    }
    if (!got && got.error() == errc::empty) return py::none();
    if (!got) r.on_error(got.error(), op);
    r.last = *got;
    if (target) return out;
    const sample_layout l = r.layout(got->size);
    if (l.raw) return bytes_from(dst, got->size);
    return py::array(l.dtype, l.shape, l.strides, dst, owned);
}

template <class K>
void def_reader(py::class_<py_slot_reader<K>, handle_base>& c) {
    using H = py_slot_reader<K>;
    const std::string noun = K::noun;
    c.def(
         "latest",
         [](H& r, const py::object& out) {
             return copy_sample(
                 r, out, false, 0.0, "latest", [&](void* b, std::size_t n) { return r.impl.latest(b, n); },
                 [&](void* b, std::size_t n, nanoseconds) { return r.impl.latest(b, n); });
         },
         py::kw_only(), py::arg("out") = py::none(),
         ("A copy of the newest " + noun + " (never torn), or None if nothing was written yet. "
          "out: a writable buffer to copy into instead of a new array (returned).")
             .c_str())
        .def(
            "wait_latest",
            [](H& r, timeout_arg timeout, const py::object& out) {
                return copy_sample(
                    r, out, true, timeout, "wait_latest",
                    [&](void* b, std::size_t n) -> result<sample_info> {
                        if (!r.impl.fresh()) return errc::empty;
                        return r.impl.latest(b, n);
                    },
                    [&](void* b, std::size_t n, nanoseconds t) { return r.impl.wait_latest(b, n, t); });
            },
            py::arg("timeout") = py::none(), py::kw_only(), py::arg("out") = py::none(),
            ("Waits up to `timeout` seconds for a " + noun + " newer than the last one latest()/wait_latest() "
             "returned and copies it. Raises Timeout when it expires (0 included).")
                .c_str())
        .def(
            "next",
            [](H& r, timeout_arg timeout, const py::object& out) {
                return copy_sample(
                    r, out, true, timeout, "next", [&](void* b, std::size_t n) { return r.impl.try_next(b, n); },
                    [&](void* b, std::size_t n, nanoseconds t) { return r.impl.next(b, n, t); });
            },
            py::arg("timeout") = py::none(), py::kw_only(), py::arg("out") = py::none(),
            ("The next " + noun + " in order, waiting up to `timeout` seconds. Raises Timeout when it expires (0 "
             "included). If the writer "
             "overwrote some before they were read, this is the oldest still kept and `lost` says how many.")
                .c_str())
        .def(
            "try_next",
            [](H& r, const py::object& out) {
                return copy_sample(
                    r, out, false, 0.0, "try_next", [&](void* b, std::size_t n) { return r.impl.try_next(b, n); },
                    [&](void* b, std::size_t n, nanoseconds) { return r.impl.try_next(b, n); });
            },
            py::kw_only(), py::arg("out") = py::none(),
            ("The next " + noun + " in order (after a lap, the oldest still kept; see `lost`), or None.").c_str())
        .def(
            "view_latest",
            [](py::object self) {
                auto& r = self.cast<H&>();
                return view_sample<K>(self, [&] { return r.impl.view_latest(); }, "view_latest");
            },
            ("Zero-copy: the newest " + noun + " in place as a SampleView, or None. Check its `valid` after "
             "using the data: the writer may overwrite the slot.")
                .c_str())
        .def(
            "view_next",
            [](py::object self) {
                auto& r = self.cast<H&>();
                return view_sample<K>(self, [&] { return r.impl.view_next(); }, "view_next");
            },
            ("Zero-copy: the next " + noun + " in order as a SampleView (after a lap, the oldest still kept; "
             "see `lost`), or None.")
                .c_str())
        .def("poll", &ask<H, &impl_of<H>::poll>,
             "True if next() would return at once.")
        .def("fresh", &ask<H, &impl_of<H>::fresh>,
             "True if a sample newer than the last one latest()/wait_latest() returned exists.")
        .def_property_readonly("last", [](H& r) { return to_py(r.last); }, "SampleInfo of the last sample returned.")
        .def_property_readonly("lost", &ask<H, &impl_of<H>::lost>,
                               ("Samples lost just before the " + noun + " an in-order read (next, try_next, view_next) "
                                "last returned (the writer lapped this reader).")
                                   .c_str())
        .def_property_readonly("total_lost", &ask<H, &impl_of<H>::total_lost>,
                               "Samples lost since attach.")
        .def_property_readonly("overruns", &ask<H, &impl_of<H>::overruns>,
                               "How many times the writer lapped this reader.")
        .def_property_readonly("slots", &ask<H, &impl_of<H>::slots>,
                               "Ring slots (the newest slots - 1 samples stay readable).")
        .def_property_readonly("slot_capacity", &ask<H, &impl_of<H>::slot_capacity>,
                               "Bytes one slot holds.")
        .def_property_readonly("next_index", &ask<H, &impl_of<H>::next_index>,
                               "Index of the sample next() returns next.")
        .def_property_readonly("writer_alive", &ask<H, &impl_of<H>::writer_alive>,
                               "True while the writer's process lives.")
        .def_property_readonly(
            "heartbeat_age", [](H& r) { return r.quick([&] { return r.impl.heartbeat_age_ns(); }) / 1e9; },
            "Seconds since the writer's last commit or heartbeat().");
}

// Reserves the next slot through `reserve()` (returns result<reservation>) and
// wraps it in a Reservation whose array has the sample's shape.
template <class K, class Reserve>
py::object reserve_sample(const py::object& self, Reserve reserve, const char* op) {
    auto& w = self.cast<py_slot_writer<K>&>();
    const py::object guard = pin(self);  // before the pointer exists
    bool refused = false;
    auto r = w.quick(w.reserve_guarded(refused, reserve));
    w.check_refused(refused);
    if (!r) raise(r.error(), what(w, op));
    const std::size_t capacity = r->size();
    const sample_layout l = w.layout(capacity);
    py::array a = shared_array(guard, r->data(), l.dtype, l.shape, l.strides, true);
    return make_reservation(self, w, &w.reserving, std::move(r).value(), std::move(a), capacity,
                            K::partial_commit(w.impl.description()));
}

// Writes one sample from any buffer. A NumPy array must have the kind's dtype (no silent
// conversion); sizes are checked by the kind.
template <class K, class Write>
void write_sample(py_slot_writer<K>& w, const py::handle& data, const char* op, Write&& write) {
    const sample_layout l = w.layout(w.impl.slot_capacity());
    if (py::isinstance<py::array>(data) && !l.raw) {
        const auto a = py::reinterpret_borrow<py::array>(data);
        if (!same_dtype(a.dtype(), l.dtype) && !(a.dtype().kind() == 'u' && a.dtype().itemsize() == 1)) {
            throw py::type_error(what(w, op) + ": expected an array of " + py::str(static_cast<const py::handle&>(l.dtype)).cast<std::string>() +
                                 " (or raw uint8 bytes), got " + py::str(static_cast<py::handle>(a.dtype())).cast<std::string>());
        }
    }
    bool refused = false;
    const errc e = send(w, data, w.guarded(refused, write));
    w.check_refused(refused);
    check(e, w, op);
}

template <class K>
void def_writer(py::class_<py_slot_writer<K>, handle_base>& c) {
    using H = py_slot_writer<K>;
    c.def("heartbeat", [](H& w) { w.quick([&] { w.impl.heartbeat(); return 0; }); },
          "Tells readers the writer is alive while it has nothing to publish (heartbeat_age).")
        .def_property_readonly("slots", &ask<H, &impl_of<H>::slots>,
                               "Ring slots (the newest slots - 1 samples stay readable).")
        .def_property_readonly("slot_capacity", &ask<H, &impl_of<H>::slot_capacity>,
                               "Bytes one slot holds.")
        .def_property_readonly("samples_written", &ask<H, &impl_of<H>::samples_written>,
                               "Samples published so far.");
}

// The format named `s` (any case) among `all`, by the core's to_string() names; ValueError
// listing `names` otherwise.
template <class Format, std::size_t N>
Format format_from(const std::string& s, const Format (&all)[N], const char* what_kind, const char* names) {
    std::string upper;
    for (char ch : s) upper += static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
    for (Format f : all) {
        if (upper == to_string(f)) return f;
    }
    throw py::value_error("unknown " + std::string(what_kind) + " '" + s + "' (" + names + ")");
}

// Each kind's part of bind_slots().
void bind_stream(py::module_& m);
void bind_video(py::module_& m);
void bind_audio(py::module_& m);

}  // namespace shmkit::python
