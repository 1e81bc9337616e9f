// shmkit.KV: fixed-schema key/value state with lock-free reads, epochs and change waits.
#include <pybind11/stl.h>

#include <set>

#include "messages.hpp"
#include "shmkit/kv.hpp"

namespace shmkit::python {
namespace {

// A read that does not settle (a writer storing continuously) is retried longer than the C++
// default: a Python caller cannot retry as cheaply.
kv_options kv_options_from(const segment_options& segment) {
    auto o = interruptible<kv_options>(segment);
    o.read_retries = 4 * kv_options{}.read_retries;
    return o;
}

struct py_kv final : handle_base {
    kv_store impl;
    std::uint64_t seen = 0;  // epoch up to which changes() has reported (also select()'s)
    void close_impl() noexcept override { impl.close(); }
    errc unlink_impl() noexcept override { return impl.unlink(); }
    bool source(select_source* out) noexcept override {
        *out = impl.waitable(&seen);
        return true;
    }

    std::uint32_t index_of(const std::string& key) {
        auto i = quick([&] { return impl.find(key.data(), key.size()); });
        if (!i && i.error() == errc::not_found) throw py::key_error(key);
        if (!i) raise(i.error(), what(*this, "find"));
        return *i;
    }
    std::vector<std::string> names() {
        return quick([&] {
            std::vector<std::string> out;
            for (std::uint32_t i = 0; i < impl.key_count(); ++i) {
                std::size_t n = 0;
                const char* p = impl.key_name(i, &n);
                out.emplace_back(p, n);
            }
            return out;
        });
    }
    // The value and its epoch; (None, 0) for a key never written.
    std::pair<py::object, std::uint64_t> get(const std::string& key) { return get_at(index_of(key), key); }
    std::pair<py::object, std::uint64_t> get_at(std::uint32_t index, const std::string& key) {
        std::vector<std::uint8_t>& buf = staging_buffer(impl.max_value());
        const result<kv_value_info> r = quick([&] { return impl.get(index, buf.data(), buf.size()); });
        if (!r && r.error() == errc::empty) return {py::none(), 0};
        if (!r) raise(r.error(), what(*this, "get '" + key + "'"));
        return {bytes_from(buf.data(), r->size), r->epoch};
    }
    void set(const std::string& key, const py::handle& value, const timeout_arg& timeout) {
        const std::uint32_t index = index_of(key);
        input_bytes in(value);
        const errc e = sliced(timeout, errc::lock_timeout,
                              [&](nanoseconds slice) { return impl.set(index, in.data(), in.size(), slice); });
        if (failed(e)) raise(e, what(*this, "set '" + key + "'"));
    }
    // Keys changed after `since` (nullopt: after `seen`, which then advances in the same locked
    // step, so concurrent changes() calls never report a change twice or move `seen` back): a
    // list of names, or with `values` a dict of each name and its value as get() reads it (None
    // if never written). A value that cannot be read raises get()'s error (Stale, ...) and
    // moves nothing (see kv_store::changed_since), so a retry reads it again.
    std::pair<py::object, std::uint64_t> changed_since(std::optional<std::uint64_t> since, bool values) {
        std::vector<std::string> keys;
        std::vector<std::optional<std::string>> read;  // with `values`: keys[i]'s value
        std::uint64_t current = 0;
        std::string unreadable;  // the first key whose value could not be read
        const auto name_of = [&](std::uint32_t index) {
            std::size_t size = 0;
            const char* p = impl.key_name(index, &size);
            return std::string(p, size);
        };
        // Every value may be copied: large copies release the GIL (nothing here touches Python).
        const std::uint64_t most = values ? std::uint64_t{impl.key_count()} * impl.max_value() : 0;
        const errc e = copying(static_cast<std::size_t>(most), [&] {
            const std::uint64_t from = since.value_or(seen);
            errc unread = errc::ok;
            const auto with_values = [&] {
                std::vector<std::uint8_t>& buf = staging_buffer(impl.max_value());
                const auto keep = [&](std::uint32_t index, const result<kv_value_info>& value) {
                    keys.push_back(name_of(index));
                    read.emplace_back();
                    if (value) {
                        read.back().emplace(reinterpret_cast<const char*>(buf.data()), value->size);
                    } else if (value.error() != errc::empty && unread == errc::ok) {
                        unread = value.error();
                        unreadable = keys.back();
                    }
                };
                return impl.changed_since(from, buf.data(), buf.size(), &current, keep);
            };
            const auto names_only = [&] {
                std::vector<std::uint32_t> indices(impl.key_count());
                auto n = impl.changed_since(from, indices.data(), static_cast<std::uint32_t>(indices.size()), &current);
                for (std::uint32_t i = 0; n && i < *n; ++i) keys.push_back(name_of(indices[i]));
                return n;
            };
            const result<std::uint32_t> n = values ? with_values() : names_only();
            if (!n) return n.error();
            // After a value that could not be read, `current` is `from` again: nothing moves.
            if (!since && current > seen) seen = current;
            return unread;
        });
        if (failed(e)) raise(e, what(*this, unreadable.empty() ? "changed_since" : "changed_since '" + unreadable + "'"));
        if (!values) return {py::cast(keys), current};
        py::dict changed;
        for (std::size_t i = 0; i < keys.size(); ++i) {
            changed[py::str(keys[i])] = read[i] ? py::object(py::bytes(*read[i])) : py::object(py::none());
        }
        return {changed, current};
    }
};

}  // namespace

void bind_kv(py::module_& m) {
    py::class_<py_kv, handle_base>(m, "KV", R"doc(
Fixed-schema key/value state shared between processes. The creator names the keys; any process
reads or writes any of them. Reads are lock-free and never torn; values are bytes (str is
stored as UTF-8) up to max_value, refused (MessageTooLarge) rather than truncated. Every write
gets an epoch: changed_since()/changes() say which keys changed, wait_change() blocks until
something does. A key outside the schema raises KeyError; a key never written reads as None.
)doc")
        .def_static(
            "create",
            [](const segment_name& name, const std::vector<std::string>& keys, std::uint32_t max_key,
               std::uint32_t max_value, bool replace_stale, bool prefault, bool reserve_memory, std::uint32_t mode,
               bool allow_membarrier) {
                if (keys.size() > 0xFFFF'FFFFu) throw py::value_error("too many keys");
                std::vector<const char*> ptrs;
                std::set<std::string> seen;
                for (const auto& k : keys) {
                    if (k.find('\0') != std::string::npos) throw py::value_error("a key may not contain NUL");
                    // The C++ store refuses it with already_exists, which alone reads as "the segment
                    // exists": the key is named instead.
                    if (!seen.insert(k).second) {
                        check_name(name, "create");
                        raise_message(errc::already_exists, what(name, "create") + ": the key '" + inventory::printable(k) +
                                                                "' is given twice (the keys of a KV are unique)");
                    }
                    ptrs.push_back(k.c_str());
                }
                kv_config c;
                c.max_key = max_key;
                c.max_value = max_value;
                const kv_options o = kv_options_from(
                    segment_options_from(replace_stale, prefault, reserve_memory, mode, allow_membarrier, 0.5));
                return open_handle<py_kv>(name, "create", [&] {
                    return kv_store::create(name.c_str(), ptrs.data(), static_cast<std::uint32_t>(ptrs.size()), c, o);
                });
            },
            py::arg("name"), py::arg("keys"), py::kw_only(), py::arg("max_key") = 32, py::arg("max_value") = 256,
            py::arg("replace_stale") = true, py::arg("prefault") = false, py::arg("reserve_memory") = true,
            py::arg_v("mode", 0600, "0o600"), py::arg("allow_membarrier") = true,
            (std::string("Creates the store with these keys (unique, at most max_key bytes each); values up to "
                         "max_value bytes. ") +
             reserve_memory_doc)
                .c_str())
        .def_static(
            "open",
            [](const segment_name& name, double ready_timeout) {
                const kv_options o = kv_options_from(attach_segment_options(ready_timeout));
                auto h = open_handle<py_kv>(name, "open", [&] { return kv_store::open(name.c_str(), o); }, ready_timeout);
                h->seen = h->impl.epoch();
                return h;
            },
            py::arg("name"), py::kw_only(), py::arg("ready_timeout") = 0.5, "Attaches to a store.")
        .def(
            "get",
            [](py_kv& kv, const std::string& key, const py::object& default_) {
                auto v = kv.get(key);
                return v.first.is_none() ? default_ : v.first;
            },
            py::arg("key"), py::arg("default") = py::none(),
            "The value as bytes, or `default` if the key was never written. KeyError outside the schema.")
        .def(
            "get_with_epoch", [](py_kv& kv, const std::string& key) { return kv.get(key); }, py::arg("key"),
            "(value or None, epoch of the write that produced it).")
        .def("set", &py_kv::set, py::arg("key"), py::arg("value"), py::arg("timeout") = py::none(),
             "Stores bytes or str (UTF-8). MessageTooLarge above max_value; LockTimeout if another writer of "
             "this key holds it past `timeout` seconds (None: forever; a dead writer's lock is recovered).")
        .def("__getitem__", [](py_kv& kv, const std::string& key) { return kv.get(key).first; })
        .def("__setitem__", [](py_kv& kv, const std::string& key, const py::handle& v) { kv.set(key, v, std::nullopt); })
        .def("__contains__", [](py_kv& kv, const std::string& key) {
            auto i = kv.quick([&] { return kv.impl.find(key.data(), key.size()); });
            return static_cast<bool>(i);
        })
        .def("__len__", [](py_kv& kv) { return kv.quick([&] { return kv.impl.key_count(); }); })
        .def("__iter__", [](py_kv& kv) { return py::iter(py::cast(kv.names())); })
        .def("keys", &py_kv::names, "The schema's key names, in creation order.")
        .def(
            "items",
            [](py_kv& kv) {
                py::dict d;
                const std::vector<std::string> keys = kv.names();
                for (std::uint32_t i = 0; i < keys.size(); ++i) d[py::str(keys[i])] = kv.get_at(i, keys[i]).first;
                return d;
            },
            "A dict of every key's current value (None if never written); each read individually.")
        .def_property_readonly("epoch", [](py_kv& kv) { return kv.quick([&] { return kv.impl.epoch(); }); },
                               "The newest write's epoch.")
        .def_property_readonly("max_value", [](py_kv& kv) { return kv.quick([&] { return kv.impl.max_value(); }); },
                               "The largest value, in bytes.")
        .def(
            "changed_since",
            [](py_kv& kv, std::uint64_t epoch, bool values) { return kv.changed_since(epoch, values); },
            py::arg("epoch"), py::kw_only(), py::arg("values") = false,
            "(keys changed after `epoch` or being written now, the epoch to pass next time). Never misses a change. "
            "values=True: a dict of those keys and their values instead of a list, each value read as get() reads it "
            "(None if never written); a value that cannot be read raises as get() does (Stale) and the same call "
            "can be retried.")
        .def(
            "changes",
            [](py_kv& kv, bool values) { return kv.changed_since(std::nullopt, values).first; }, py::kw_only(),
            py::arg("values") = false,
            "Keys changed since the previous changes() call (or since attach); values=True: a dict of them and their "
            "values, as changed_since(). select() on a KV waits for this to be non-empty.")
        .def(
            "wait_change",
            [](py_kv& kv, std::optional<std::uint64_t> since, timeout_arg timeout) {
                const std::uint64_t from = since ? *since : kv.quick([&] { return kv.seen; });
                const errc e = kv.sliced(timeout, errc::timeout, [&](nanoseconds s) { return kv.impl.wait_change(from, s); });
                if (e == errc::timeout) return false;
                check(e, kv, "wait_change");
                return true;
            },
            py::arg("since") = py::none(), py::arg("timeout") = py::none(),
            "Waits until the epoch passes `since` (default: what changes() has reported): True, or False on timeout.");
}

}  // namespace shmkit::python
