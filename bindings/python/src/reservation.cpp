// shmkit.Reservation (see reservation.hpp).
#include "reservation.hpp"

namespace shmkit::python {

void py_reservation::finish(bool publish, std::size_t used) {
    finished_ = true;
    handle_->locked_unchecked([&] {
        if (publish) {
            r_.commit(used);
        } else {
            r_.abandon();
        }
        if (open_flag_ != nullptr) *open_flag_ = false;
    });
    // Writing into a published slot would change a message readers may be reading: the array
    // handed out becomes read-only (views the caller derived from it keep their own flags).
    if (array_) make_read_only(array_);
}

void py_reservation::commit(std::optional<std::size_t> nbytes) {
    if (finished_) throw std::runtime_error("this reservation was already committed or abandoned");
    const std::size_t used = nbytes.value_or(size_);
    if (used > size_) throw py::value_error("nbytes exceeds the reservation's size");
    if (!partial_ && nbytes && used != size_) {
        throw py::value_error("a sample is committed whole; nbytes must be omitted or equal to size");
    }
    finish(true, used);
}

void py_reservation::abandon() {
    if (!finished_) finish(false, 0);
}

void py_reservation::finish_on_destruction() noexcept {
    if (finished_) return;
    try {
        finish(false, 0);
    } catch (...) {
        // Only the GIL release in locked_unchecked could throw, and it does not: abandoning
        // is the only correct outcome either way.
    }
}

py::array py_reservation::enter() {
    if (finished_) throw std::runtime_error("this reservation was already committed or abandoned");
    return array_;
}

void py_reservation::exit(const py::object& exc_type) {
    if (finished_) return;  // committed or abandoned explicitly inside the block
    if (exc_type.is_none()) {
        commit(std::nullopt);
    } else {
        abandon();  // an exception inside the block publishes nothing
    }
}

void bind_reservation(py::module_& m) {
    py::class_<py_reservation> cls(m, "Reservation", R"doc(
Space reserved by a writer in shared memory, to fill in place (zero-copy).

Fill ``array`` (a writable NumPy array over the reserved bytes or sample), then ``commit()``.
Used as a context manager, ``with writer.reserve(...) as array:`` binds the array, commits when
the block ends normally and abandons (publishes nothing) when it raises. A reservation dropped
without commit publishes nothing. One reservation per writer at a time (command writers may
hold several).
)doc");
    cls.def_property_readonly("array", &py_reservation::array, "The writable array over the reserved memory.")
        .def_property_readonly("size", &py_reservation::size, "Bytes reserved.")
        .def_property_readonly("finished", &py_reservation::finished, "True once committed or abandoned.")
        .def("commit", &py_reservation::commit, py::arg("nbytes") = py::none(),
             "Publishes the reservation (its first ``nbytes`` bytes for message kinds; all by default).")
        .def("abandon", &py_reservation::abandon, "Publishes nothing; the space is given back.")
        .def("__enter__", &py_reservation::enter)
        .def("__exit__",
             [](py_reservation& r, const py::object& type, const py::object&, const py::object&) {
                 r.exit(type);
                 return false;
             })
        .def("_buffer_array", &py_reservation::array);
    delegate_buffer_protocol(cls);
}

}  // namespace shmkit::python
