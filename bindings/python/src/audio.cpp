// shmkit.AudioWriter and AudioReader: buffers of interleaved frames, pts.
#include "slots.hpp"

#include "shmkit/audio.hpp"

namespace shmkit::python {
namespace {

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

sample_format sample_format_from(const std::string& s) {
    static const sample_format all[] = {sample_format::u8,    sample_format::s16le, sample_format::s24le,
                                        sample_format::s32le, sample_format::f32le, sample_format::f64le};
    return format_from(s, all, "sample format", "u8, s16le, s24le, s32le, f32le, f64le");
}

}  // namespace

void bind_audio(py::module_& m) {
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
          [](const segment_name& name, std::uint32_t channels, const std::string& format, std::uint32_t sample_rate,
             double buffer_seconds, std::uint64_t slots, bool replace_stale, bool prefault, bool reserve_memory,
             std::uint32_t mode, bool allow_membarrier) {
              if (!(buffer_seconds > 0) || buffer_seconds > 60) throw py::value_error("buffer_seconds must be in (0, 60]");
              audio_config c;
              c.channels = channels;
              c.format = sample_format_from(format);
              c.sample_rate = sample_rate;
              c.buffer_us = static_cast<std::uint32_t>(buffer_seconds * 1e6 + 0.5);
              c.slots = slots;
              const segment_options o =
                  segment_options_from(replace_stale, prefault, reserve_memory, mode, allow_membarrier, 0.5);
              return open_handle<audio_w>(name, "create", [&] { return audio_writer::create(name.c_str(), c, o); });
          },
          py::arg("name"), py::kw_only(), py::arg("channels") = 2, py::arg("format") = "s16le",
          py::arg("sample_rate") = 48000, py::arg("buffer_seconds") = 0.02, py::arg("slots") = 8,
          py::arg("replace_stale") = true, py::arg("prefault") = false, py::arg("reserve_memory") = true,
          py::arg_v("mode", 0600, "0o600"), py::arg("allow_membarrier") = true,
          (std::string("Creates the ring. format: u8, s16le, s24le, s32le, f32le, f64le. buffer_seconds: duration of "
                       "one buffer. ") +
           reserve_memory_doc)
              .c_str())
        .def_static(
            "open",
            [](const segment_name& name, double ready_timeout) {
                const segment_options o = attach_segment_options(ready_timeout);
                return open_handle<audio_w>(name, "open", [&] { return audio_writer::open(name.c_str(), o); }, ready_timeout);
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
          "open",
          [](const segment_name& name, bool from_oldest, bool from_newest, bool read_only, double ready_timeout) {
              const auto o = reader_options<slot_reader_options>(from_oldest, from_newest, read_only, ready_timeout);
              return open_handle<audio_r>(name, "open", [&] { return audio_reader::open(name.c_str(), o); }, ready_timeout);
          },
          py::arg("name"), py::kw_only(), py::arg("from_oldest") = false, py::arg("from_newest") = false,
          py::arg("read_only") = false, py::arg("ready_timeout") = 0.5, "Attaches to an audio ring. from_oldest / from_newest: next() starts at the oldest buffer kept / "
          "the newest present (not the next new one).");
    audio_props(ar);
    def_reader(ar);
}

}  // namespace shmkit::python
