// shmkit.Reservation: a writable NumPy array over space a writer reserved in shared memory.
// commit() publishes it; abandon(), an exception inside `with`, or dropping the reservation
// publishes nothing. One class for every writer kind, over the one C++ reservation type.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

#include <shmkit/reservation.hpp>

#include "common.hpp"

namespace shmkit::python {

class py_reservation {
public:
    // `r`'s memory is covered by `array` (`size` bytes; the array's base is the guard that pins
    // `writer`). `open_flag` (the writer's one-reservation flag, or null) was set under the
    // writer's mutex by the call that reserved; it is cleared under the mutex when this
    // finishes. `partial`: whether a commit may cover fewer bytes (slot kinds commit whole
    // samples only).
    py_reservation(py::object writer, handle_base* writer_handle, bool* open_flag, reservation&& r, py::array array,
                   std::size_t size, bool partial)
        : writer_(std::move(writer)), handle_(writer_handle), open_flag_(open_flag), r_(std::move(r)),
          array_(std::move(array)), size_(size), partial_(partial) {}
    ~py_reservation() { finish_on_destruction(); }
    py_reservation(const py_reservation&) = delete;
    py_reservation& operator=(const py_reservation&) = delete;

    // The array the writer fills; read-only once the reservation is finished.
    py::array array() const { return array_; }
    std::size_t size() const noexcept { return size_; }
    bool finished() const noexcept { return finished_; }

    // Publishes the first `nbytes` bytes (all by default).
    void commit(std::optional<std::size_t> nbytes);
    void abandon();
    py::array enter();
    void exit(const py::object& exc_type);

private:
    // Runs the commit or the abandonment once: `finished_` is claimed under the GIL before the
    // mutex is taken (which may release the GIL), so two threads cannot both finish it.
    void finish(bool publish, std::size_t used);
    // Abandons an unfinished reservation (the destructor).
    void finish_on_destruction() noexcept;

    py::object writer_;
    handle_base* handle_;
    bool* open_flag_;
    reservation r_;
    py::array array_;
    std::size_t size_ = 0;
    bool partial_;
    bool finished_ = false;
};

// The Python Reservation over a writer's reservation `r`. Python owns it.
inline py::object make_reservation(py::object writer, handle_base& writer_handle, bool* open_flag, reservation&& r,
                                   py::array array, std::size_t size, bool partial) {
    // Owned here until Python owns it: if the cast fails, the reservation is abandoned.
    std::unique_ptr<py_reservation> made(
        new py_reservation(std::move(writer), &writer_handle, open_flag, std::move(r), std::move(array), size, partial));
    py::object owned = py::cast(made.get(), py::return_value_policy::take_ownership);
    made.release();
    return owned;
}

// A writer that allows one open reservation at a time (the core asserts it). `reserving` is
// read and written only under the handle's mutex: checked on every attempt, since another
// thread may open a reservation between the slices of a wait.
struct reserving_writer : handle_base {
    bool reserving = false;

    // Wraps a core call: runs it unless a reservation is open; then returns busy and sets the
    // caller's `refused` (one per call: several threads may be refused at once).
    template <class F>
    auto guarded(bool& refused, F f) {
        return [this, &refused, f](auto... args) mutable -> decltype(f(args...)) {
            if (reserving) {
                refused = true;
                return errc::busy;
            }
            return f(args...);
        };
    }
    // As guarded(), for a call that reserves: marks the reservation open in the same locked step.
    template <class F>
    auto reserve_guarded(bool& refused, F reserve) {
        return guarded(refused, [this, reserve](auto... args) mutable {
            auto r = reserve(args...);
            if (r) reserving = true;
            return r;
        });
    }
    static void check_refused(bool refused) {
        if (refused) throw std::runtime_error("a reservation is open on this writer: commit or abandon it first");
    }
};

// Pins the writer `self` right after a reservation was made with a wait (pinning before the
// wait would make close() from another thread fail with BufferError instead of cancelling it;
// no Python code runs between the wait and this call). If pinning fails, the reservation is
// dropped under the writer's mutex, so the writer stays consistent.
inline py::object pin_reserved(const py::object& self, handle_base& writer, result<reservation>& r, bool* open_flag) {
    try {
        return pin(self);
    } catch (...) {
        writer.locked_unchecked([&] {
            r = errc::not_open;  // destroys the reservation: abandoned
            if (open_flag != nullptr) *open_flag = false;
        });
        throw;
    }
}

void bind_reservation(py::module_& m);

}  // namespace shmkit::python
