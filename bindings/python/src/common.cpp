// Errors, timeouts, handle lifetimes and shared-memory arrays (see common.hpp).
#include "common.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>

#include "shmkit/detail/wait.hpp"
#include "shmkit/os.hpp"

namespace shmkit::python {
namespace {

py::object* error_classes = nullptr;  // indexed by errc; leaked on purpose (module lifetime)

// The Python class of each code (core/include/shmkit/errc.hpp lists them once).
constexpr const char* python_class_names[] = {
#define SHMKIT_ERRC_CLASS(code, python_class, meaning) #python_class,
    SHMKIT_ERRC_LIST(SHMKIT_ERRC_CLASS)
#undef SHMKIT_ERRC_CLASS
};
static_assert(sizeof python_class_names / sizeof python_class_names[0] == errc_count);

py::object& error_class(errc e) {
    const int i = static_cast<int>(e);
    return error_classes[i >= 0 && i < errc_count ? i : static_cast<int>(errc::os_error)];
}

// Raises `cls(message)` with its code (and errno, when there is one) as attributes.
[[noreturn]] void throw_error(const py::object& cls, errc e, const std::string& message, int os_errno = 0) {
    py::object exc = cls(message);
    exc.attr("code") = to_string(e);
    if (os_errno != 0) exc.attr("os_errno") = os_errno;
    PyErr_SetObject(cls.ptr(), exc.ptr());
    throw py::error_already_set();
}

}  // namespace

void load_error_classes() {
    // The classes are written in Python (with their Python bases and docstrings); which class
    // serves which code comes from the one list in errc.hpp, and every class must exist.
    py::module_ errors = py::module_::import("shmkit._errors");
    error_classes = new py::object[errc_count];
    for (int i = 0; i < errc_count; ++i) {
        const auto e = static_cast<errc>(i);
        if (!py::hasattr(errors, python_class_names[i])) {
            throw py::import_error(std::string("shmkit._errors has no class ") + python_class_names[i] + " for errc::" +
                                   to_string(e));
        }
        error_classes[i] = errors.attr(python_class_names[i]);
        if (e != errc::ok) error_classes[i].attr("code") = to_string(e);
    }
}

void raise_as(const char* class_name, errc e, const std::string& what) {
    const std::string message = what.empty() ? std::string(explain(e)) : what + ": " + explain(e);
    throw_error(py::module_::import("shmkit._errors").attr(class_name), e, message);
}

void raise(errc e, const std::string& what) {
    std::string message = what.empty() ? std::string(explain(e)) : what + ": " + explain(e);
    int os_errno = 0;
    if (e == errc::os_error || e == errc::no_space) {
        os_errno = os::last_os_error();
        if (os_errno != 0) message += std::string(" (") + std::strerror(os_errno) + ")";
    }
    throw_error(error_class(e), e, message, os_errno);
}

void validate_timeout(const timeout_arg& timeout) {
    if (timeout && (std::isnan(*timeout) || *timeout < 0)) throw py::value_error("timeout must be None or a number >= 0");
}

std::uint64_t deadline_of(const timeout_arg& timeout) {
    validate_timeout(timeout);
    if (!timeout) return os::forever;
    const double seconds = *timeout;
    if (seconds > 1e9) return os::forever;  // more than 30 years: forever
    return deadline_after(nanoseconds(static_cast<std::int64_t>(seconds * 1e9)));
}

nanoseconds slice_until(std::uint64_t deadline) {
    const std::uint64_t now = os::monotonic_ns();
    if (now >= deadline) return nanoseconds(0);
    const std::uint64_t left = deadline - now;
    return nanoseconds(static_cast<std::int64_t>(left < wait_slice_ns ? left : wait_slice_ns));
}

void check_name(const std::string& name, const char* op) {
    // C++ takes names as C strings: "/a\0zzz" would silently become "/a".
    if (name.find('\0') != std::string::npos) {
        raise_message(errc::invalid_argument, what(name.substr(0, name.find('\0')), op) +
                                                  ": invalid name (it contains a NUL byte); " + inventory::name_rules);
    }
    if (failed(validate_name(name.c_str()))) {
        raise_message(errc::invalid_argument, what(name, op) + ": invalid name; " + inventory::name_rules);
    }
}

void raise_message(errc e, const std::string& message) { throw_error(error_class(e), e, message); }

py::str fs_text(const std::string& bytes) {
    PyObject* s = PyUnicode_DecodeUTF8(bytes.data(), static_cast<Py_ssize_t>(bytes.size()), "surrogateescape");
    if (s == nullptr) throw py::error_already_set();
    return py::reinterpret_steal<py::str>(s);
}

void check_signals() {
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
}

segment_options segment_options_from(bool replace_stale, bool prefault, bool reserve_memory, std::uint32_t mode,
                                     bool allow_membarrier, double ready_timeout) {
    if (std::isnan(ready_timeout) || ready_timeout < 0) throw py::value_error("ready_timeout must be >= 0");
    if (mode > 0777) {
        char octal[16];
        std::snprintf(octal, sizeof octal, "0o%o", mode);
        throw py::value_error(std::string("mode ") + octal + " is not permission bits: give 0 to 0o777 (e.g. 0o600)");
    }
    segment_options o;
    o.replace_stale = replace_stale;
    o.prefault = prefault;
    o.reserve_memory = reserve_memory;
    o.mode = mode;
    o.allow_membarrier = allow_membarrier;
    o.ready_wait_ns = static_cast<std::uint64_t>(ready_timeout * 1e9);
    o.return_on_signal = true;  // see open_handle()
    return o;
}

// ---- handles -------------------------------------------------------------------------------

void handle_base::ensure_open() const {
    if (closed() || closing_) raise(errc::not_open, name_);
}

void handle_base::close() {
    bool set_closing = false;
    for (;;) {
        if (closed()) return;  // another thread's close() finished meanwhile
        if (exports_ > 0) {
            if (set_closing) closing_ = false;
            throw py::buffer_error("cannot close '" + name_ + "': " + std::to_string(exports_) +
                                   " array(s), view(s) or reservation(s) still refer to its memory; "
                                   "delete them first");
        }
        if (active_ == 0) {
            // With the GIL held and no call in flight, nobody holds the mutex except quick()
            // calls, which hold the GIL too: the lock below cannot wait.
            std::lock_guard<std::mutex> lock(mutex_);
            close_impl();
            closed_.store(true, std::memory_order_release);
            closing_ = false;
            return;
        }
        // Another thread is inside a call with the GIL released. New calls now raise Closed, and
        // that one does at the end of its current slice; let it.
        if (!closing_) {
            closing_ = true;
            set_closing = true;
        }
        py::gil_scoped_release release;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

py::object pin(const py::object& owner) {
    auto* h = owner.cast<handle_base*>();
    h->add_export();
    if (h->closed() || h->closing()) {
        h->drop_export();
        h->ensure_open();  // raises Closed
    }
    std::unique_ptr<export_guard> guard;
    try {
        guard = std::make_unique<export_guard>(h, owner);  // adopts the export
    } catch (...) {
        h->drop_export();
        throw;
    }
    return py::cast(std::move(guard));
}

std::vector<py::ssize_t> contiguous_strides(const std::vector<py::ssize_t>& shape, py::ssize_t itemsize) {
    std::vector<py::ssize_t> strides(shape.size());
    py::ssize_t step = itemsize;
    for (std::size_t i = shape.size(); i-- > 0;) {
        strides[i] = step;
        step *= shape[i];
    }
    return strides;
}

void make_read_only(py::array& a) {
    py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
}

py::array shared_array(const py::object& guard, const void* data, const py::dtype& dtype,
                       const std::vector<py::ssize_t>& shape, const std::vector<py::ssize_t>& strides, bool writable) {
    py::array a(dtype, shape, strides, data, guard);
    if (!writable) make_read_only(a);
    return a;
}

py::array shared_bytes(const py::object& guard, const void* data, std::size_t size, bool writable) {
    const std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(size)};
    return shared_array(guard, data, py::dtype::of<std::uint8_t>(), shape, {1}, writable);
}

namespace {
extern "C" int delegated_getbuffer(PyObject* self, Py_buffer* view, int flags) {
    PyObject* array = PyObject_CallMethod(self, "_buffer_array", nullptr);
    if (array == nullptr) {
        view->obj = nullptr;
        return -1;
    }
    const int rc = PyObject_GetBuffer(array, view, flags);  // view->obj: the array
    Py_DECREF(array);
    return rc;
}
}  // namespace

void delegate_buffer_protocol(const py::handle& type) {
    auto* heap = reinterpret_cast<PyHeapTypeObject*>(type.ptr());
    heap->as_buffer.bf_getbuffer = delegated_getbuffer;
    heap->as_buffer.bf_releasebuffer = nullptr;  // the array's own release runs
    heap->ht_type.tp_as_buffer = &heap->as_buffer;
}

// ---- input data ----------------------------------------------------------------------------

namespace {
// Whether a buffer's struct-module format holds Python object pointers ('O'), outside the
// field names of a structured format ("T{<i:count:O:obj:}" holds one; ":Obj:" names one).
bool holds_objects(const char* format) {
    bool in_name = false;
    for (const char* p = format; p != nullptr && *p != '\0'; ++p) {
        if (*p == ':') in_name = !in_name;
        else if (!in_name && *p == 'O') return true;
    }
    return false;
}
}  // namespace

input_bytes::input_bytes(const py::handle& data) {
    if (PyUnicode_Check(data.ptr())) {
        Py_ssize_t n = 0;
        const char* utf8 = PyUnicode_AsUTF8AndSize(data.ptr(), &n);  // cached on the str object
        if (utf8 == nullptr) throw py::error_already_set();
        keep_ = py::reinterpret_borrow<py::object>(data);
        data_ = utf8;
        size_ = static_cast<std::size_t>(n);
        return;
    }
    if (PyObject_GetBuffer(data.ptr(), &view_, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) != 0) {
        PyErr_Clear();
        throw py::type_error(std::string("expected bytes, str or a C-contiguous buffer (bytearray, memoryview, "
                                         "numpy array), not ") +
                             Py_TYPE(data.ptr())->tp_name);
    }
    has_view_ = true;
    // An array of Python objects is an array of this process's pointers: meaningless, and
    // dangerous, to every other process.
    if (holds_objects(view_.format)) {
        PyBuffer_Release(&view_);
        has_view_ = false;
        throw py::type_error("buffers of Python objects (dtype=object) cannot be sent through shared memory");
    }
    data_ = view_.buf;
    size_ = static_cast<std::size_t>(view_.len);
}

input_bytes::~input_bytes() {
    if (has_view_) PyBuffer_Release(&view_);
}

output_buffer::output_buffer(const py::handle& target) {
    if (PyObject_GetBuffer(target.ptr(), &view_, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) != 0) {
        PyErr_Clear();
        throw py::type_error(std::string("expected a writable C-contiguous buffer (bytearray, memoryview, numpy "
                                         "array), not ") +
                             Py_TYPE(target.ptr())->tp_name);
    }
}

output_buffer::~output_buffer() { PyBuffer_Release(&view_); }

void bind_common(py::module_& m) {
    // (code, Python class name, meaning) of every error code but ok, for tests and tools.
    py::list codes;
    for (int i = 1; i < errc_count; ++i) {
        const auto e = static_cast<errc>(i);
        codes.append(py::make_tuple(to_string(e), python_class_names[i], explain(e)));
    }
    m.attr("_error_codes") = codes;
    py::class_<export_guard>(m, "_ExportGuard",
                             "Keeps a shmkit handle open while an array over its shared memory exists.");
}

}  // namespace shmkit::python
