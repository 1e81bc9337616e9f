// shmkit.Reservation: a writable NumPy array over space a writer reserved in shared memory.
// commit() publishes it; abandon(), an exception inside `with`, or dropping the reservation
// publishes nothing. One class for every writer kind; the kind's C++ reservation is wrapped by
// reservation_of<R>.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "common.hpp"

namespace shmkit::python {

class reservation_base {
public:
    // `open_flag` (the writer's one-reservation flag, or null) was set under the writer's mutex
    // by the call that reserved; it is cleared under the mutex when this finishes.
    reservation_base(py::object writer, handle_base* writer_handle, bool* open_flag)
        : writer_(std::move(writer)), handle_(writer_handle), open_flag_(open_flag) {}
    virtual ~reservation_base() = default;
    reservation_base(const reservation_base&) = delete;
    reservation_base& operator=(const reservation_base&) = delete;

    // The array the writer fills; read-only once the reservation is finished.
    py::array array() const { return array_; }
    std::size_t size() const noexcept { return size_; }
    bool finished() const noexcept { return finished_; }

    // Publishes the first `nbytes` bytes (all by default).
    void commit(std::optional<std::size_t> nbytes);
    void abandon();
    py::array enter();
    void exit(const py::object& exc_type);

protected:
    // Called with the writer's mutex held.
    virtual void commit_locked(std::size_t used) noexcept = 0;
    virtual void abandon_locked() noexcept = 0;
    // Destructors of the kinds call this: abandons an unfinished reservation.
    void finish_on_destruction() noexcept;
    // The array pins the writer (its base is the guard from pin()), so the writer cannot be
    // closed while this reservation exists.
    void set_array(py::array a, std::size_t size) {
        array_ = std::move(a);
        size_ = size;
    }
    // The bytes a partial commit may cover; slot kinds commit whole samples only.
    virtual bool partial_commit_allowed() const noexcept { return true; }

private:
    // Runs commit_locked/abandon_locked once: `finished_` is claimed under the GIL before the
    // mutex is taken (which may release the GIL), so two threads cannot both finish it.
    void finish(bool publish, std::size_t used);

    py::object writer_;
    handle_base* handle_;
    bool* open_flag_;
    py::array array_;
    std::size_t size_ = 0;
    bool finished_ = false;
};

template <class R>
class reservation_of final : public reservation_base {
public:
    reservation_of(py::object writer, handle_base* writer_handle, bool* open_flag, R&& r, py::array a,
                   std::size_t size, bool partial)
        : reservation_base(std::move(writer), writer_handle, open_flag), r_(std::move(r)), partial_(partial) {
        set_array(std::move(a), size);
    }
    ~reservation_of() override { finish_on_destruction(); }

protected:
    void commit_locked(std::size_t used) noexcept override { r_.commit(used); }
    void abandon_locked() noexcept override { r_ = R{}; }
    bool partial_commit_allowed() const noexcept override { return partial_; }

private:
    R r_;
    bool partial_;
};

// The Python Reservation over a kind's C++ reservation `r`, whose memory `array` covers (`size`
// bytes; the array's base is the guard that pins `writer`). Python owns it.
template <class R>
py::object make_reservation(py::object writer, handle_base& writer_handle, bool* open_flag, R&& r, py::array array,
                            std::size_t size, bool partial) {
    // Owned here until Python owns it: if the cast fails, the reservation is abandoned.
    std::unique_ptr<reservation_base> made(new reservation_of<std::decay_t<R>>(
        std::move(writer), &writer_handle, open_flag, std::forward<R>(r), std::move(array), size, partial));
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
template <class R>
py::object pin_reserved(const py::object& self, handle_base& writer, result<R>& r, bool* open_flag) {
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
