// shmkit.StreamWriter and StreamReader: typed samples (a NumPy dtype and shape) or bytes.
#include "slots.hpp"

#include "shmkit/stream.hpp"

namespace shmkit::python {
namespace {

py::dtype numpy_dtype(dtype t) {
    switch (t) {
        case dtype::boolean: return py::dtype("?");
        case dtype::int8: return py::dtype::of<std::int8_t>();
        case dtype::int16: return py::dtype::of<std::int16_t>();
        case dtype::int32: return py::dtype::of<std::int32_t>();
        case dtype::int64: return py::dtype::of<std::int64_t>();
        case dtype::uint8: return py::dtype::of<std::uint8_t>();
        case dtype::uint16: return py::dtype::of<std::uint16_t>();
        case dtype::uint32: return py::dtype::of<std::uint32_t>();
        case dtype::uint64: return py::dtype::of<std::uint64_t>();
        case dtype::float16: return py::dtype("<f2");
        case dtype::float32: return py::dtype::of<float>();
        case dtype::float64: return py::dtype::of<double>();
        case dtype::complex64: return py::dtype("<c8");
        case dtype::complex128: return py::dtype("<c16");
        case dtype::bytes: break;
    }
    return py::dtype::of<std::uint8_t>();
}

// The shmkit dtype of a NumPy dtype (or name), or "bytes".
dtype dtype_from(const py::object& spec) {
    if (py::isinstance<py::str>(spec) && spec.cast<std::string>() == "bytes") return dtype::bytes;
    const py::dtype d = py::dtype::from_args(spec);
    static const dtype all[] = {dtype::boolean, dtype::int8,    dtype::int16,   dtype::int32,     dtype::int64,
                                dtype::uint8,   dtype::uint16,  dtype::uint32,  dtype::uint64,    dtype::float16,
                                dtype::float32, dtype::float64, dtype::complex64, dtype::complex128};
    for (dtype t : all) {
        if (same_dtype(numpy_dtype(t), d)) return t;
    }
    throw py::type_error("unsupported stream dtype " + py::str(spec).cast<std::string>() +
                         " (bool, [u]int8..64, float16/32/64, complex64/128, or 'bytes')");
}

struct stream_traits {
    using writer = stream_writer;
    using reader = stream_reader;
    using meta = stream_meta;
    static constexpr const char* noun = "sample";
    static sample_layout layout(const meta& m, std::uint64_t size) {
        if (static_cast<dtype>(m.dtype) == dtype::bytes) return flat_layout(size, true);
        sample_layout l;
        l.dtype = numpy_dtype(static_cast<dtype>(m.dtype));
        for (std::uint32_t i = 0; i < m.ndim; ++i) l.shape.push_back(static_cast<py::ssize_t>(m.shape[i]));
        l.strides = contiguous_strides(l.shape, static_cast<py::ssize_t>(element_size(static_cast<dtype>(m.dtype))));
        return l;
    }
    // Samples of a fixed size are committed whole; bytes streams carry variable-size messages.
    static bool partial_commit(const meta& m) { return static_cast<dtype>(m.dtype) == dtype::bytes; }
};

py::tuple shape_of(const stream_meta& m) {
    py::tuple t(m.ndim);
    for (std::uint32_t i = 0; i < m.ndim; ++i) t[i] = m.shape[i];
    return t;
}

py::object dtype_of(const stream_meta& m) {
    if (static_cast<dtype>(m.dtype) == dtype::bytes) return py::str("bytes");
    return numpy_dtype(static_cast<dtype>(m.dtype));
}

// ---- schemas -------------------------------------------------------------------------------

// shmkit.Schema (shmkit/_extensions.py), which knows the message classes.
py::object schema_class() { return py::module_::import("shmkit._extensions").attr("Schema"); }

// The Schema a caller gives as `spec`: a Schema, or a message class (Schema.of describes it);
// None for None.
py::object schema_from(const py::object& spec) {
    return spec.is_none() ? py::none() : schema_class().attr("of")(spec);
}

// The name and hash of a Schema as the C++ options take them (`name` keeps the bytes).
std::uint64_t schema_parts(const py::object& schema, std::string* name) {
    *name = schema.attr("name").cast<std::string>();
    return schema.attr("hash").cast<std::uint64_t>();
}

// The Schema a handle reports: the one its caller gave (with the message class), else the one
// the stream stores (None without one).
py::object schema_of(const py::object& given, const char* stored_name, std::uint64_t stored_hash) {
    if (!given.is_none() || stored_name[0] == '\0') return given;
    return schema_class()(py::str(stored_name), stored_hash);
}

// A sample shape given as an int or a sequence of ints.
std::vector<std::uint64_t> stream_dims(const py::object& shape) {
    auto dims = py::isinstance<py::int_>(shape) ? std::vector<std::uint64_t>{shape.cast<std::uint64_t>()}
                                                : shape.cast<std::vector<std::uint64_t>>();
    if (dims.size() > max_stream_dims) throw py::value_error("a stream has at most 8 dimensions");
    return dims;
}

}  // namespace

void bind_stream(py::module_& m) {
    using stream_w = py_slot_writer<stream_traits>;
    using stream_r = py_slot_reader<stream_traits>;
    py::class_<stream_w, handle_base> sw(m, "StreamWriter", R"doc(
The writer of a typed stream: samples of one dtype and shape (stored in the segment), or
variable-size byte messages (dtype='bytes'), optionally with the schema of those messages.
Readers take the newest sample or every sample in order; the writer never waits for them.
)doc");
    sw.def_static(
          "create",
          [](const segment_name& name, const py::object& dtype_spec, const py::object& shape, std::uint64_t max_bytes,
             std::uint64_t slots, const py::object& schema_spec, bool page_aligned, bool replace_stale, bool prefault,
             bool reserve_memory, std::uint32_t mode, bool allow_membarrier) {
              const py::object schema = schema_from(schema_spec);
              stream_config c;
              // Messages of a schema are bytes unless the caller says otherwise.
              c.type = dtype_from(dtype_spec.is_none() ? py::str(schema.is_none() ? "float32" : "bytes") : dtype_spec);
              std::string schema_name;
              if (!schema.is_none()) {
                  c.schema_hash = schema_parts(schema, &schema_name);
                  c.schema_name = schema_name.c_str();
              }
              c.slots = slots;
              c.page_aligned = page_aligned;
              c.max_bytes = max_bytes;
              if (c.type == dtype::bytes) {
                  if (max_bytes == 0) throw py::value_error("a bytes stream needs max_bytes > 0");
                  c.ndim = 0;
              } else {
                  const std::vector<std::uint64_t> dims = stream_dims(shape);
                  c.ndim = static_cast<std::uint32_t>(dims.size());
                  for (std::size_t i = 0; i < dims.size(); ++i) c.shape[i] = dims[i];
              }
              const segment_options o =
                  segment_options_from(replace_stale, prefault, reserve_memory, mode, allow_membarrier, 0.5);
              auto w = open_handle<stream_w>(name, "create", [&] { return stream_writer::create(name.c_str(), c, o); });
              w->schema = schema;
              return w;
          },
          py::arg("name"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("shape") = py::make_tuple(1),
          py::arg("max_bytes") = 0, py::arg("slots") = 8, py::arg("schema") = py::none(), py::arg("page_aligned") = false,
          py::arg("replace_stale") = true, py::arg("prefault") = false, py::arg("reserve_memory") = true,
          py::arg_v("mode", 0600, "0o600"), py::arg("allow_membarrier") = true,
          (std::string("Creates the stream. dtype: a NumPy dtype (or name), or 'bytes' for messages up to max_bytes "
                       "(default float32; bytes with a schema). shape: the sample shape. slots: ring slots, 2..65536 "
                       "(the newest slots - 1 samples stay readable: the next slot may be being written). schema: the "
                       "messages' Schema, or a message class (pydantic model, dataclass, msgspec Struct) to store the "
                       "Schema of; write_obj() then takes its instances. ") +
           reserve_memory_doc)
              .c_str())
        .def_static(
            "open",
            [](const segment_name& name, double ready_timeout) {
                const segment_options o = attach_segment_options(ready_timeout);
                auto w = open_handle<stream_w>(name, "open", [&] { return stream_writer::open(name.c_str(), o); },
                                               ready_timeout);
                w->schema = schema_of(py::none(), w->impl.schema_name(), w->impl.schema_hash());
                return w;
            },
            py::arg("name"), py::kw_only(), py::arg("ready_timeout") = 0.5,
            "Becomes the writer of an existing stream (Busy while another writer lives).")
        .def(
            "write",
            [](stream_w& w, const py::handle& data) {
                const bool fixed = !stream_traits::partial_commit(w.impl.description());
                write_sample(w, data, "write", [&](const void* p, std::size_t n) {
                    if (fixed && n != w.impl.sample_bytes()) return errc::size_mismatch;
                    return w.impl.write(p, n);
                });
            },
            py::arg("data"),
            "Publishes one sample: an array of the stream's dtype and shape (or its raw bytes); for a bytes "
            "stream, bytes or str up to max_bytes.")
        .def(
            "reserve",
            [](py::object self) {
                auto& w = self.cast<stream_w&>();
                return reserve_sample<stream_traits>(self, [&] { return w.impl.reserve(); }, "reserve");
            },
            "A Reservation over the next slot, shaped like a sample (bytes streams: max_bytes of uint8; commit(n) "
            "publishes n bytes).")
        .def_property_readonly("dtype", [](stream_w& w) { return dtype_of(w.impl.description()); },
                               "The sample dtype (a NumPy dtype), or 'bytes'.")
        .def_property_readonly("shape", [](stream_w& w) { return shape_of(w.impl.description()); },
                               "The sample shape.")
        .def_property_readonly("sample_bytes", [](stream_w& w) { return w.impl.sample_bytes(); },
                               "Bytes of one sample (the maximum for a bytes stream).")
        .def_property_readonly("schema", [](stream_w& w) { return w.schema; },
                               "The messages' Schema (with its message class if create() was given one), or None.");
    def_writer(sw);

    py::class_<stream_r, handle_base> sr(m, "StreamReader", R"doc(
A reader of a typed stream. The dtype, shape and message schema come from the segment; pass
`dtype`/`shape`/`schema` to insist on them (WrongKind / SizeMismatch / SchemaMismatch otherwise).
Samples are returned as NumPy arrays (bytes for a bytes stream).
)doc");
    sr.def_static(
          "open",
          [](const segment_name& name, const py::object& dtype_spec, const py::object& shape, const py::object& schema_spec,
             bool from_oldest, bool from_newest, bool read_only, double ready_timeout) {
              auto o = reader_options<stream_reader_options>(from_oldest, from_newest, read_only, ready_timeout);
              const py::object schema = schema_from(schema_spec);
              std::string schema_name;
              if (!schema.is_none()) {
                  o.expect.schema_hash = schema_parts(schema, &schema_name);
                  o.expect.schema_name = schema_name.c_str();
              }
              if (!dtype_spec.is_none()) o.expect.type = dtype_from(dtype_spec);
              if (!shape.is_none()) {
                  const std::vector<std::uint64_t> dims = stream_dims(shape);
                  o.expect.ndim = static_cast<std::int32_t>(dims.size());
                  for (std::size_t i = 0; i < dims.size(); ++i) o.expect.shape[i] = dims[i];
              }
              auto r = open_handle<stream_r>(name, "open", [&] { return stream_reader::open(name.c_str(), o); },
                                             ready_timeout);
              r->schema = schema_of(schema, r->impl.schema_name(), r->impl.schema_hash());
              return r;
          },
          py::arg("name"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("shape") = py::none(),
          py::arg("schema") = py::none(), py::arg("from_oldest") = false, py::arg("from_newest") = false, py::arg("read_only") = false,
          py::arg("ready_timeout") = 0.5,
          "Attaches to a stream. schema: a Schema or message class the stream must hold (SchemaMismatch "
          "otherwise, also for a stream without one); latest_obj()/next_obj() then build instances of the class. "
          "from_oldest / from_newest: next() starts at the oldest sample kept / the "
          "newest present, not the next new one (not both: InvalidArgument). read_only: map "
          "read-only (blocking calls raise AccessDenied).")
        .def_property_readonly("dtype", [](stream_r& r) { return dtype_of(r.impl.description()); },
                               "The sample dtype (a NumPy dtype), or 'bytes'.")
        .def_property_readonly("shape", [](stream_r& r) { return shape_of(r.impl.description()); },
                               "The sample shape.")
        .def_property_readonly("sample_bytes", [](stream_r& r) { return r.impl.sample_bytes(); },
                               "Bytes of one sample (the maximum for a bytes stream).")
        .def_property_readonly("schema", [](stream_r& r) { return r.schema; },
                               "The messages' Schema as the stream stores it (with the message class open() was "
                               "given), or None.");
    def_reader(sr);
    m.def(
        "fields_hash", [](const std::string& fields) { return shmkit::fields_hash(fields.data(), fields.size()); },
        py::arg("fields"),
        "The 64-bit hash of a field description (FNV-1a over its UTF-8 bytes): what Schema.of() stores, and "
        "C++ fields_hash() computes.");
}

}  // namespace shmkit::python
