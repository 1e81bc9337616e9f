// Fuzz target: the inventory's decoding of a segment, what `shmkit info` prints (and `ls` and
// `gc` judge), over a segment image taken from the input (format: fuzz_input.hpp). Options
// (byte 0, bits 4-7): bit 0 the object counts as held by no live process (`unused`). Bytes 1-3
// are not used: the inventory never writes and reports role holders as it finds them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "inventory.hpp"
#include "shmkit/segment.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace shmkit;
    fuzz::input in;
    if (!fuzz::parse(data, size, &in)) return 0;
    fuzz::image img(in.image, in.image_size);
    if (!in.raw) fuzz::seal(img, in.k);
    const bool unused = (in.options & 1) != 0;

    std::vector<inventory::field> fields;
    const errc e = inventory::detail::describe_image("/fuzz", img.base(), img.size(), unused, &fields);
    volatile std::size_t sink = static_cast<std::size_t>(e);
    // Rendered as the CLI prints text (invalid UTF-8 escaped).
    for (const inventory::field& f : fields) sink = sink + inventory::printable(f.name).size() + inventory::printable(f.text).size();

    // gc's verdict on the same bytes (the snapshot a removal would judge).
    os::object_snapshot snapshot;
    snapshot.bytes = img.base();
    snapshot.copied = img.size();
    snapshot.size = img.size();
    snapshot.unused = unused;
    sink = sink + static_cast<std::size_t>(segment_is_stale(snapshot));
    static_cast<void>(sink);
    return 0;
}
