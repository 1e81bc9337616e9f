// shmkit.Block (a raw named block with a cross-process reader-writer lock) and shmkit.TypedView
// (typed sequential access under that lock).
#include <pybind11/stl.h>

#include <cstring>
#include <deque>
#include <map>
#include <thread>

#include "common.hpp"
#include "shmkit/block.hpp"
#include "shmkit/typed.hpp"

namespace shmkit::python {
namespace {

struct py_block final : handle_base {
    block impl;
    // The locks held through this handle, by thread (changed under the mutex): a thread that asks
    // for a lock it would wait on itself for is refused instead of hanging.
    std::map<std::thread::id, int> shared_by;
    int shared_total = 0;
    bool exclusive_held = false;
    std::thread::id exclusive_owner{};

    // The lock thread `me` holds through this handle (call under the mutex).
    enum class held { none, read, write };
    held held_by(std::thread::id me) const {
        if (exclusive_held && exclusive_owner == me) return held::write;
        return shared_by.count(me) != 0 ? held::read : held::none;
    }

    // Locks still held are released with the handle, as a process exit would release them.
    void release_all() noexcept {
        if (exclusive_held) impl.unlock();
        for (; shared_total > 0; --shared_total) impl.unlock_shared();
        shared_by.clear();
        exclusive_held = false;
    }
    void close_impl() noexcept override {
        release_all();
        impl.close();
    }
    errc unlink_impl() noexcept override { return impl.unlink(); }
    // A handle garbage-collected without close(): nothing else can be using it any more.
    ~py_block() override {
        if (!closed()) release_all();
    }
};

void release(py_block& b, bool exclusive) {
    const auto me = std::this_thread::get_id();
    const bool released = b.quick([&] {
        if (exclusive) {
            if (!b.exclusive_held) return false;
            b.impl.unlock();
            b.exclusive_held = false;
            return true;
        }
        if (b.shared_total == 0) return false;
        // This thread's read lock if it has one, else another thread's (a lock may be released
        // by a thread other than the one that took it, as with threading.Lock).
        auto it = b.shared_by.find(me);
        if (it == b.shared_by.end()) it = b.shared_by.begin();
        if (--it->second == 0) b.shared_by.erase(it);
        --b.shared_total;
        b.impl.unlock_shared();
        return true;
    });
    if (!released) {
        throw std::runtime_error(exclusive ? "unlock() without holding the write lock"
                                           : "unlock_shared() without holding a read lock");
    }
}

// Takes the lock. True: held and consistent. False: held, but a holder died mid-write (only
// with accept_inconsistent; otherwise the lock is released and OwnerDead raised).
bool acquire(py_block& b, bool exclusive, const timeout_arg& timeout, bool accept_inconsistent) {
    const auto me = std::this_thread::get_id();
    const char* self_wait = b.quick([&]() -> const char* {
        const py_block::held held = b.held_by(me);
        if (held == py_block::held::write) {
            return "this thread already holds the write lock through this handle (the lock is not recursive)";
        }
        if (exclusive && held == py_block::held::read) {
            return "this thread holds a read lock through this handle: the write lock would wait for it forever";
        }
        return nullptr;
    });
    if (self_wait != nullptr) throw std::runtime_error(self_wait);
    const errc e = b.sliced(timeout, errc::lock_timeout, [&](nanoseconds slice) {
        const errc got = exclusive ? b.impl.lock(slice) : b.impl.lock_shared(slice);
        if (got == errc::ok || got == errc::owner_dead) {  // held: recorded in the same locked step
            if (exclusive) {
                b.exclusive_held = true;
                b.exclusive_owner = me;
            } else {
                ++b.shared_by[me];
                ++b.shared_total;
            }
        }
        return got;
    });
    if (e != errc::ok && e != errc::owner_dead) raise(e, what(b, exclusive ? "write lock" : "read lock"));
    if (e == errc::ok) return true;
    if (accept_inconsistent) return false;
    release(b, exclusive);
    raise(errc::owner_dead, what(b, exclusive ? "write lock" : "read lock") +
                                " (pass accept_inconsistent=True to take it, repair the data and call mark_consistent())");
}

// The lock one typed call works under. A lock this thread already holds through the handle
// (inside write_lock() or read_lock(), or between lock() and unlock()) is used as it is: the call
// neither takes nor releases one (the lock is not recursive, and several calls inside one held
// lock are one update). A read needs either lock, a write the write lock: a write inside a read
// lock raises. Otherwise the call takes the lock it needs and releases it on scope exit.
class typed_call_lock {
public:
    typed_call_lock(py_block& b, bool exclusive, const timeout_arg& timeout) : b_(b), exclusive_(exclusive) {
        const py_block::held held = b.quick([&] { return b.held_by(std::this_thread::get_id()); });
        if (held == py_block::held::write || (held == py_block::held::read && !exclusive)) return;
        if (held == py_block::held::read) {
            throw std::runtime_error("this thread holds a read lock through this handle: a write needs the write lock "
                                     "(write inside write_lock())");
        }
        acquire(b, exclusive, timeout, false);
        taken_ = true;
    }
    ~typed_call_lock() {
        if (!taken_) return;
        try {
            release(b_, exclusive_);
        } catch (...) {
        }
    }
    typed_call_lock(const typed_call_lock&) = delete;
    typed_call_lock& operator=(const typed_call_lock&) = delete;

private:
    py_block& b_;
    bool exclusive_;
    bool taken_ = false;
};

// ---- typed access --------------------------------------------------------------------------

// A tag: one value of a scalar type, a str or bytes, or a list of scalars or of strs.
struct type_spec {
    enum class shape { scalar, string, bytes, list, string_list } form = shape::scalar;
    typed_type item = typed_type::i32;  // the scalar type of a scalar or a list
};

// The scalar tags, with membridge's names for i64 and f64.
bool parse_scalar(const std::string& s, typed_type* out) {
    static const std::pair<const char*, typed_type> names[] = {
        {"bool", typed_type::boolean}, {"u8", typed_type::u8},   {"i32", typed_type::i32},   {"u32", typed_type::u32},
        {"i64", typed_type::i64},      {"int", typed_type::i64}, {"u64", typed_type::u64},   {"f32", typed_type::f32},
        {"f64", typed_type::f64},      {"float", typed_type::f64}};
    for (const auto& n : names) {
        if (s == n.first) {
            *out = n.second;
            return true;
        }
    }
    return false;
}

type_spec parse_type(const std::string& s) {
    type_spec t;
    if (s == "str") {
        t.form = type_spec::shape::string;
        return t;
    }
    if (s == "bytes") {
        t.form = type_spec::shape::bytes;
        return t;
    }
    if (s == "list[str]") {
        t.form = type_spec::shape::string_list;
        return t;
    }
    if (s.size() > 6 && s.compare(0, 5, "list[") == 0 && s.back() == ']' && parse_scalar(s.substr(5, s.size() - 6), &t.item)) {
        t.form = type_spec::shape::list;
        return t;
    }
    if (parse_scalar(s, &t.item)) return t;
    throw py::value_error("unknown type '" + s +
                          "': bool, u8, i32, u32, i64 (int), u64, f32, f64 (float), str, bytes, list[<scalar>] or "
                          "list[str]");
}

// Calls f with a value of the C++ type of scalar type `t`.
template <class F>
auto with_scalar(typed_type t, F&& f) {
    switch (t) {
        case typed_type::boolean: return f(bool{});
        case typed_type::u8: return f(std::uint8_t{});
        case typed_type::i32: return f(std::int32_t{});
        case typed_type::u32: return f(std::uint32_t{});
        case typed_type::i64: return f(std::int64_t{});
        case typed_type::u64: return f(std::uint64_t{});
        case typed_type::f32: return f(float{});
        case typed_type::f64: return f(double{});
        case typed_type::string:
        case typed_type::bytes: break;  // not scalars: parse_type never makes them one
    }
    return f(std::int32_t{});
}

// The bytes left after the cursor and a u32 prefix: what a length read from the block may claim
// at most (checked before allocating, so a corrupt prefix cannot ask for gigabytes).
std::size_t room_after_prefix(const typed_cursor& c) {
    const std::size_t left = c.size() - c.position();
    return left < 4 ? 0 : left - 4;
}

// Names a typed access ("'name' read u32") in the errors it raises; the text is built only then.
struct typed_access {
    const handle_base& handle;
    const char* op;
    const std::string& type;
    [[noreturn]] void fail(errc e) const { raise(e, what(handle, op + (" " + type))); }
    void check(errc e) const {
        if (failed(e)) fail(e);
    }
};

py::object read_string_at(typed_cursor& c, bool text, const typed_access& ctx) {
    auto n = c.peek_length();
    if (!n) ctx.fail(n.error());
    if (*n > room_after_prefix(c)) ctx.fail(errc::out_of_range);
    std::string buf(*n, '\0');
    auto r = text ? c.read_string(buf.data(), buf.size()) : c.read_bytes(buf.data(), buf.size());
    if (!r) ctx.fail(r.error());
    if (text) return py::str(buf.data(), *r);
    return py::bytes(buf.data(), *r);
}

py::object typed_read(typed_cursor& c, const type_spec& t, const typed_access& ctx) {
    switch (t.form) {
        case type_spec::shape::string: return read_string_at(c, true, ctx);
        case type_spec::shape::bytes: return read_string_at(c, false, ctx);
        case type_spec::shape::scalar:
            return with_scalar(t.item, [&](auto v) -> py::object {
                auto r = c.read<decltype(v)>();
                if (!r) ctx.fail(r.error());
                return py::cast(*r);
            });
        case type_spec::shape::list:
            return with_scalar(t.item, [&](auto v) -> py::object {
                using T = decltype(v);
                auto n = c.peek_length();
                if (!n) ctx.fail(n.error());
                const std::size_t width = std::is_same_v<T, bool> ? 1 : sizeof(T);
                if (*n > room_after_prefix(c) / width) ctx.fail(errc::out_of_range);
                std::vector<std::conditional_t<std::is_same_v<T, bool>, char, T>> items(*n);
                // std::vector<bool> has no data(): read bools through a char-sized buffer.
                auto r = c.read_list<T>(reinterpret_cast<T*>(items.data()), items.size());
                if (!r) ctx.fail(r.error());
                py::list out;
                for (std::size_t i = 0; i < *r; ++i) out.append(py::cast(static_cast<T>(items[i])));
                return out;
            });
        case type_spec::shape::string_list: {
            const std::size_t start = c.position();
            auto n = c.read<std::uint32_t>();
            if (!n) ctx.fail(n.error());
            if (*n > (c.size() - c.position()) / 4) {  // every string takes at least its prefix
                static_cast<void>(c.seek(start));
                ctx.fail(errc::out_of_range);
            }
            py::list out;
            for (std::uint32_t i = 0; i < *n; ++i) {
                try {
                    out.append(read_string_at(c, true, ctx));
                } catch (...) {
                    static_cast<void>(c.seek(start));
                    throw;
                }
            }
            return out;
        }
    }
    return py::none();
}

// `value` as a T: OverflowError for an int that does not fit (256 as a u8), TypeError for a value
// of another kind (pybind11's own failure says neither).
template <class T>
T scalar_of(const py::handle& value, const typed_access& ctx) {
    try {
        return value.cast<T>();
    } catch (const py::cast_error&) {
        const std::string what_type = "'" + ctx.type + "'";
        if (std::is_integral_v<T> && !std::is_same_v<T, bool> && PyLong_Check(value.ptr())) {
            PyErr_SetString(PyExc_OverflowError, (py::str(value).cast<std::string>() + " does not fit in " + what_type).c_str());
            throw py::error_already_set();
        }
        throw py::type_error(std::string("a ") + Py_TYPE(value.ptr())->tp_name + " is not a value of " + what_type);
    }
}

void typed_write(typed_cursor& c, const type_spec& t, const py::handle& value, const typed_access& ctx) {
    switch (t.form) {
        case type_spec::shape::string: {
            const std::string s = value.cast<std::string>();
            ctx.check(c.write_string(s.data(), s.size()));
            return;
        }
        case type_spec::shape::bytes: {
            input_bytes in(value);
            ctx.check(c.write_bytes(in.data(), in.size()));
            return;
        }
        case type_spec::shape::scalar:
            with_scalar(t.item, [&](auto v) {
                ctx.check(c.write<decltype(v)>(scalar_of<decltype(v)>(value, ctx)));
                return 0;
            });
            return;
        case type_spec::shape::list:
            with_scalar(t.item, [&](auto v) {
                using T = decltype(v);
                using S = std::conditional_t<std::is_same_v<T, bool>, char, T>;  // std::vector<bool> has no data()
                std::vector<S> items;
                for (const py::handle item : value) items.push_back(static_cast<S>(scalar_of<T>(item, ctx)));
                ctx.check(c.write_list<T>(reinterpret_cast<const T*>(items.data()), items.size()));
                return 0;
            });
            return;
        case type_spec::shape::string_list: {
            std::vector<std::string> items;
            std::size_t total = 4;
            for (const py::handle item : value) {
                items.push_back(item.cast<std::string>());
                total += 4 + items.back().size();
            }
            // All or nothing: a list that does not fit is refused before any byte is written.
            if (total > c.size() - c.position()) ctx.fail(errc::out_of_range);
            const std::size_t start = c.position();
            errc e = c.write<std::uint32_t>(static_cast<std::uint32_t>(items.size()));
            for (std::size_t i = 0; i < items.size() && !failed(e); ++i) e = c.write_string(items[i].data(), items[i].size());
            if (failed(e)) static_cast<void>(c.seek(start));  // nothing half-written counts
            ctx.check(e);
            return;
        }
    }
}

// Python values written without a tag, as membridge infers them: bool -> bool, int -> i64,
// float -> f64, str -> str, bytes/bytearray/memoryview -> bytes. Everything is converted (and
// refused) before the block is locked; strs and bytes are not copied: `held` keeps them.
struct untagged_values {
    std::deque<input_bytes> held;  // a deque never moves what it holds
    std::vector<typed_item> items;

    void add(const py::handle& v) {
        PyObject* o = v.ptr();
        if (PyBool_Check(o)) {  // before int: bool is an int
            items.emplace_back(o == Py_True);
        } else if (PyLong_Check(o)) {
            int overflow = 0;
            const long long x = PyLong_AsLongLongAndOverflow(o, &overflow);
            if (overflow != 0) {
                PyErr_SetString(PyExc_OverflowError, "an int written without a type is an i64: give the type of a "
                                                     "larger one, e.g. write('u64', x)");
                throw py::error_already_set();
            }
            if (x == -1 && PyErr_Occurred() != nullptr) throw py::error_already_set();
            items.emplace_back(static_cast<std::int64_t>(x));
        } else if (PyFloat_Check(o)) {
            items.emplace_back(PyFloat_AS_DOUBLE(o));
        } else if (PyUnicode_Check(o)) {
            const input_bytes& text = held.emplace_back(v);  // its UTF-8, cached on the str
            items.push_back(typed_item::string(static_cast<const char*>(text.data()), text.size()));
        } else if (PyBytes_Check(o) || PyByteArray_Check(o) || PyMemoryView_Check(o)) {
            const input_bytes& bytes = held.emplace_back(v);
            items.push_back(typed_item::bytes(bytes.data(), bytes.size()));
        } else {
            throw py::type_error(std::string("cannot tell the type of a ") + Py_TYPE(o)->tp_name +
                                 " to write: bool, int (i64), float (f64), str or bytes; or give its type, "
                                 "e.g. write('u32', x)");
        }
    }
};

struct py_typed_view {
    py::object owner;
    py_block* b;
    std::size_t position = 0;
    timeout_arg lock_timeout;

    typed_cursor cursor(std::size_t at) {
        b->ensure_open();
        typed_cursor c(b->impl.data(), b->impl.size(), b->impl.writable());
        check(c.seek(at), *b, "seek");
        return c;
    }
    void check_writable(const char* op) {
        b->ensure_open();
        if (!b->impl.writable()) raise(errc::access_denied, what(*b, op));
    }
    py::object read(const std::string& type, std::optional<std::size_t> at) {
        const type_spec t = parse_type(type);
        typed_call_lock lock(*b, false, lock_timeout);
        const py::object guard = pin(owner);  // mapped for the rest of the call, whatever runs
        typed_cursor c = cursor(at.value_or(position));
        py::object v = typed_read(c, t, typed_access{*b, "read", type});
        if (!at) position = c.position();
        return v;
    }
    void write(const std::string& type, const py::handle& value, std::optional<std::size_t> at) {
        const type_spec t = parse_type(type);
        check_writable("write");
        typed_call_lock lock(*b, true, lock_timeout);
        const py::object guard = pin(owner);  // user code converting `value` cannot close the block
        typed_cursor c = cursor(at.value_or(position));
        typed_write(c, t, value, typed_access{*b, "write", type});
        if (!at) position = c.position();
    }
    // Values whose types were inferred, as one operation: all or nothing.
    void write_untagged(const untagged_values& values, std::optional<std::size_t> at, const char* op) {
        check_writable(op);
        typed_call_lock lock(*b, true, lock_timeout);
        const py::object guard = pin(owner);
        typed_cursor c = cursor(at.value_or(position));
        check(c.write_items(values.items.data(), values.items.size()), *b, op);
        if (!at) position = c.position();
    }
    void write_inferred(const py::handle& value, std::optional<std::size_t> at) {
        untagged_values values;
        values.add(value);
        write_untagged(values, at, "write");
    }
    void write_mixed(const py::iterable& items, std::optional<std::size_t> at) {
        untagged_values values;
        for (const py::handle item : items) {
            if (PyList_Check(item.ptr()) || PyTuple_Check(item.ptr())) {  // a group: its values in turn
                for (const py::handle v : item) values.add(v);
            } else {
                values.add(item);
            }
        }
        write_untagged(values, at, "write_mixed");
    }
    // For each (tag, count) of the schema, `count` values: a list of them, or the value itself
    // for a count of 1 (membridge's rule) or a bare tag. One operation: on any error nothing is
    // consumed.
    py::list read_mixed(const py::iterable& schema, std::optional<std::size_t> at) {
        struct entry {
            std::string tag;
            type_spec type;
            std::size_t count;
            bool single;
        };
        std::vector<entry> entries;
        for (const py::handle e : schema) {
            if (PyUnicode_Check(e.ptr())) {
                const std::string tag = e.cast<std::string>();
                entries.push_back({tag, parse_type(tag), 1, true});
                continue;
            }
            const auto pair = e.cast<py::sequence>();
            if (pair.size() != 2) throw py::type_error("a schema entry is a tag or a (tag, count) pair");
            const std::string tag = pair[0].cast<std::string>();
            const auto count = pair[1].cast<std::size_t>();
            entries.push_back({tag, parse_type(tag), count, count == 1});
        }
        typed_call_lock lock(*b, false, lock_timeout);
        const py::object guard = pin(owner);
        typed_cursor c = cursor(at.value_or(position));
        py::list out;
        for (const entry& e : entries) {
            const typed_access ctx{*b, "read_mixed", e.tag};
            if (e.single) {
                out.append(typed_read(c, e.type, ctx));
                continue;
            }
            // Every value takes at least a byte: a count larger than what is left fails at the end
            // of the block, long before the list could grow large.
            py::list values;
            for (std::size_t i = 0; i < e.count; ++i) values.append(typed_read(c, e.type, ctx));
            out.append(values);
        }
        if (!at) position = c.position();  // only once every value was read
        return out;
    }
    void zero() {
        check_writable("zero");
        typed_call_lock lock(*b, true, lock_timeout);
        const py::object guard = pin(owner);
        typed_cursor c = cursor(0);
        check(c.zero(), *b, "zero");
    }
};

}  // namespace

void bind_block(py::module_& m) {
    py::class_<py_block, handle_base> block_class(m, "Block", R"doc(
A raw named block of shared bytes, with a cross-process reader-writer lock for code that needs
one. The block itself supports the buffer protocol (memoryview(block), numpy.asarray(block):
uint8, read-only when attached read-only); array() gives typed views. Locks survive the death
of any holder: a lock taken from a writer that died raises OwnerDead unless the caller accepts
to repair the data (accept_inconsistent=True, then mark_consistent()).
)doc");
    block_class
        .def_static(
            "create",
            [](const segment_name& name, std::uint64_t size, std::uint32_t reader_slots, bool replace_stale,
               bool replace_existing, bool prefault, bool reserve_memory, std::uint32_t mode, bool allow_membarrier) {
                block_config c;
                c.size = size;
                c.reader_slots = reader_slots;
                block_options o;
                o.segment = segment_options_from(replace_stale, prefault, reserve_memory, mode, allow_membarrier, 0.5);
                o.segment.replace_existing = replace_existing;
                return open_handle<py_block>(name, "create", [&] { return block::create(name.c_str(), c, o); });
            },
            py::arg("name"), py::arg("size") = 4096, py::kw_only(), py::arg("reader_slots") = 64,
            py::arg("replace_stale") = true, py::arg("replace_existing") = false, py::arg("prefault") = false,
            py::arg("reserve_memory") = true, py::arg_v("mode", 0600, "0o600"), py::arg("allow_membarrier") = true,
            (std::string("Creates a zeroed block of `size` bytes. reader_slots: handles that may hold locks at once "
                         "(1..4096). replace_existing: remove whatever segment has the name, even one in use, and "
                         "create afresh (handles open on the old one keep it, alone); otherwise a live one raises "
                         "AlreadyExists. ") +
             reserve_memory_doc)
                .c_str())
        .def_static(
            "open_or_create",
            [](const segment_name& name, std::uint64_t size, std::uint32_t reader_slots, bool prefault,
               bool reserve_memory, std::uint32_t mode, bool allow_membarrier, double ready_timeout) {
                block_config c;
                c.size = size;
                c.reader_slots = reader_slots;
                block_options o;
                o.segment = sliced_ready_wait(
                    segment_options_from(true, prefault, reserve_memory, mode, allow_membarrier, ready_timeout));
                return open_handle<py_block>(name, "open_or_create",
                                             [&] { return block::open_or_create(name.c_str(), c, o); }, ready_timeout);
            },
            py::arg("name"), py::arg("size") = 4096, py::kw_only(), py::arg("reader_slots") = 64,
            py::arg("prefault") = false, py::arg("reserve_memory") = true, py::arg_v("mode", 0600, "0o600"),
            py::arg("allow_membarrier") = true, py::arg("ready_timeout") = 0.5,
            (std::string("Opens the block of that name, or creates it (as create()) if there is none, in one call; "
                         "of processes racing, one creates and the others open its block. SizeMismatch if the block "
                         "there has another size. ") +
             reserve_memory_doc)
                .c_str())
        .def_static(
            "open",
            [](const segment_name& name, bool read_only, double ready_timeout) {
                block_options o;
                o.access = read_only ? os::access::read_only : os::access::read_write;
                o.segment = attach_segment_options(ready_timeout);
                return open_handle<py_block>(name, "open", [&] { return block::open(name.c_str(), o); }, ready_timeout);
            },
            py::arg("name"), py::kw_only(), py::arg("read_only") = false, py::arg("ready_timeout") = 0.5,
            "Attaches to a block. read_only: the data is mapped read-only (writes raise AccessDenied).")
        .def_property_readonly("size", &ask<py_block, &impl_of<py_block>::size>,
                               "Bytes of data.")
        .def_property_readonly("writable", &ask<py_block, &impl_of<py_block>::writable>,
                               "False when attached read-only.")
        .def_property_readonly("can_lock", &ask<py_block, &impl_of<py_block>::can_lock>,
                               "False when attached read-only to an object this process may not open for writing.")
        .def_property_readonly("reader_count", &ask<py_block, &impl_of<py_block>::reader_count>,
                               "Read locks held now by live processes, this handle's included (a snapshot, for "
                               "monitoring).")
        .def_property_readonly("is_write_locked", &ask<py_block, &impl_of<py_block>::is_write_locked>,
                               "Whether a live process holds the write lock, or has claimed it and waits for the "
                               "readers to leave (a snapshot, for monitoring).")
        .def(
            "array",
            [](py::object self, const py::object& dtype, const py::object& shape, std::size_t offset) {
                auto& b = self.cast<py_block&>();
                const py::dtype dt = py::dtype::from_args(dtype);
                // Object dtypes would make NumPy dereference pointers read from shared memory.
                if (dt.attr("hasobject").cast<bool>()) throw py::type_error("dtypes holding Python objects cannot view shared memory");
                const auto item = static_cast<std::size_t>(dt.itemsize());
                if (item == 0) throw py::value_error("dtype has no size");
                std::vector<py::ssize_t> dims;
                if (shape.is_none()) {
                    if (offset > b.impl.size()) raise(errc::out_of_range, what(b, "array"));
                    dims.push_back(static_cast<py::ssize_t>((b.impl.size() - offset) / item));
                } else if (py::isinstance<py::int_>(shape)) {
                    dims.push_back(shape.cast<py::ssize_t>());
                } else {
                    dims = shape.cast<std::vector<py::ssize_t>>();
                }
                const py::object guard = pin(self);  // before the pointer is taken
                if (offset > b.impl.size()) raise(errc::out_of_range, what(b, "array"));
                const std::size_t room = (b.impl.size() - offset) / item;  // elements that fit
                // The product of the non-zero dimensions must fit: it bounds every stride too, so
                // an empty array with huge other dimensions cannot overflow one.
                std::size_t span = 1;
                for (py::ssize_t d : dims) {
                    if (d < 0) throw py::value_error("negative dimension");
                    if (d == 0) continue;
                    if (span > room / static_cast<std::size_t>(d)) raise(errc::out_of_range, what(b, "array"));
                    span *= static_cast<std::size_t>(d);
                }
                return shared_array(guard, b.impl.data() + offset, dt, dims, contiguous_strides(dims, dt.itemsize()),
                                    b.impl.writable());
            },
            py::arg("dtype") = "uint8", py::arg("shape") = py::none(), py::arg("offset") = 0,
            "A NumPy array over the block's bytes at `offset` (zero-copy; read-only when attached read-only). "
            "No locking: hold read_lock()/write_lock() around accesses that must be consistent.")
        .def(
            "read",
            [](py_block& b, std::size_t offset, std::optional<std::size_t> size) {
                b.ensure_open();
                if (offset > b.impl.size()) raise(errc::out_of_range, what(b, "read"));
                const std::size_t n = size.value_or(b.impl.size() - offset);
                if (n > b.impl.size() - offset) raise(errc::out_of_range, what(b, "read"));  // before allocating
                PyObject* out = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(n));
                if (out == nullptr) throw py::error_already_set();
                py::bytes result = py::reinterpret_steal<py::bytes>(out);
                char* dst = PyBytes_AS_STRING(out);
                check(b.copying(n, [&] { return b.impl.read_at(offset, dst, n); }), b, "read");
                return result;
            },
            py::arg("offset") = 0, py::arg("size") = py::none(),
            "Copies `size` bytes at `offset` (default: to the end). OutOfRange beyond the end. No locking.")
        .def(
            "write",
            [](py_block& b, const py::handle& data, std::size_t offset) {
                check(send(b, data, [&](const void* p, std::size_t n) { return b.impl.write_at(offset, p, n); }), b,
                      "write");
            },
            py::arg("data"), py::arg("offset") = 0,
            "Copies bytes (or str, or any buffer) in at `offset`. OutOfRange, AccessDenied. No locking.")
        .def(
            "lock_shared",
            [](py_block& b, timeout_arg timeout, bool accept_inconsistent) {
                return acquire(b, false, timeout, accept_inconsistent);
            },
            py::arg("timeout") = py::none(), py::kw_only(), py::arg("accept_inconsistent") = false,
            "Takes a read lock, waiting up to `timeout` seconds (LockTimeout). Returns True; False only with "
            "accept_inconsistent=True when a writer died holding the lock (else OwnerDead is raised).")
        .def("unlock_shared", [](py_block& b) { release(b, false); }, "Releases one read lock this handle holds.")
        .def(
            "lock",
            [](py_block& b, timeout_arg timeout, bool accept_inconsistent) {
                return acquire(b, true, timeout, accept_inconsistent);
            },
            py::arg("timeout") = py::none(), py::kw_only(), py::arg("accept_inconsistent") = false,
            "Takes the write lock (see lock_shared for the return value and errors).")
        .def("unlock", [](py_block& b) { release(b, true); }, "Releases the write lock.")
        .def(
            "mark_consistent",
            [](py_block& b) {
                const bool held = b.quick([&] {
                    if (b.exclusive_held) b.impl.mark_consistent();
                    return b.exclusive_held;
                });
                if (!held) throw std::runtime_error("mark_consistent() needs the write lock");
            },
            "After a write lock taken with accept_inconsistent=True returned False: the data is repaired; "
            "later lockers are no longer told OwnerDead.")
        .def(
            "typed",
            [](py::object self, timeout_arg lock_timeout) {
                auto& b = self.cast<py_block&>();
                b.ensure_open();
                return py_typed_view{self, &b, 0, lock_timeout};
            },
            py::arg("lock_timeout") = py::none(),
            "A TypedView: typed values at a cursor, each access under the block's lock, waiting up to "
            "`lock_timeout` seconds for it (None: forever; LockTimeout).")
        .def("_buffer_array", [](py::object self) {
            auto& b = self.cast<py_block&>();
            const py::object guard = pin(self);
            return shared_bytes(guard, b.impl.data(), b.impl.size(), b.impl.writable());
        });
    delegate_buffer_protocol(block_class);

    py::class_<py_typed_view>(m, "TypedView", R"doc(
Typed sequential access to a Block (membridge parity). Types: bool, u8, i32, u32, i64 (or int),
u64, f32, f64 (or float), str (UTF-8), bytes, list[<scalar>], list[str]; little-endian,
unaligned; str, bytes and lists carry a u32 length. A value written without a type is inferred:
bool, int (i64), float (f64), str, bytes. Reads and writes advance the cursor unless `at=`
gives an offset. Each call takes the block's lock (shared to read, exclusive to write), unless
this thread already holds it through the block (with block.write_lock(): or read_lock():), when
the call uses that lock: several calls inside one write_lock() are one update.
)doc")
        .def("read", &py_typed_view::read, py::arg("type"), py::kw_only(), py::arg("at") = py::none(),
             "Reads one value of `type` at the cursor (or at offset `at`). OutOfRange, InvalidLayout "
             "(e.g. a str that is not UTF-8), OwnerDead.")
        .def("write", &py_typed_view::write, py::arg("type"), py::arg("value"), py::kw_only(), py::arg("at") = py::none(),
             "Writes one value of `type` at the cursor (or at offset `at`). OutOfRange writes nothing.")
        .def("write", &py_typed_view::write_inferred, py::arg("value"), py::kw_only(), py::arg("at") = py::none(),
             "Writes one value of the type its Python type gives: bool, int (i64), float (f64), str, bytes "
             "(TypeError for others; OverflowError for an int beyond i64).")
        .def("write_mixed", &py_typed_view::write_mixed, py::arg("items"), py::kw_only(), py::arg("at") = py::none(),
             "Writes values of inferred types one after the other, as one operation under one lock: all of them, "
             "or none (OutOfRange when they do not all fit). An item that is a list or tuple gives its values in turn.")
        .def("read_mixed", &py_typed_view::read_mixed, py::arg("schema"), py::kw_only(), py::arg("at") = py::none(),
             "Reads, as one operation under one lock, for each (tag, count) of `schema` a list of `count` values, "
             "or the value itself for a count of 1 or a bare tag. On an error nothing is consumed.")
        .def("zero", &py_typed_view::zero, "Zeroes the whole block under the write lock; the cursor stays.")
        .def(
            "seek",
            [](py_typed_view& v, std::size_t pos) {
                v.b->ensure_open();
                if (pos > v.b->impl.size()) raise(errc::out_of_range, what(*v.b, "seek"));
                v.position = pos;
            },
            py::arg("position") = 0, "Moves the cursor to `position` (default: the start; OutOfRange beyond the end).")
        .def("tell", [](const py_typed_view& v) { return v.position; }, "The cursor's offset (as `position`).")
        .def_property_readonly("position", [](const py_typed_view& v) { return v.position; },
                               "The cursor's offset in the block.")
        .def_property_readonly("block", [](const py_typed_view& v) { return v.owner; },
                               "The Block this view reads and writes.");
}

}  // namespace shmkit::python
