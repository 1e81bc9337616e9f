// shmkit.list_segments(), info(), remove(), reap(): the CLI's segment management as functions.
#include <pybind11/stl.h>

#include "common.hpp"
#include "inventory.hpp"

namespace shmkit::python {
namespace {

py::object value_of(const inventory::field& f) {
    switch (f.kind) {
        case inventory::field::type::text: return fs_text(f.text);
        case inventory::field::type::number: return py::int_(f.number);
        case inventory::field::type::boolean: return py::bool_(f.flag);
        case inventory::field::type::null: return py::none();
        case inventory::field::type::number_list: return py::tuple(py::cast(f.list));
    }
    return py::none();
}

}  // namespace

void bind_inventory(py::module_& m) {
    m.def(
        "list_segments",
        [](bool include_foreign) {
            std::vector<inventory::entry> rows;
            errc e;
            {
                py::gil_scoped_release release;
                e = inventory::list(include_foreign, &rows);
            }
            check(e, "list_segments");
            py::list out;
            for (const auto& r : rows) {
                py::dict d;
                d["name"] = fs_text(r.name);
                d["kind"] = r.kind;
                d["state"] = r.state;
                d["size"] = r.size;
                d["creator_pid"] = r.creator_pid;
                d["creator_alive"] = r.creator_alive;
                out.append(d);
            }
            return out;
        },
        py::arg("include_foreign") = false,
        "The shmkit segments in /dev/shm (as `shmkit ls`): dicts with name, kind, state ('ready'; 'creating' or "
        "'abandoned' for a half-made segment its creator still holds or that nobody holds; 'corrupt', 'other-version'; 'foreign' with include_foreign), size, creator_pid, creator_alive. A name that is not UTF-8 is decoded as os.fsdecode() does (surrogateescape): os.fsencode(name) gives its bytes, and every function taking a name accepts it.");
    m.def(
        "info",
        [](const segment_name& name) {
            check_name(name, "info");
            std::vector<inventory::field> fields;
            errc e;
            {
                py::gil_scoped_release release;
                e = inventory::describe(name, &fields);
            }
            if (fields.empty()) raise(e, what(name, "info"));
            py::dict d;
            for (const auto& f : fields) d[py::str(f.name)] = value_of(f);
            return d;
        },
        py::arg("name"),
        "The decoded header, geometry and counters of a segment (as `shmkit info --json`). A shmkit segment "
        "that fails validation still returns its header fields with its 'state'; NotFound, InvalidLayout (not "
        "shmkit's).");
    m.def(
        "remove",
        [](const segment_name& name) {
            check_name(name, "remove");
            errc e;
            {
                py::gil_scoped_release release;
                e = segment::remove(name.c_str());
            }
            if (failed(e)) raise(e, what(name, "remove"));
        },
        py::arg("name"), "Removes the name (as `shmkit rm`); processes that have it mapped keep using it.");
    m.def(
        "remove_if_stale",
        [](const segment_name& name, bool even_if_in_use) {
            check_name(name, "remove_if_stale");
            errc e;
            {
                py::gil_scoped_release release;
                e = segment::remove_if_stale(name.c_str(), even_if_in_use);
            }
            if (e == errc::busy) return false;
            if (failed(e)) raise(e, what(name, "remove_if_stale"));
            return true;
        },
        py::arg("name"), py::kw_only(), py::arg("even_if_in_use") = false,
        "Removes the segment if its creator is dead and nobody has it open: True if removed, False if it is "
        "alive or in use.");
    m.def(
        "reap",
        [](bool force, bool dry_run) {
            std::vector<inventory::reaped> done;
            errc e;
            {
                py::gil_scoped_release release;
                e = inventory::reap(force, dry_run, &done);
            }
            check(e, "reap");
            py::list removed, in_use;
            py::dict errors;
            for (const auto& r : done) {
                if (r.outcome == errc::ok) {
                    removed.append(fs_text(r.name));
                } else if (r.outcome == errc::busy) {
                    in_use.append(fs_text(r.name));
                } else {
                    errors[fs_text(r.name)] = to_string(r.outcome);
                }
            }
            py::dict out;
            out["removed"] = removed;
            out["in_use"] = in_use;
            out["errors"] = errors;
            return out;
        },
        py::kw_only(), py::arg("force") = false, py::arg("dry_run") = false,
        "Removes segments whose creator is dead and which nobody has open (as `shmkit gc`); force: even if "
        "open. Returns {'removed': [...], 'in_use': [...], 'errors': {name: code}}; dry_run lists what would "
        "be removed.");
}

}  // namespace shmkit::python
