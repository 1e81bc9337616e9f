// shmkit.Reservation: a writable NumPy array over space a writer reserved in shared memory.
// commit() publishes it; abandon(), an exception inside `with`, or dropping the reservation
// publishes nothing. One class for every writer kind; the kind's C++ reservation is wrapped by
// reservation_of<R>.
#pragma once

#include <cstddef>
#include <optional>
#include <utility>

#include "common.hpp"

namespace shmkit::python {

class reservation_base {
public:
    reservation_base(py::object writer, handle_base* writer_handle, bool* open_flag)
        : writer_(std::move(writer)), handle_(writer_handle), open_flag_(open_flag) {
        if (open_flag_ != nullptr) *open_flag_ = true;
    }
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
    void set_array(py::array a, std::size_t size) {
        array_ = std::move(a);
        size_ = size;
    }
    // The bytes a partial commit may cover; slot kinds commit whole samples only.
    virtual bool partial_commit_allowed() const noexcept { return true; }

private:
    void finish();

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

void bind_reservation(py::module_& m);

}  // namespace shmkit::python
