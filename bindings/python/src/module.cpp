// The native part of the `shmkit` Python package (shmkit/__init__.py re-exports it).
#include "common.hpp"
#include "reservation.hpp"
#include "shmkit/version.hpp"
#include "shmkit/wire/config.hpp"

namespace shmkit::python {
namespace {

void bind_handle(py::module_& m) {
    py::class_<handle_base>(m, "Handle", R"doc(
Base of every shmkit handle: close(), unlink(), `closed`, `name`, and use as a context manager
(closes on exit). close() raises BufferError while arrays, views or reservations over the
handle's memory exist; a call blocked in another thread raises Closed within 50 ms of close().
)doc")
        .def("close", &handle_base::close, "Detaches (the segment stays). BufferError while views exist.")
        .def(
            "unlink",
            [](handle_base& h) { check(h.quick([&] { return h.unlink_impl(); }), what(h.name(), "unlink").c_str()); },
            "Removes the segment's name, if it still names this handle's segment (typically the owner's last "
            "step); NotFound if it was removed, or the name now holds another segment. Every process that has the "
            "segment open, this handle included, keeps using it. shmkit.remove(name) removes whatever the name "
            "holds.")
        .def_property_readonly("closed", [](const handle_base& h) { return h.closed(); },
                               "True once close() has run.")
        .def_property_readonly("name", [](const handle_base& h) { return h.name(); },
                               "The segment's name.")
        .def_property_readonly("exports", [](const handle_base& h) { return h.exports(); },
                               "Arrays, views and reservations currently pinning this handle's memory.")
        .def("__enter__", [](py::object self) { return self; })
        .def("__exit__",
             [](handle_base& h, const py::object&, const py::object&, const py::object&) {
                 h.close();
                 return false;
             })
        .def("__repr__", [](py::object self) {
            const auto& h = self.cast<const handle_base&>();
            return "<shmkit." + py::str(self.get_type().attr("__name__")).cast<std::string>() + " '" + h.name() + "'" +
                   (h.closed() ? " closed" : "") + ">";
        });
}

}  // namespace
}  // namespace shmkit::python

PYBIND11_MODULE(_shmkit, m) {
    namespace sp = shmkit::python;
    namespace py = pybind11;
    m.doc() = "shmkit's native module; import shmkit instead.";
    m.attr("__version__") = SHMKIT_VERSION_STRING;  // the project version (CMakeLists.txt)
    // NumPy first, with the GIL held and no other thread inside shmkit yet: pybind11 looks its
    // C API up lazily in a function-local static, and two threads doing that first lookup at
    // once deadlock (one holds the static's guard and waits for the GIL the other holds).
    py::module_::import("numpy");
    static_cast<void>(py::dtype::of<std::uint8_t>());
    sp::load_error_classes();
    sp::bind_common(m);
    sp::bind_handle(m);
    sp::bind_reservation(m);
    sp::bind_messaging(m);
    sp::bind_duplex(m);
    sp::bind_block(m);
    sp::bind_slots(m);
    sp::bind_kv(m);
    sp::bind_select(m);
    sp::bind_inventory(m);
    m.attr("wire_format_version") = shmkit::wire_format_version;
    m.attr("wait_slice") = static_cast<double>(sp::wait_slice_ns) / 1e9;
}
