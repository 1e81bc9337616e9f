// shmkit.StreamWriter/StreamReader, VideoWriter/VideoReader, AudioWriter/AudioReader and
// SampleView/SampleInfo: the slot-ring kinds, bound once as templates over a kind's traits
// (how its samples look as NumPy arrays, how it is created and opened).
#include <pybind11/stl.h>

#include <cstring>

#include "messages.hpp"
#include "reservation.hpp"
#include "shmkit/audio.hpp"
#include "shmkit/stream.hpp"
#include "shmkit/video.hpp"

namespace shmkit::python {
namespace {

// How a sample of `size` bytes looks as an array: dtype, shape and strides over its bytes.
// `raw` samples (bytes streams) are returned as Python bytes when copied out.
struct sample_layout {
    py::dtype dtype = py::dtype::of<std::uint8_t>();
    std::vector<py::ssize_t> shape;
    std::vector<py::ssize_t> strides;
    bool raw = false;
};

sample_layout flat_layout(std::uint64_t size, bool raw) {
    sample_layout l;
    l.shape = {static_cast<py::ssize_t>(size)};
    l.strides = {1};
    l.raw = raw;
    return l;
}

bool same_dtype(const py::dtype& a, const py::dtype& b) {
    const int eq = PyObject_RichCompareBool(a.ptr(), b.ptr(), Py_EQ);
    if (eq < 0) throw py::error_already_set();
    return eq == 1;
}

py::dtype numpy_dtype(dtype t) {
    switch (t) {
        case dtype::boolean: return py::dtype("?");
        case dtype::int8: return py::dtype::of<std::int8_t>();
        case dtype::int16: return py::dtype::of<std::int16_t>();
        case dtype::int32: return py::dtype::of<std::int32_t>();
        case dtype::int64: return py::dtype::of<std::int64_t>();
        case dtype::uint8: return py::dtype::of<std::uint8_t>();
        case dtype::uint16: return py::dtype::of<std::uint16_t>();
        case dtype::uint32: return py::dtype::of<std::uint32_t>();
        case dtype::uint64: return py::dtype::of<std::uint64_t>();
        case dtype::float16: return py::dtype("<f2");
        case dtype::float32: return py::dtype::of<float>();
        case dtype::float64: return py::dtype::of<double>();
        case dtype::complex64: return py::dtype("<c8");
        case dtype::complex128: return py::dtype("<c16");
        case dtype::bytes: break;
    }
    return py::dtype::of<std::uint8_t>();
}

// The shmkit dtype of a NumPy dtype (or name), or "bytes".
dtype dtype_from(const py::object& spec) {
    if (py::isinstance<py::str>(spec) && spec.cast<std::string>() == "bytes") return dtype::bytes;
    const py::dtype d = py::dtype::from_args(spec);
    static const dtype all[] = {dtype::boolean, dtype::int8,    dtype::int16,   dtype::int32,     dtype::int64,
                                dtype::uint8,   dtype::uint16,  dtype::uint32,  dtype::uint64,    dtype::float16,
                                dtype::float32, dtype::float64, dtype::complex64, dtype::complex128};
    for (dtype t : all) {
        if (same_dtype(numpy_dtype(t), d)) return t;
    }
    throw py::type_error("unsupported stream dtype " + py::str(spec).cast<std::string>() +
                         " (bool, [u]int8..64, float16/32/64, complex64/128, or 'bytes')");
}

// ---- kinds ---------------------------------------------------------------------------------

struct stream_traits {
    using writer = stream_writer;
    using reader = stream_reader;
    using meta = stream_meta;
    static constexpr const char* noun = "sample";
    static sample_layout layout(const meta& m, std::uint64_t size) {
        if (static_cast<dtype>(m.dtype) == dtype::bytes) return flat_layout(size, true);
        sample_layout l;
        l.dtype = numpy_dtype(static_cast<dtype>(m.dtype));
        for (std::uint32_t i = 0; i < m.ndim; ++i) l.shape.push_back(static_cast<py::ssize_t>(m.shape[i]));
        l.strides = contiguous_strides(l.shape, static_cast<py::ssize_t>(element_size(static_cast<dtype>(m.dtype))));
        return l;
    }
    // Samples of a fixed size are committed whole; bytes streams carry variable-size messages.
    static bool partial_commit(const meta& m) { return static_cast<dtype>(m.dtype) == dtype::bytes; }
};

struct video_traits {
    using writer = video_writer;
    using reader = video_reader;
    using meta = video_meta;
    static constexpr const char* noun = "frame";
    static sample_layout layout(const meta& m, std::uint64_t size) {
        const auto f = static_cast<pixel_format>(m.pixel_format);
        const auto h = static_cast<py::ssize_t>(m.height), w = static_cast<py::ssize_t>(m.width);
        const auto stride = static_cast<py::ssize_t>(m.stride);
        if (size != m.frame_bytes) return flat_layout(size, false);
        sample_layout l;
        if (plane_count(f) == 1) {
            const auto bpp = static_cast<py::ssize_t>(bytes_per_pixel(f));
            if (bpp == 1) {
                l.shape = {h, w};  // gray8: (height, width), as OpenCV expects
                l.strides = {stride, 1};
            } else {
                l.shape = {h, w, bpp};  // (height, width, channels); yuyv/uyvy: 2 bytes per pixel
                l.strides = {stride, bpp, 1};
            }
            return l;
        }
        // Planar 4:2:0 as the (height * 3/2, width) image OpenCV's cvtColor takes, when the rows
        // of every plane line up; otherwise flat (VideoReader.planes() splits either).
        const bool rows_line_up = f == pixel_format::nv12 || stride == w;
        if (rows_line_up) {
            l.shape = {h * 3 / 2, w};
            l.strides = {stride, 1};
            return l;
        }
        return flat_layout(size, false);
    }
    static bool partial_commit(const meta&) { return false; }
};

struct audio_traits {
    using writer = audio_writer;
    using reader = audio_reader;
    using meta = audio_meta;
    static constexpr const char* noun = "buffer";
    static sample_layout layout(const meta& m, std::uint64_t size) {
        const auto f = static_cast<sample_format>(m.sample_format);
        const auto channels = static_cast<py::ssize_t>(m.channels);
        const auto frames = static_cast<py::ssize_t>(size / (m.bytes_per_frame == 0 ? 1 : m.bytes_per_frame));
        sample_layout l;
        switch (f) {
            case sample_format::u8: l.dtype = py::dtype::of<std::uint8_t>(); break;
            case sample_format::s16le: l.dtype = py::dtype("<i2"); break;
            case sample_format::s32le: l.dtype = py::dtype("<i4"); break;
            case sample_format::f32le: l.dtype = py::dtype("<f4"); break;
            case sample_format::f64le: l.dtype = py::dtype("<f8"); break;
            case sample_format::s24le:  // no NumPy type: (frames, channels, 3) raw little-endian bytes
                l.shape = {frames, channels, 3};
                l.strides = contiguous_strides(l.shape, 1);
                return l;
        }
        l.shape = {frames, channels};
        l.strides = contiguous_strides(l.shape, static_cast<py::ssize_t>(bytes_per_sample(f)));
        return l;
    }
    // A reservation is a whole buffer; write() may publish fewer frames.
    static bool partial_commit(const meta&) { return false; }
};

// ---- handles -------------------------------------------------------------------------------

template <class K>
struct py_slot_writer final : reserving_writer {
    typename K::writer impl;
    void close_impl() noexcept override { impl.close(); }
    sample_layout layout(std::uint64_t size) const { return K::layout(impl.description(), size); }
};

template <class K>
struct py_slot_reader final : handle_base {
    typename K::reader impl;
    sample_info last{};
    void close_impl() noexcept override { impl.close(); }
    bool source(select_source* out) noexcept override {
        *out = impl.waitable();
        return true;
    }
    sample_layout layout(std::uint64_t size) const { return K::layout(impl.description(), size); }
    [[noreturn]] void on_error(errc e, const char* op) {
        if (e == errc::overrun) raise_overrun(impl.lost(), what(*this, op));
        raise(e, what(*this, op));
    }
};

struct sample_info_py {
    std::uint64_t index, size, timestamp_ns;
    std::int64_t pts, audio_pts;
};
sample_info_py to_py(const sample_info& i) {
    return {i.index, i.size, i.timestamp_ns, static_cast<std::int64_t>(i.meta[0]), static_cast<std::int64_t>(i.meta[1])};
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
// None when there is nothing and `timeout` is 0; Timeout when a wait expires.
template <class K, class Try, class Wait>
py::object copy_sample(py_slot_reader<K>& r, const py::object& out, const timeout_arg& timeout, const char* op,
                       Try&& try_, Wait&& wait_) {
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
    const bool waits = will_wait(timeout);
    result<sample_info> got = errc::empty;
    for (int stale_retries = 0;; ++stale_retries) {
        got = r.copying(capacity, [&] { return try_(dst, room); });
        if (!got && got.error() == errc::empty && waits) {
            got = r.sliced(timeout, errc::timeout, [&](nanoseconds slice) { return wait_(dst, room, slice); });
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
                 r, out, 0.0, "latest", [&](void* b, std::size_t n) { return r.impl.latest(b, n); },
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
                    r, out, timeout, "wait_latest",
                    [&](void* b, std::size_t n) -> result<sample_info> {
                        if (!r.impl.fresh()) return errc::empty;
                        return r.impl.latest(b, n);
                    },
                    [&](void* b, std::size_t n, nanoseconds t) { return r.impl.wait_latest(b, n, t); });
            },
            py::arg("timeout") = py::none(), py::kw_only(), py::arg("out") = py::none(),
            ("Waits up to `timeout` seconds for a " + noun + " newer than the last one latest()/wait_latest() "
             "returned and copies it. Raises Timeout.")
                .c_str())
        .def(
            "next",
            [](H& r, timeout_arg timeout, const py::object& out) {
                return copy_sample(
                    r, out, timeout, "next", [&](void* b, std::size_t n) { return r.impl.next(b, n); },
                    [&](void* b, std::size_t n, nanoseconds t) { return r.impl.wait_next(b, n, t); });
            },
            py::arg("timeout") = py::none(), py::kw_only(), py::arg("out") = py::none(),
            ("The next " + noun + " in order, waiting up to `timeout` seconds. Raises Timeout; Overrun when the "
             "writer overwrote some before they were read (the next call returns the oldest kept).")
                .c_str())
        .def(
            "try_next",
            [](H& r, const py::object& out) {
                return copy_sample(
                    r, out, 0.0, "try_next", [&](void* b, std::size_t n) { return r.impl.next(b, n); },
                    [&](void* b, std::size_t n, nanoseconds) { return r.impl.next(b, n); });
            },
            py::kw_only(), py::arg("out") = py::none(), ("The next " + noun + " in order, or None. Raises Overrun.").c_str())
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
            ("Zero-copy: the next " + noun + " in order as a SampleView, or None. Raises Overrun.").c_str())
        .def("poll", [](H& r) { return r.quick([&] { return r.impl.poll(); }); },
             "True if next() would return at once.")
        .def("fresh", [](H& r) { return r.quick([&] { return r.impl.fresh(); }); },
             "True if a sample newer than the last one latest()/wait_latest() returned exists.")
        .def_property_readonly("last", [](H& r) { return to_py(r.last); }, "SampleInfo of the last sample returned.")
        .def_property_readonly("lost", [](H& r) { return r.quick([&] { return r.impl.lost(); }); },
                               "Messages or samples lost in the last overrun.")
        .def_property_readonly("total_lost", [](H& r) { return r.quick([&] { return r.impl.total_lost(); }); },
                               "Messages or samples lost to overruns since attach.")
        .def_property_readonly("slots", [](H& r) { return r.quick([&] { return r.impl.slots(); }); },
                               "Ring slots (the newest slots - 1 samples stay readable).")
        .def_property_readonly("slot_capacity", [](H& r) { return r.quick([&] { return r.impl.slot_capacity(); }); },
                               "Bytes one slot holds.")
        .def_property_readonly("next_index", [](H& r) { return r.quick([&] { return r.impl.next_index(); }); },
                               "Index of the sample next() returns next.")
        .def_property_readonly("writer_alive", [](H& r) { return r.quick([&] { return r.impl.writer_alive(); }); },
                               "True while the writer's process lives.")
        .def_property_readonly(
            "heartbeat_age", [](H& r) { return r.quick([&] { return r.impl.heartbeat_age_ns(); }) / 1e9; },
            "Seconds since the writer's last commit or heartbeat().");
}

// Reserves the next slot through `reserve()` (returns result<slot_writer::reservation>) and
// wraps it in a Reservation whose array has the sample's shape.
template <class K, class Reserve>
py::object reserve_sample(const py::object& self, Reserve reserve, const char* op) {
    auto& w = self.cast<py_slot_writer<K>&>();
    const py::object guard = pin(self);  // before the pointer exists
    bool refused = false;
    auto r = w.quick(w.reserve_guarded(refused, reserve));
    w.check_refused(refused);
    if (!r) raise(r.error(), what(w, op));
    const std::size_t capacity = r->capacity();
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
        .def_property_readonly("slots", [](H& w) { return w.quick([&] { return w.impl.slots(); }); },
                               "Ring slots (the newest slots - 1 samples stay readable).")
        .def_property_readonly("slot_capacity", [](H& w) { return w.quick([&] { return w.impl.slot_capacity(); }); },
                               "Bytes one slot holds.")
        .def_property_readonly("samples_written", [](H& w) { return w.quick([&] { return w.impl.samples_written(); }); },
                               "Samples published so far.");
}

py::tuple shape_of(const stream_meta& m) {
    py::tuple t(m.ndim);
    for (std::uint32_t i = 0; i < m.ndim; ++i) t[i] = m.shape[i];
    return t;
}

py::object dtype_of(const stream_meta& m) {
    if (static_cast<dtype>(m.dtype) == dtype::bytes) return py::str("bytes");
    return numpy_dtype(static_cast<dtype>(m.dtype));
}

// A sample shape given as an int or a sequence of ints.
std::vector<std::uint64_t> stream_dims(const py::object& shape) {
    auto dims = py::isinstance<py::int_>(shape) ? std::vector<std::uint64_t>{shape.cast<std::uint64_t>()}
                                                : shape.cast<std::vector<std::uint64_t>>();
    if (dims.size() > max_stream_dims) throw py::value_error("a stream has at most 8 dimensions");
    return dims;
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

pixel_format pixel_format_from(const std::string& s) {
    static const pixel_format all[] = {pixel_format::gray8,   pixel_format::rgb24,   pixel_format::bgr24,
                                       pixel_format::rgba32,  pixel_format::bgra32,  pixel_format::yuyv422,
                                       pixel_format::uyvy422, pixel_format::nv12,    pixel_format::i420};
    return format_from(s, all, "pixel format", "gray8, rgb24, bgr24, rgba32, bgra32, yuyv422, uyvy422, nv12, i420");
}

sample_format sample_format_from(const std::string& s) {
    static const sample_format all[] = {sample_format::u8,    sample_format::s16le, sample_format::s24le,
                                        sample_format::s32le, sample_format::f32le, sample_format::f64le};
    return format_from(s, all, "sample format", "u8, s16le, s24le, s32le, f32le, f64le");
}

}  // namespace

void bind_slots(py::module_& m) {
    py::class_<sample_info_py>(m, "SampleInfo", "Metadata of one sample, frame or audio buffer.")
        .def_readonly("index", &sample_info_py::index, "The writer's sample number, from 0.")
        .def_readonly("size", &sample_info_py::size, "Bytes.")
        .def_readonly("timestamp_ns", &sample_info_py::timestamp_ns, "The writer's monotonic clock at commit.")
        .def_readonly("pts", &sample_info_py::pts, "Video pts of a frame, pts of an audio buffer (0 for streams).")
        .def_readonly("audio_pts", &sample_info_py::audio_pts, "Audio pts carried by a video frame.")
        .def("__repr__", [](const sample_info_py& i) {
            return "SampleInfo(index=" + std::to_string(i.index) + ", size=" + std::to_string(i.size) +
                   ", timestamp_ns=" + std::to_string(i.timestamp_ns) + ", pts=" + std::to_string(i.pts) +
                   ", audio_pts=" + std::to_string(i.audio_pts) + ")";
        });

    py::class_<sample_view_py> view_class(m, "SampleView", R"doc(
A sample read in place (zero-copy). `array` is a read-only NumPy array over the slot. The writer
may overwrite the slot at any time after `slots` more samples: use the data, then check `valid`;
False means what you read may be mixed with a newer sample and must be discarded.
)doc");
    view_class.def_property_readonly("array", [](const sample_view_py& v) { return v.array; },
                               "The NumPy array over the sample's memory.")
        .def_property_readonly("info", [](const sample_view_py& v) { return to_py(v.view.info); },
                               "SampleInfo of the sample (index, size, timestamp, pts).")
        .def_property_readonly("valid", &sample_view_py::valid,
                               "True while the slot still holds this sample (an acquire check of its sequence).")
        .def("__enter__", [](const sample_view_py& v) { return v.array; })
        .def("__exit__", [](const sample_view_py&, const py::object&, const py::object&, const py::object&) { return false; })
        .def("_buffer_array", [](const sample_view_py& v) { return v.array; });
    delegate_buffer_protocol(view_class);

    // ---- stream --------------------------------------------------------------------------
    using stream_w = py_slot_writer<stream_traits>;
    using stream_r = py_slot_reader<stream_traits>;
    py::class_<stream_w, handle_base> sw(m, "StreamWriter", R"doc(
The writer of a typed stream: samples of one dtype and shape (stored in the segment), or
variable-size byte messages (dtype='bytes'). Readers take the newest sample or every sample in
order; the writer never waits for them.
)doc");
    sw.def_static(
          "create",
          [](const std::string& name, const py::object& dtype_spec, const py::object& shape, std::uint64_t max_bytes,
             std::uint64_t slots, bool page_aligned, bool replace_stale, bool prefault, std::uint32_t mode,
             bool allow_membarrier) {
              stream_config c;
              c.type = dtype_from(dtype_spec);
              c.slots = slots;
              c.page_aligned = page_aligned;
              c.max_bytes = max_bytes;
              if (c.type == dtype::bytes) {
                  if (max_bytes == 0) throw py::value_error("a bytes stream needs max_bytes > 0");
                  c.ndim = 0;
              } else {
                  const std::vector<std::uint64_t> dims = stream_dims(shape);
                  c.ndim = static_cast<std::uint32_t>(dims.size());
                  for (std::size_t i = 0; i < dims.size(); ++i) c.shape[i] = dims[i];
              }
              const segment_options o = segment_options_from(replace_stale, prefault, mode, allow_membarrier, 0.5);
              return open_handle<stream_w>(name, "create", [&] { return stream_writer::create(name.c_str(), c, o); });
          },
          py::arg("name"), py::kw_only(), py::arg("dtype") = "float32", py::arg("shape") = py::make_tuple(1),
          py::arg("max_bytes") = 0, py::arg("slots") = 8, py::arg("page_aligned") = false, py::arg("replace_stale") = true,
          py::arg("prefault") = false, py::arg("mode") = 0600, py::arg("allow_membarrier") = true,
          "Creates the stream. dtype: a NumPy dtype (or name), or 'bytes' for messages up to max_bytes. "
          "shape: the sample shape. slots: ring slots, 2..65536 (the newest slots - 1 samples stay readable: "
          "the next slot may be being written).")
        .def_static(
            "attach",
            [](const std::string& name, double ready_timeout) {
                const segment_options o = attach_segment_options(ready_timeout);
                return open_handle<stream_w>(name, "attach", [&] { return stream_writer::open(name.c_str(), o); }, ready_timeout);
            },
            py::arg("name"), py::kw_only(), py::arg("ready_timeout") = 0.5,
            "Becomes the writer of an existing stream (Busy while another writer lives).")
        .def(
            "write",
            [](stream_w& w, const py::handle& data) {
                const bool fixed = !stream_traits::partial_commit(w.impl.description());
                write_sample(w, data, "write", [&](const void* p, std::size_t n) {
                    if (fixed && n != w.impl.sample_bytes()) return errc::size_mismatch;
                    return w.impl.write(p, n);
                });
            },
            py::arg("data"),
            "Publishes one sample: an array of the stream's dtype and shape (or its raw bytes); for a bytes "
            "stream, bytes or str up to max_bytes.")
        .def(
            "reserve",
            [](py::object self) {
                auto& w = self.cast<stream_w&>();
                return reserve_sample<stream_traits>(self, [&] { return w.impl.reserve(); }, "reserve");
            },
            "A Reservation over the next slot, shaped like a sample (bytes streams: max_bytes of uint8; commit(n) "
            "publishes n bytes).")
        .def_property_readonly("dtype", [](stream_w& w) { return dtype_of(w.impl.description()); },
                               "The sample dtype (a NumPy dtype), or 'bytes'.")
        .def_property_readonly("shape", [](stream_w& w) { return shape_of(w.impl.description()); },
                               "The sample shape.")
        .def_property_readonly("sample_bytes", [](stream_w& w) { return w.impl.sample_bytes(); },
                               "Bytes of one sample (the maximum for a bytes stream).");
    def_writer(sw);

    py::class_<stream_r, handle_base> sr(m, "StreamReader", R"doc(
A reader of a typed stream. The dtype and shape come from the segment; pass `dtype`/`shape` to
insist on them (WrongKind / SizeMismatch otherwise). Samples are returned as NumPy arrays
(bytes for a bytes stream).
)doc");
    sr.def_static(
          "attach",
          [](const std::string& name, const py::object& dtype_spec, const py::object& shape, bool from_oldest,
             bool read_only, double ready_timeout) {
              auto o = reader_options<stream_reader_options>(from_oldest, read_only, ready_timeout);
              if (!dtype_spec.is_none()) o.expect.type = dtype_from(dtype_spec);
              if (!shape.is_none()) {
                  const std::vector<std::uint64_t> dims = stream_dims(shape);
                  o.expect.ndim = static_cast<std::int32_t>(dims.size());
                  for (std::size_t i = 0; i < dims.size(); ++i) o.expect.shape[i] = dims[i];
              }
              return open_handle<stream_r>(name, "attach", [&] { return stream_reader::open(name.c_str(), o); }, ready_timeout);
          },
          py::arg("name"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("shape") = py::none(),
          py::arg("from_oldest") = false, py::arg("read_only") = false, py::arg("ready_timeout") = 0.5,
          "Attaches to a stream. from_oldest: next() starts at the oldest sample kept. read_only: map "
          "read-only (blocking calls raise AccessDenied).")
        .def_property_readonly("dtype", [](stream_r& r) { return dtype_of(r.impl.description()); },
                               "The sample dtype (a NumPy dtype), or 'bytes'.")
        .def_property_readonly("shape", [](stream_r& r) { return shape_of(r.impl.description()); },
                               "The sample shape.")
        .def_property_readonly("sample_bytes", [](stream_r& r) { return r.impl.sample_bytes(); },
                               "Bytes of one sample (the maximum for a bytes stream).");
    def_reader(sr);

    // ---- video ---------------------------------------------------------------------------
    using video_w = py_slot_writer<video_traits>;
    using video_r = py_slot_reader<video_traits>;
    auto video_props = [](auto& cls) {
        using H = typename std::remove_reference_t<decltype(cls)>::type;
        cls.def_property_readonly("width", [](H& h) { return h.impl.description().width; },
                               "Frame width in pixels.")
            .def_property_readonly("height", [](H& h) { return h.impl.description().height; },
                               "Frame height in pixels.")
            .def_property_readonly("stride", [](H& h) { return h.impl.description().stride; },
                                   "Bytes per row of the first plane.")
            .def_property_readonly("format", [](H& h) {
                return std::string(to_string(static_cast<pixel_format>(h.impl.description().pixel_format)));
            }, "Pixel format name: 'RGB24', 'NV12', ...")
            .def_property_readonly("fps", [](H& h) {
                return py::make_tuple(h.impl.description().fps_num, h.impl.description().fps_den);
            }, "Frame rate as (numerator, denominator).")
            .def_property_readonly("frame_bytes", [](H& h) { return h.impl.description().frame_bytes; },
                               "Bytes of one frame, all planes.")
            .def_property_readonly("shape", [](H& h) {
                const sample_layout l = h.layout(h.impl.description().frame_bytes);
                return py::tuple(py::cast(l.shape));
            }, "Shape of a frame array: (h, w, c) packed, (h, w) gray8, (h*3/2, w) planar 4:2:0.")
            .def_property_readonly("plane_offsets", [](H& h) {
                const auto& d = h.impl.description();
                py::list l;
                for (std::uint32_t i = 0; i < plane_count(static_cast<pixel_format>(d.pixel_format)); ++i) {
                    l.append(py::make_tuple(d.plane_offset[i], d.plane_stride[i]));
                }
                return py::tuple(l);
            }, "(byte offset, row stride) of each plane within a frame.");
    };
    py::class_<video_w, handle_base> vw(m, "VideoWriter", R"doc(
The writer of a video ring: frames of a fixed geometry (width, height, stride, pixel format,
frame rate stored in the segment), each with a video pts and an audio pts. reserve() hands out
the next slot as a writable array to fill in place (zero-copy).
)doc");
    vw.def_static(
          "create",
          [](const std::string& name, std::uint32_t width, std::uint32_t height, const std::string& format,
             std::uint32_t stride, std::pair<std::uint32_t, std::uint32_t> fps, std::uint64_t slots, bool page_aligned,
             bool replace_stale, bool prefault, std::uint32_t mode, bool allow_membarrier) {
              video_config c;
              c.width = width;
              c.height = height;
              c.format = pixel_format_from(format);
              c.stride = stride;
              c.fps_num = fps.first;
              c.fps_den = fps.second;
              c.slots = slots;
              c.page_aligned = page_aligned;
              const segment_options o = segment_options_from(replace_stale, prefault, mode, allow_membarrier, 0.5);
              return open_handle<video_w>(name, "create", [&] { return video_writer::create(name.c_str(), c, o); });
          },
          py::arg("name"), py::kw_only(), py::arg("width"), py::arg("height"), py::arg("format") = "rgb24",
          py::arg("stride") = 0, py::arg("fps") = std::make_pair(30u, 1u), py::arg("slots") = 4,
          py::arg("page_aligned") = true, py::arg("replace_stale") = true, py::arg("prefault") = false,
          py::arg("mode") = 0600, py::arg("allow_membarrier") = true,
          "Creates the ring. format: gray8, rgb24, bgr24, rgba32, bgra32, yuyv422, uyvy422, nv12, i420. "
          "stride: bytes per row (0: packed). prefault=True avoids page faults on the first frames.")
        .def_static(
            "attach",
            [](const std::string& name, double ready_timeout) {
                const segment_options o = attach_segment_options(ready_timeout);
                return open_handle<video_w>(name, "attach", [&] { return video_writer::open(name.c_str(), o); }, ready_timeout);
            },
            py::arg("name"), py::kw_only(), py::arg("ready_timeout") = 0.5,
            "Becomes the writer of an existing ring (Busy while another writer lives).")
        .def(
            "write",
            [](py::object self, const py::handle& frame, std::int64_t pts, std::int64_t audio_pts) {
                auto& w = self.cast<video_w&>();
                const bool whole_frame_bytes = [&] {
                    if (!py::isinstance<py::array>(frame)) return true;
                    const auto a = py::reinterpret_borrow<py::array>(frame);
                    return (a.flags() & py::array::c_style) != 0 &&
                           static_cast<std::uint64_t>(a.nbytes()) == w.impl.description().frame_bytes;
                }();
                if (whole_frame_bytes) {
                    write_sample(w, frame, "write", [&](const void* p, std::size_t n) {
                        return w.impl.write_frame(p, n, pts, audio_pts);
                    });
                    return;
                }
                // An image array that is not the frame's exact bytes (rows without the stride's
                // padding, a strided view): copied row by row into the slot by NumPy, once its
                // shape and dtype are known to match (so the copy itself cannot fail).
                const auto a = py::reinterpret_borrow<py::array>(frame);
                const sample_layout l = w.layout(w.impl.description().frame_bytes);
                if (!same_dtype(a.dtype(), py::dtype::of<std::uint8_t>())) {
                    throw py::type_error(what(w, "write") + ": expected a uint8 frame, got " +
                                         py::str(static_cast<py::handle>(a.dtype())).cast<std::string>());
                }
                const std::vector<py::ssize_t> shape(a.shape(), a.shape() + a.ndim());
                if (shape != l.shape) raise(errc::size_mismatch, what(w, "write") + " (expected an array of `shape`)");
                py::object res = reserve_sample<video_traits>(
                    self, [&] { return w.impl.reserve_frame(pts, audio_pts); }, "write");
                auto& r = res.cast<reservation_base&>();
                py::module_::import("numpy").attr("copyto")(r.array(), frame);
                r.commit(std::nullopt);
            },
            py::arg("frame"), py::kw_only(), py::arg("pts") = 0, py::arg("audio_pts") = 0,
            "Copies one frame in and publishes it: an array of `shape` (any strides; padded rows are laid out "
            "at the ring's stride) or frame_bytes raw bytes.")
        .def(
            "reserve",
            [](py::object self, std::int64_t pts, std::int64_t audio_pts) {
                auto& w = self.cast<video_w&>();
                return reserve_sample<video_traits>(self, [&] { return w.impl.reserve_frame(pts, audio_pts); },
                                                    "reserve");
            },
            py::kw_only(), py::arg("pts") = 0, py::arg("audio_pts") = 0,
            "A Reservation over the next frame, as a writable array of `shape`; commit() publishes it whole.");
    video_props(vw);
    def_writer(vw);

    py::class_<video_r, handle_base> vr(m, "VideoReader", R"doc(
A reader of a video ring. Frames come back as NumPy arrays of `shape` (copies from latest()/next(),
zero-copy from view_latest()/view_next()); `last` (or a view's `info`) carries pts and audio_pts.
)doc");
    vr.def_static(
          "attach",
          [](const std::string& name, bool from_oldest, bool read_only, double ready_timeout) {
              const auto o = reader_options<slot_reader_options>(from_oldest, read_only, ready_timeout);
              return open_handle<video_r>(name, "attach", [&] { return video_reader::open(name.c_str(), o); }, ready_timeout);
          },
          py::arg("name"), py::kw_only(), py::arg("from_oldest") = false, py::arg("read_only") = false,
          py::arg("ready_timeout") = 0.5, "Attaches to a video ring.");
    video_props(vr);
    def_reader(vr);

    // ---- audio ---------------------------------------------------------------------------
    using audio_w = py_slot_writer<audio_traits>;
    using audio_r = py_slot_reader<audio_traits>;
    auto audio_props = [](auto& cls) {
        using H = typename std::remove_reference_t<decltype(cls)>::type;
        cls.def_property_readonly("channels", [](H& h) { return h.impl.description().channels; },
                               "Audio channels per frame.")
            .def_property_readonly("format", [](H& h) {
                return std::string(to_string(static_cast<sample_format>(h.impl.description().sample_format)));
            }, "Sample format name: 'S16LE', 'F32LE', ...")
            .def_property_readonly("sample_rate", [](H& h) { return h.impl.description().sample_rate; },
                               "Frames per second.")
            .def_property_readonly("frames_per_buffer", [](H& h) { return h.impl.description().frames_per_buffer; },
                               "Frames in one full buffer.")
            .def_property_readonly("buffer_bytes", [](H& h) { return h.impl.description().buffer_bytes; },
                               "Bytes of one full buffer.")
            .def_property_readonly("buffer_seconds", [](H& h) { return h.impl.description().buffer_us / 1e6; },
                               "Duration of one full buffer in seconds.");
    };
    py::class_<audio_w, handle_base> aw(m, "AudioWriter", R"doc(
The writer of an audio ring: PCM buffers of (frames, channels) samples, each with a pts.
)doc");
    aw.def_static(
          "create",
          [](const std::string& name, std::uint32_t channels, const std::string& format, std::uint32_t sample_rate,
             double buffer_seconds, std::uint64_t slots, bool replace_stale, bool prefault, std::uint32_t mode,
             bool allow_membarrier) {
              if (!(buffer_seconds > 0) || buffer_seconds > 60) throw py::value_error("buffer_seconds must be in (0, 60]");
              audio_config c;
              c.channels = channels;
              c.format = sample_format_from(format);
              c.sample_rate = sample_rate;
              c.buffer_us = static_cast<std::uint32_t>(buffer_seconds * 1e6 + 0.5);
              c.slots = slots;
              const segment_options o = segment_options_from(replace_stale, prefault, mode, allow_membarrier, 0.5);
              return open_handle<audio_w>(name, "create", [&] { return audio_writer::create(name.c_str(), c, o); });
          },
          py::arg("name"), py::kw_only(), py::arg("channels") = 2, py::arg("format") = "s16le",
          py::arg("sample_rate") = 48000, py::arg("buffer_seconds") = 0.02, py::arg("slots") = 8,
          py::arg("replace_stale") = true, py::arg("prefault") = false, py::arg("mode") = 0600,
          py::arg("allow_membarrier") = true,
          "Creates the ring. format: u8, s16le, s24le, s32le, f32le, f64le. buffer_seconds: duration of one buffer.")
        .def_static(
            "attach",
            [](const std::string& name, double ready_timeout) {
                const segment_options o = attach_segment_options(ready_timeout);
                return open_handle<audio_w>(name, "attach", [&] { return audio_writer::open(name.c_str(), o); }, ready_timeout);
            },
            py::arg("name"), py::kw_only(), py::arg("ready_timeout") = 0.5,
            "Becomes the writer of an existing ring (Busy while another writer lives).")
        .def(
            "write",
            [](audio_w& w, const py::handle& samples, std::int64_t pts) {
                write_sample(w, samples, "write",
                             [&](const void* p, std::size_t n) { return w.impl.write_buffer(p, n, pts); });
            },
            py::arg("samples"), py::kw_only(), py::arg("pts") = 0,
            "Publishes one buffer of whole frames (at most frames_per_buffer), e.g. an int16 array (frames, channels).")
        .def(
            "reserve",
            [](py::object self, std::int64_t pts) {
                auto& w = self.cast<audio_w&>();
                return reserve_sample<audio_traits>(self, [&] { return w.impl.reserve_buffer(pts); }, "reserve");
            },
            py::kw_only(), py::arg("pts") = 0,
            "A Reservation over the next buffer as a writable (frames_per_buffer, channels) array.");
    audio_props(aw);
    def_writer(aw);

    py::class_<audio_r, handle_base> ar(m, "AudioReader", R"doc(
A reader of an audio ring: buffers come back as (frames, channels) arrays of the sample format
(s24le: (frames, channels, 3) raw bytes); `last.pts` is the buffer's pts.
)doc");
    ar.def_static(
          "attach",
          [](const std::string& name, bool from_oldest, bool read_only, double ready_timeout) {
              const auto o = reader_options<slot_reader_options>(from_oldest, read_only, ready_timeout);
              return open_handle<audio_r>(name, "attach", [&] { return audio_reader::open(name.c_str(), o); }, ready_timeout);
          },
          py::arg("name"), py::kw_only(), py::arg("from_oldest") = false, py::arg("read_only") = false,
          py::arg("ready_timeout") = 0.5, "Attaches to an audio ring.");
    audio_props(ar);
    def_reader(ar);
}

}  // namespace shmkit::python
