// shmkit.VideoWriter and VideoReader: frames as NumPy images, planes, pts.
#include "slots.hpp"

#include "shmkit/video.hpp"

namespace shmkit::python {
namespace {

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

pixel_format pixel_format_from(const std::string& s) {
    static const pixel_format all[] = {pixel_format::gray8,   pixel_format::rgb24,   pixel_format::bgr24,
                                       pixel_format::rgba32,  pixel_format::bgra32,  pixel_format::yuyv422,
                                       pixel_format::uyvy422, pixel_format::nv12,    pixel_format::i420};
    return format_from(s, all, "pixel format", "gray8, rgb24, bgr24, rgba32, bgra32, yuyv422, uyvy422, nv12, i420");
}

}  // namespace

void bind_video(py::module_& m) {
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
          [](const segment_name& name, std::uint32_t width, std::uint32_t height, const std::string& format,
             std::uint32_t stride, std::pair<std::uint32_t, std::uint32_t> fps, std::uint64_t slots, bool page_aligned,
             bool replace_stale, bool prefault, bool reserve_memory, std::uint32_t mode, bool allow_membarrier) {
              video_config c;
              c.width = width;
              c.height = height;
              c.format = pixel_format_from(format);
              c.stride = stride;
              c.fps_num = fps.first;
              c.fps_den = fps.second;
              c.slots = slots;
              c.page_aligned = page_aligned;
              const segment_options o =
                  segment_options_from(replace_stale, prefault, reserve_memory, mode, allow_membarrier, 0.5);
              return open_handle<video_w>(name, "create", [&] { return video_writer::create(name.c_str(), c, o); });
          },
          py::arg("name"), py::kw_only(), py::arg("width"), py::arg("height"), py::arg("format") = "rgb24",
          py::arg("stride") = 0, py::arg("fps") = std::make_pair(30u, 1u), py::arg("slots") = 4,
          py::arg("page_aligned") = true, py::arg("replace_stale") = true, py::arg("prefault") = false,
          py::arg("reserve_memory") = true, py::arg_v("mode", 0600, "0o600"), py::arg("allow_membarrier") = true,
          (std::string("Creates the ring. format: gray8, rgb24, bgr24, rgba32, bgra32, yuyv422, uyvy422, nv12, i420. "
                       "stride: bytes per row (0: packed). prefault=True avoids page faults on the first frames. ") +
           reserve_memory_doc)
              .c_str())
        .def_static(
            "open",
            [](const segment_name& name, double ready_timeout) {
                const segment_options o = attach_segment_options(ready_timeout);
                return open_handle<video_w>(name, "open", [&] { return video_writer::open(name.c_str(), o); }, ready_timeout);
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
                auto& r = res.cast<py_reservation&>();
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
          "open",
          [](const segment_name& name, bool from_oldest, bool from_newest, bool read_only, double ready_timeout) {
              const auto o = reader_options<slot_reader_options>(from_oldest, from_newest, read_only, ready_timeout);
              return open_handle<video_r>(name, "open", [&] { return video_reader::open(name.c_str(), o); }, ready_timeout);
          },
          py::arg("name"), py::kw_only(), py::arg("from_oldest") = false, py::arg("from_newest") = false,
          py::arg("read_only") = false, py::arg("ready_timeout") = 0.5, "Attaches to a video ring. from_oldest / from_newest: next() starts at the oldest frame kept / "
          "the newest present (not the next new one).");
    video_props(vr);
    def_reader(vr);
}

}  // namespace shmkit::python
