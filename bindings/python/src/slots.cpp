// SampleInfo and SampleView, shared by the slot-ring kinds (stream, video, audio), and the
// binding of those kinds: slots.hpp holds what they share, each kind's file binds it.
#include "slots.hpp"

namespace shmkit::python {

void bind_slots(py::module_& m) {
    py::class_<sample_info_py>(m, "SampleInfo", "Metadata of one sample, frame or audio buffer.")
        .def_readonly("index", &sample_info_py::index, "The writer's sample number, from 0.")
        .def_readonly("size", &sample_info_py::size, "Bytes.")
        .def_readonly("timestamp_ns", &sample_info_py::timestamp_ns, "The writer's monotonic clock at commit.")
        .def_readonly("pts", &sample_info_py::pts, "Video pts of a frame, pts of an audio buffer (0 for streams).")
        .def_readonly("audio_pts", &sample_info_py::audio_pts, "Audio pts carried by a video frame.")
        .def_readonly("lost", &sample_info_py::lost,
                      "In-order reads: samples lost just before this one (the writer lapped the reader); 0 from "
                      "latest reads.")
        .def("__repr__", [](const sample_info_py& i) {
            return "SampleInfo(index=" + std::to_string(i.index) + ", size=" + std::to_string(i.size) +
                   ", timestamp_ns=" + std::to_string(i.timestamp_ns) + ", pts=" + std::to_string(i.pts) +
                   ", audio_pts=" + std::to_string(i.audio_pts) + ", lost=" + std::to_string(i.lost) + ")";
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

    bind_stream(m);
    bind_video(m);
    bind_audio(m);
}

}  // namespace shmkit::python
