// What every Python class of the module shares: errors raised from errc, handles that are safe
// to use from many threads and to close while other threads wait, the waits that release the
// GIL and stay interruptible, and NumPy arrays over shared memory that keep the mapping alive.
//
// Thread and lifetime rules (the reason this file exists):
// - The C++ handles are not thread-safe. Every call into one holds the handle's mutex. The mutex
//   is only ever held with the GIL released or acquired with try_lock, and nothing acquires the
//   GIL while holding it, so the GIL and the mutex cannot deadlock.
// - Blocking calls wait in slices of at most `wait_slice` with the GIL released; between slices
//   they take the GIL back to run signal handlers (Ctrl-C raises KeyboardInterrupt within a
//   slice) and to notice close() from another thread.
// - Memory handed to Python (NumPy arrays, memoryviews, reservations) holds an export on its
//   handle. close() with exports raises BufferError and unmaps nothing, so no sequence of
//   Python calls reaches unmapped memory.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>  // std::optional timeouts, vectors

#include <atomic>
#include <memory>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "inventory.hpp"
#include "shmkit/detail/wait.hpp"
#include "shmkit/errc.hpp"
#include "shmkit/segment.hpp"

namespace shmkit::python {

namespace py = pybind11;

// ---- errors --------------------------------------------------------------------------------

// Raises the shmkit exception for `e` (see shmkit/_errors.py). `what` names the operation.
[[noreturn]] void raise(errc e, const std::string& what);
// As raise(), with the subclass `class_name` of shmkit._errors that names the case more closely
// (WriterDead for a PeerDead, ...).
[[noreturn]] void raise_as(const char* class_name, errc e, const std::string& what);
inline void check(errc e, const char* what) {
    if (failed(e)) raise(e, what);
}
// "'name' op": how every error message names the segment and the operation.
// (A name that is not UTF-8 is shown with \xNN escapes: messages are str.)
inline std::string what(const std::string& name, const std::string& op) {
    return "'" + inventory::printable(name) + "' " + op;
}
template <class T>
T take(result<T>&& r, const char* what) {
    if (!r) raise(r.error(), what);
    return std::move(r).value();
}
// Resolves the exception classes from shmkit._errors; called once at import.
void load_error_classes();

// ---- timeouts ------------------------------------------------------------------------------

// Python timeouts: None waits forever, a number is seconds (0 included: it expires at once).
using timeout_arg = std::optional<double>;
// Longest sleep between looks at signals and at close() from another thread.
inline constexpr std::uint64_t wait_slice_ns = 50'000'000;

// ValueError for a negative or NaN timeout.
void validate_timeout(const timeout_arg& timeout);
// A deadline on the monotonic clock; forever for None. Validates the timeout first.
std::uint64_t deadline_of(const timeout_arg& timeout);
// A channel's liveness period given in seconds, in nanoseconds: ValueError unless 0 <= it <= 1e6.
inline std::uint64_t liveness_period_ns(double seconds) {
    if (!(seconds >= 0 && seconds <= 1e6)) throw py::value_error("liveness_period must be between 0 and 1e6 seconds");
    return static_cast<std::uint64_t>(seconds * 1e9);
}
// The next slice's timeout towards `deadline` (never negative, at most wait_slice_ns).
nanoseconds slice_until(std::uint64_t deadline);
// Whether a (validated) timeout is 0: it expires at once, without waiting.
inline bool zero_timeout(const timeout_arg& timeout) { return timeout && *timeout == 0; }
// Runs signal handlers (raising KeyboardInterrupt etc.); needs the GIL.
void check_signals();
// Raises InvalidArgument for a name that breaks the name rules (inventory::name_rules, stated
// in the message) or has an embedded NUL byte (C++ would see only its start).
void check_name(const std::string& name, const char* op);
// Raises the shmkit exception for `e` with exactly `message` (no errc explanation appended).
[[noreturn]] void raise_message(errc e, const std::string& message);

// A segment name as every function of the module takes it: a str, "x" or "/x" (both mean "/x",
// as in the shmkit tool: inventory::normalize_name), encoded as os.fsencode() does (UTF-8,
// surrogateescape), so a name list_segments() gave with undecodable bytes means the same bytes.
struct segment_name : std::string {};
// Bytes (a name, or text read from a segment) as os.fsdecode() gives them: bytes that are not
// UTF-8 become lone surrogates (surrogateescape), so the str goes back to the same bytes
// (os.fsencode(), or any function of this module taking a name).
py::str fs_text(const std::string& bytes);

// The segment options of a create() (or open()) from its Python arguments, validated.
// reserve_memory = false creates without backing the segment with memory first (see
// segment_options::reserve_memory); open() ignores it.
segment_options segment_options_from(bool replace_stale, bool prefault, bool reserve_memory, std::uint32_t mode,
                                     bool allow_membarrier, double ready_timeout);
// The docstring clause of every create() that takes reserve_memory.
inline constexpr const char* reserve_memory_doc =
    "reserve_memory=False: do not back the whole segment with memory at creation (fast for large segments; "
    "a write may then kill the process with SIGBUS if /dev/shm fills up; ignored on Windows).";
// `o` waiting for a half-made segment at most one slice at a time: open_handle waits the rest of
// `ready_timeout` in slices.
inline segment_options sliced_ready_wait(segment_options o) {
    if (o.ready_wait_ns > wait_slice_ns) o.ready_wait_ns = wait_slice_ns;
    return o;
}
// What every open() uses: replace nothing, no prefault, and wait up to `ready_timeout`
// seconds for a creator that is still initialising the segment.
// Waits for a half-made segment in slices (see open_handle).
inline segment_options attach_segment_options(double ready_timeout) {
    return sliced_ready_wait(segment_options_from(/*replace_stale=*/true, /*prefault=*/false, /*reserve_memory=*/true,
                                                  /*mode=*/0600, /*allow_membarrier=*/true, ready_timeout));
}
// A kind's options (spsc_options, kv_options, ...: every one has `wait` and `segment`) for the
// binding: waits return on a signal, so its Python handler runs at once.
template <class Options>
Options interruptible(const segment_options& segment) {
    Options o;
    o.wait.return_on_signal = true;
    o.segment = segment;
    return o;
}
// The options of a reader kind's open() (broadcast, stream, video, audio).
template <class Options>
Options reader_options(bool from_oldest, bool from_newest, bool read_only, double ready_timeout) {
    Options o = interruptible<Options>(attach_segment_options(ready_timeout));
    o.from_oldest = from_oldest;
    o.from_newest = from_newest;
    o.read_only = read_only;
    return o;
}

// ---- handles -------------------------------------------------------------------------------

// Copies at most this large are made with the GIL held: releasing and re-taking it costs more
// than the copy (measured in bench/bench_python.py).
inline constexpr std::size_t copy_with_gil_limit = 16 * 1024;

class handle_base {
public:
    handle_base() = default;
    handle_base(const handle_base&) = delete;
    handle_base& operator=(const handle_base&) = delete;
    virtual ~handle_base() = default;

    // Raises Closed if close() has been called or is in progress. Needs the GIL.
    void ensure_open() const;
    bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }
    bool closing() const noexcept { return closing_; }
    const std::string& name() const noexcept { return name_; }
    void set_name(std::string n) { name_ = std::move(n); }

    // Memory handed to Python pins the handle (see export_guard).
    void add_export() noexcept { ++exports_; }
    void drop_export() noexcept { --exports_; }
    int exports() const noexcept { return exports_; }

    // Closes the C++ handle: BufferError while exports exist; once called, new calls raise
    // Closed, and a call waiting in another thread raises Closed at the end of its slice, which
    // close() waits for with the GIL released. Idempotent.
    void close();

    // Runs f() holding the handle's mutex with the GIL released. Raises Closed if the handle
    // was closed meanwhile. Use for anything that may block or copy many bytes.
    template <class F>
    auto blocking(F&& f) -> decltype(f()) {
        ensure_open();
        std::optional<decltype(f())> out;
        {
            const active_call call(this);
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(mutex_);
            if (!closed()) out.emplace(f());
        }
        if (!out) raise(errc::not_open, name_);
        return std::move(*out);
    }

    // Counts a call that releases the GIL while it runs, so close() waits for it. Constructed
    // and destroyed with the GIL held.
    class active_call {
    public:
        explicit active_call(handle_base* h) noexcept : h_(h) { ++h_->active_; }
        ~active_call() { --h_->active_; }
        active_call(const active_call&) = delete;
        active_call& operator=(const active_call&) = delete;

    private:
        handle_base* h_;
    };

    // Runs f() holding the handle's mutex, keeping the GIL when the mutex is free (the common
    // case: no other thread is inside this handle), for short calls that neither block nor copy
    // much.
    template <class F>
    auto quick(F&& f) -> decltype(f()) {
        ensure_open();
        if (mutex_.try_lock()) {
            std::lock_guard<std::mutex> lock(mutex_, std::adopt_lock);
            return f();
        }
        return blocking(static_cast<F&&>(f));
    }

    // For a call that copies `bytes`: quick() when the copy is small enough to make with the GIL
    // held (see copy_with_gil_limit), blocking() otherwise.
    template <class F>
    auto copying(std::size_t bytes, F&& f) -> decltype(f()) {
        return bytes <= copy_with_gil_limit ? quick(static_cast<F&&>(f)) : blocking(static_cast<F&&>(f));
    }

    // A blocking call made of slices: `attempt(slice_timeout)` returns a result<T> or errc;
    // while it reports `retry_on` (timeout or lock_timeout) or `interrupted` (a signal arrived:
    // its Python handler runs here, and a handler that returns lets the wait go on) and the
    // deadline has not passed, this runs signal handlers and tries again. Returns the last
    // result.
    template <class F>
    auto sliced(const timeout_arg& timeout, errc retry_on, F&& attempt) -> decltype(attempt(nanoseconds{})) {
        const std::uint64_t deadline = deadline_of(timeout);
        for (;;) {
            const nanoseconds slice = slice_until(deadline);
            auto r = blocking([&] { return attempt(slice); });
            const errc e = error_of(r);
            if (e == errc::interrupted) {
                check_signals();
                ensure_open();
                if (os::monotonic_ns() < deadline) continue;
                return retry_on;  // the deadline passed while the handler ran
            }
            if (e != retry_on || os::monotonic_ns() >= deadline) return r;
            check_signals();
            ensure_open();
        }
    }

    // The rest of a call with a timeout whose non-blocking try found nothing (nothing to read, no
    // room, a busy lock): `wait_(slice)` in slices (see sliced()) until the deadline. A zero
    // timeout expires at once: errc::timeout, as any timeout does when it expires (only the
    // try_ calls report "nothing"); the C++ wait is not entered, so nothing is announced.
    template <class F>
    auto wait_rest(const timeout_arg& timeout, F&& wait_) -> decltype(wait_(nanoseconds{})) {
        if (zero_timeout(timeout)) return errc::timeout;
        return sliced(timeout, errc::timeout, static_cast<F&&>(wait_));
    }

    // Runs f() holding the mutex without checking that the handle is open: for work that must
    // happen whatever state the handle is in (a reservation finishing while it pins the handle).
    template <class F>
    void locked_unchecked(F&& f) {
        if (mutex_.try_lock()) {
            std::lock_guard<std::mutex> lock(mutex_, std::adopt_lock);
            f();
            return;
        }
        const active_call call(this);
        py::gil_scoped_release release;
        std::lock_guard<std::mutex> lock(mutex_);
        f();
    }

    // The C++ handle's unlink(), called with the mutex held.
    virtual errc unlink_impl() noexcept = 0;

    // For select(): the C++ handle's waitable(), called with the mutex held; false if this
    // handle cannot be waited on.
    virtual bool source(select_source* out) noexcept {
        static_cast<void>(out);
        return false;
    }

    // The mutex, for select() which holds several handles at once.
    std::mutex& mutex() noexcept { return mutex_; }

protected:
    virtual void close_impl() noexcept = 0;

private:
    static errc error_of(errc e) noexcept { return e; }
    template <class T>
    static errc error_of(const result<T>& r) noexcept {
        return r.error();
    }

    std::mutex mutex_;
    std::atomic<bool> closed_{false};
    bool closing_ = false;  // close() is waiting for calls in other threads (under the GIL)
    int active_ = 0;   // calls in progress with the GIL released (changed under the GIL)
    int exports_ = 0;  // live exports (changed under the GIL)
    std::string name_;
};

// The C++ handle a Python handle wraps (its `impl`).
template <class H>
using impl_of = decltype(H::impl);

// The one shape of a read-only property that asks the open handle one thing, a call that
// neither blocks nor copies (quick()): `.def_property_readonly("lost", &ask<py_x, &impl_of<py_x>::lost>)`.
template <class H, auto Question>
auto ask(H& h) -> decltype((h.impl.*Question)()) {
    return h.quick([&] { return (h.impl.*Question)(); });
}

// Makes the Python handle of type H named `name`: `make()` (run with the GIL released: creating
// may prefault pages or wait for a creator) returns the C++ handle's result, moved into H::impl.
// Raises the shmkit error of a failure.
// `ready_timeout`: how long an open() waits for a half-made segment in all; each make() waits at
// most one slice of it (attach_segment_options), and between slices the Python signal handlers
// run, so Ctrl-C raises KeyboardInterrupt within a slice.
template <class H, class Make>
std::unique_ptr<H> open_handle(const std::string& name, const char* op, Make&& make, double ready_timeout = 0) {
    check_name(name, op);
    auto h = std::make_unique<H>();
    h->set_name(name);
    const std::uint64_t deadline = os::monotonic_ns() + static_cast<std::uint64_t>(ready_timeout * 1e9);
    for (;;) {
        auto r = [&] {
            py::gil_scoped_release release;
            return make();
        }();
        if (!r && (r.error() == errc::interrupted || (r.error() == errc::not_ready && os::monotonic_ns() < deadline))) {
            check_signals();
            continue;
        }
        if (!r) raise(r.error(), what(name, op));
        h->impl = std::move(r).value();
        return h;
    }
}

inline std::string what(const handle_base& h, const std::string& op) { return what(h.name(), op); }
// Raises the error of a failed `e`, naming the handle and the operation; builds no message
// when `e` is ok (this runs after every call).
inline void check(errc e, const handle_base& h, const char* op) {
    if (failed(e)) raise(e, what(h, op));
}

// Owns one export of a handle; the `base` of every NumPy array over shared memory, so the array
// keeps the Python handle (and with it the mapping) alive and pinned.
class export_guard {
public:
    export_guard(handle_base* handle, py::object owner) noexcept : owner_(std::move(owner)), handle_(handle) {}
    ~export_guard() { handle_->drop_export(); }
    export_guard(const export_guard&) = delete;
    export_guard& operator=(const export_guard&) = delete;

private:
    py::object owner_;
    handle_base* handle_;
};

// Pins `owner` (a Python handle) before any pointer into its memory is taken: the export is
// counted first, then the handle is checked open (Closed otherwise), then the guard object is
// made, so no Python code that runs meanwhile (a GC finalizer, an import) can close it.
// Call with the GIL held; keep the returned guard until the memory is wrapped by an array.
py::object pin(const py::object& owner);

// A NumPy array over shared memory [data, ...) whose base is `guard` (from pin()).
py::array shared_array(const py::object& guard, const void* data, const py::dtype& dtype,
                       const std::vector<py::ssize_t>& shape, const std::vector<py::ssize_t>& strides, bool writable);
py::array shared_bytes(const py::object& guard, const void* data, std::size_t size, bool writable);
// Fills `strides` for a C-contiguous array of `shape` and `itemsize`.
std::vector<py::ssize_t> contiguous_strides(const std::vector<py::ssize_t>& shape, py::ssize_t itemsize);
// Makes an array read-only in place (cheaper than setflags()).
void make_read_only(py::array& a);

// Gives a class the buffer protocol by delegating to the NumPy array its `_buffer_array()`
// method returns: memoryview(x) then holds that array (and through it the export), and an
// exception from the method (Closed, ...) is raised normally. (pybind11's def_buffer cannot
// report errors: an exception there aborts the process.)
void delegate_buffer_protocol(const py::handle& type);

// ---- input data ----------------------------------------------------------------------------

// A contiguous read of a Python message: bytes, bytearray, memoryview, a C-contiguous NumPy
// array or anything else with the buffer protocol, or str (encoded as UTF-8). Holds the
// buffer (and the encoded str) while alive.
class input_bytes {
public:
    explicit input_bytes(const py::handle& data);
    ~input_bytes();
    input_bytes(const input_bytes&) = delete;
    input_bytes& operator=(const input_bytes&) = delete;
    const void* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }

private:
    py::object keep_;
    Py_buffer view_{};
    bool has_view_ = false;
    const void* data_ = nullptr;
    std::size_t size_ = 0;
};

// Sends one message with `send(data, size)` (returns errc); see handle_base::copying().
template <class H, class Send>
errc send(H& h, const py::handle& data, Send&& send_) {
    input_bytes in(data);
    return h.copying(in.size(), [&] { return send_(in.data(), in.size()); });
}

// A writable buffer the caller passed for read_into(); raises TypeError/BufferError otherwise.
class output_buffer {
public:
    explicit output_buffer(const py::handle& target);
    ~output_buffer();
    output_buffer(const output_buffer&) = delete;
    output_buffer& operator=(const output_buffer&) = delete;
    void* data() const noexcept { return view_.buf; }
    std::size_t size() const noexcept { return static_cast<std::size_t>(view_.len); }

private:
    Py_buffer view_{};
};

// ---- registration --------------------------------------------------------------------------

void bind_common(py::module_& m);
void bind_messaging(py::module_& m);
void bind_duplex(py::module_& m);
void bind_block(py::module_& m);
void bind_slots(py::module_& m);
void bind_kv(py::module_& m);
void bind_select(py::module_& m);
void bind_inventory(py::module_& m);

}  // namespace shmkit::python

namespace pybind11::detail {
template <>
struct type_caster<shmkit::python::segment_name> {
    PYBIND11_TYPE_CASTER(shmkit::python::segment_name, const_name("str"));
    bool load(handle src, bool) {
        if (!PyUnicode_Check(src.ptr())) return false;
        PyObject* bytes = PyUnicode_AsEncodedString(src.ptr(), "utf-8", "surrogateescape");
        if (bytes == nullptr) {  // a lone surrogate outside U+DC80..U+DCFF
            PyErr_Clear();
            return false;
        }
        const std::string given(PyBytes_AS_STRING(bytes), static_cast<std::size_t>(PyBytes_GET_SIZE(bytes)));
        Py_DECREF(bytes);
        value.assign(shmkit::inventory::normalize_name(given));
        return true;
    }
    static handle cast(const shmkit::python::segment_name& name, return_value_policy, handle) {
        return shmkit::python::fs_text(name).release();
    }
};
}  // namespace pybind11::detail
