// Writes the fuzz targets' seed corpus: real segments of every kind, small, in the states that
// matter (empty, holding messages, wrapped, a writer that died mid-publication, a claim or a
// reservation outstanding, a lock held), dumped byte for byte behind the input prefix of
// fuzz_input.hpp. Usage: fuzz_make_corpus <corpus directory> (writes <dir>/fuzz_segments/ and
// <dir>/fuzz_inventory/). Segments are created with allow_membarrier off, so raw seeds are
// valid in any process.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "shmkit/audio.hpp"
#include "shmkit/block.hpp"
#include "shmkit/broadcast.hpp"
#include "shmkit/command.hpp"
#include "shmkit/kv.hpp"
#include "shmkit/spsc.hpp"
#include "shmkit/stream.hpp"
#include "shmkit/typed.hpp"
#include "shmkit/video.hpp"

using namespace shmkit;

namespace {

std::string g_dir;
int g_files = 0;

template <class T>
T must(result<T>&& r, const char* what) {
    if (!r) {
        std::fprintf(stderr, "make_corpus: %s: %s\n", what, to_string(r.error()));
        std::exit(1);
    }
    return std::move(r).value();
}
void must(errc e, const char* what) {
    if (failed(e)) {
        std::fprintf(stderr, "make_corpus: %s: %s\n", what, to_string(e));
        std::exit(1);
    }
}

std::string fresh_name() {
    static int n = 0;
    const std::string name = "/shmkit-fuzz-corpus-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
    static_cast<void>(segment::remove(name.c_str()));
    return name;
}

segment_options options() {
    segment_options o;
    o.allow_membarrier = false;
    return o;
}

// Maps the named segment again to read its bytes as they are now.
std::vector<std::uint8_t> bytes_of(const std::string& name, kind k, std::uint32_t header_size) {
    segment s = must(segment::open(name.c_str(), k, header_size, os::access::read_only, options()), "open for dump");
    return std::vector<std::uint8_t>(s.base(), s.base() + s.size());
}

void put64(std::vector<std::uint8_t>& image, std::uint64_t offset, std::uint64_t v) {
    std::memcpy(image.data() + offset, &v, 8);
}
std::uint64_t get64(const std::vector<std::uint8_t>& image, std::uint64_t offset) {
    std::uint64_t v;
    std::memcpy(&v, image.data() + offset, 8);
    return v;
}

struct prefix {
    bool raw = false;
    std::uint8_t options = 0, roles = 0x55, others = 0x55, script = 0;
};

void write_seed(const char* target, const char* file, kind k, const prefix& p, const std::vector<std::uint8_t>& image) {
    std::vector<std::uint8_t> data(fuzz::prefix_size);
    data[0] = static_cast<std::uint8_t>(fuzz::kind_index(k) | (p.raw ? fuzz::raw_bit : 0) | (p.options << 4));
    data[1] = p.roles;
    data[2] = p.others;
    data[3] = p.script;
    data.insert(data.end(), image.begin(), image.end());
    const std::string path = g_dir + "/" + target + "/" + file;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr || std::fwrite(data.data(), 1, data.size(), f) != data.size() || std::fclose(f) != 0) {
        std::fprintf(stderr, "make_corpus: cannot write %s\n", path.c_str());
        std::exit(1);
    }
    ++g_files;
}

// A seed for fuzz_segments; the plain sealed one of each state also for fuzz_inventory.
void seed(const char* file, kind k, const prefix& p, const std::vector<std::uint8_t>& image, bool inventory = false) {
    write_seed("fuzz_segments", file, k, p, image);
    if (inventory) write_seed("fuzz_inventory", file, k, p, image);
}

std::vector<std::uint8_t> payload(std::size_t n, int salt) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 7 + salt);
    return v;
}

// ---- ring kinds ------------------------------------------------------------------------------

void broadcast_seeds() {
    const std::string name = fresh_name();
    broadcast_config config;
    config.capacity = 256;
    auto w = must(broadcast_writer::create(name.c_str(), config, options()), "broadcast create");
    auto dump = [&] { return bytes_of(name, kind::broadcast, ring_header_size); };
    prefix p;
    seed("broadcast-empty", kind::broadcast, p, dump(), true);
    for (int i = 0; i < 3; ++i) must(w.write(payload(10 + 20 * i, i).data(), 10 + 20 * i), "broadcast write");
    p.script = 0x25;
    seed("broadcast-three", kind::broadcast, p, dump(), true);
    p.raw = true;
    seed("broadcast-three-raw", kind::broadcast, p, dump(), true);
    p.raw = false;
    for (int i = 0; i < 20; ++i) must(w.write(payload(5 + 9 * (i % 7), i).data(), 5 + 9 * (i % 7)), "broadcast write");
    p.options = 1;  // from the oldest
    p.script = 0xC6;
    seed("broadcast-wrapped", kind::broadcast, p, dump(), true);
    // A writer killed after storing its last record but before publishing it: head (and
    // next_seq) still before it. The successor finishes the publication.
    const std::uint64_t head = get64(dump(), broadcast_control_offset + offsetof(broadcast_control, head));
    const std::uint64_t next_seq = get64(dump(), broadcast_control_offset + offsetof(broadcast_control, next_seq));
    must(w.write(payload(40, 9).data(), 40), "broadcast write");
    std::vector<std::uint8_t> image = dump();
    put64(image, broadcast_control_offset + offsetof(broadcast_control, head), head);
    p.options = 0;
    p.script = 0x13;
    seed("broadcast-died-before-head", kind::broadcast, p, image);
    put64(image, broadcast_control_offset + offsetof(broadcast_control, next_seq), next_seq);
    seed("broadcast-died-before-next-seq", kind::broadcast, p, image);
    w.close();
    static_cast<void>(segment::remove(name.c_str()));
}

void spsc_seeds() {
    const std::string name = fresh_name();
    spsc_config config;
    config.capacity = 256;
    spsc_options so;
    so.segment = options();
    auto producer = must(spsc_producer::create(name.c_str(), config, so), "spsc create");
    auto consumer = must(spsc_consumer::open(name.c_str()), "spsc open");
    auto dump = [&] { return bytes_of(name, kind::spsc, 128); };
    prefix p;
    seed("spsc-empty", kind::spsc, p, dump(), true);
    std::uint8_t buffer[256];
    for (int i = 0; i < 9; ++i) {
        must(producer.try_push(payload(8 + 11 * i, i).data(), 8 + 11 * i), "spsc push");
        must(consumer.try_pop(buffer, sizeof buffer), "spsc pop");
    }
    for (int i = 0; i < 3; ++i) must(producer.try_push(payload(24, i).data(), 24), "spsc push");
    p.script = 0xA6;
    seed("spsc-wrapped-three-queued", kind::spsc, p, dump(), true);
    p.raw = true;
    seed("spsc-wrapped-raw", kind::spsc, p, dump(), true);
    p.raw = false;
    // A producer killed between storing its record and publishing head.
    const std::uint64_t head = get64(dump(), 128 + offsetof(spsc_control, head));
    must(producer.try_push(payload(30, 3).data(), 30), "spsc push");
    std::vector<std::uint8_t> image = dump();
    put64(image, 128 + offsetof(spsc_control, head), head);
    p.roles = 0x59;  // producer dead, consumer dead (the other variant)
    p.script = 0x61;
    seed("spsc-died-before-head", kind::spsc, p, image);
    producer.close();
    consumer.close();
    static_cast<void>(segment::remove(name.c_str()));
}

void command_seeds() {
    const std::string name = fresh_name();
    command_config config;
    config.capacity = 256;
    command_options co;
    co.segment = options();
    auto reader = must(command_reader::create(name.c_str(), config, co), "command create");
    auto writer = must(command_writer::open(name.c_str()), "command open");
    auto dump = [&] { return bytes_of(name, kind::command, 128); };
    prefix p;
    seed("command-empty", kind::command, p, dump(), true);
    for (int i = 0; i < 2; ++i) must(writer.try_write(payload(20 + 10 * i, i).data(), 20 + 10 * i), "command write");
    {
        // Committed shorter than claimed (a skip record follows), and one dropped.
        auto r = must(writer.try_reserve(48), "command reserve");
        r.commit(8);
        auto dropped = must(writer.try_reserve(16), "command reserve");
    }
    p.script = 0x2D;
    seed("command-messages-skips", kind::command, p, dump(), true);
    {
        // A claim outstanding: its writer (this process, dead once the corpus is written) never
        // commits it. With options bit 1 the reader checks the writer at once and skips it.
        auto pending = must(writer.try_reserve(32), "command reserve");
        std::vector<std::uint8_t> image = dump();
        p.options = 2;
        p.others = 0x55;  // the claim's writer: dead
        p.script = 0x80;
        seed("command-claim-dead-writer", kind::command, p, image);
        p.others = 0xFF;  // ... alive: the claim stays pending
        seed("command-claim-live-writer", kind::command, p, image);
        p.raw = true;
        p.options = 0;
        seed("command-claim-raw", kind::command, p, image, true);
        p.raw = false;
        pending.commit();
    }
    reader.close();
    static_cast<void>(segment::remove(name.c_str()));
}

// ---- block -------------------------------------------------------------------------------------

void block_seeds() {
    const std::string name = fresh_name();
    block_config config;
    config.size = 64;
    config.reader_slots = 4;
    block_options bo;
    bo.segment = options();
    auto b = must(block::create(name.c_str(), config, bo), "block create");
    auto dump = [&] { return bytes_of(name, kind::block, block_header_size); };
    prefix p;
    seed("block-empty", kind::block, p, dump(), true);
    {
        typed_view view(b);
        must(view.write<std::uint32_t>(7), "typed write");
        must(view.write_string("seed", 4), "typed write");
        const double list[3] = {1.0, 2.5, -3.0};
        must(view.write_list<double>(list, 3), "typed write");
    }
    p.script = 0x03;
    seed("block-typed", kind::block, p, dump(), true);
    must(b.lock(), "block lock");
    std::vector<std::uint8_t> image = dump();  // held by a writer that then dies
    b.unlock();
    p.roles = 0x01;  // the writer: dead
    p.others = 0xC4; // slots: free, dead, dead, live
    seed("block-writer-died", kind::block, p, image);
    p.raw = true;
    seed("block-writer-died-raw", kind::block, p, image, true);
    p.raw = false;
    must(b.lock_shared(), "block lock_shared");
    image = dump();
    b.unlock_shared();
    p.roles = 0x00;
    p.others = 0x03;  // the slot with the read lock: alive
    seed("block-read-locked", kind::block, p, image);
    b.close();
    static_cast<void>(segment::remove(name.c_str()));
}

// ---- kv ----------------------------------------------------------------------------------------

void kv_seeds() {
    const std::string name = fresh_name();
    const char* keys[] = {"alpha", "b", "gamma123"};
    kv_config config;
    config.max_key = 8;
    config.max_value = 16;
    kv_options ko;
    ko.segment = options();
    auto kv = must(kv_store::create(name.c_str(), keys, 3, config, ko), "kv create");
    auto dump = [&] { return bytes_of(name, kind::kv, kv_header_size); };
    prefix p;
    seed("kv-empty", kind::kv, p, dump(), true);
    must(kv.set("alpha", "one", 3), "kv set");
    must(kv.set("gamma123", payload(16, 1).data(), 16), "kv set");
    p.script = 0x17;
    seed("kv-values", kind::kv, p, dump(), true);
    // A writer killed mid-write: its key locked (by a dead process) and its sequence odd.
    std::vector<std::uint8_t> image = dump();
    const std::uint64_t entry = kv_entries_offset + 1 * (get64(image, 64 + offsetof(kv_geometry, entry_stride)));
    put64(image, entry + offsetof(kv_entry, seq), 3);
    p.others = 0x04;  // key 1's lock: dead
    p.script = 0x01;
    seed("kv-writer-died", kind::kv, p, image);
    p.raw = true;
    seed("kv-values-raw", kind::kv, p, dump(), true);
    kv.close();
    static_cast<void>(segment::remove(name.c_str()));
}

// ---- slot kinds --------------------------------------------------------------------------------

template <class Writer>
void slot_states(const char* stem, kind k, Writer& w, const std::string& name, std::size_t sample) {
    auto dump = [&] { return bytes_of(name, k, slot_kind_header_size); };
    auto file = [&](const char* state) { return std::string(stem) + "-" + state; };
    prefix p;
    seed(file("empty").c_str(), k, p, dump(), true);
    for (int i = 0; i < 5; ++i) must(w.write(payload(sample, i).data(), sample), "slot write");
    p.options = 1;
    p.script = 0x26;
    seed(file("wrapped").c_str(), k, p, dump(), true);
    p.raw = true;
    seed(file("wrapped-raw").c_str(), k, p, dump(), true);
    p.raw = false;
    {
        // A writer killed with a sample finished but not counted (seq even, committed behind).
        auto r = must(w.reserve(), "slot reserve");
        std::vector<std::uint8_t> outstanding = dump();  // and one killed mid-write (seq odd)
        p.options = 0;
        p.script = 0x40;
        seed(file("died-mid-write").c_str(), k, p, outstanding);
        r.commit();
        std::vector<std::uint8_t> image = dump();
        const std::uint64_t committed = get64(image, slot_control_offset + offsetof(slot_control, committed));
        put64(image, slot_control_offset + offsetof(slot_control, committed), committed - 1);
        p.script = 0x11;
        seed(file("died-before-count").c_str(), k, p, image);
    }
}

void slot_seeds() {
    {
        const std::string name = fresh_name();
        stream_config config;
        config.type = dtype::float32;
        config.ndim = 2;
        config.shape[0] = 2;
        config.shape[1] = 3;
        config.slots = 4;
        auto w = must(stream_writer::create(name.c_str(), config, options()), "stream create");
        slot_states("stream-f32", kind::stream, w, name, 24);
        w.close();
        static_cast<void>(segment::remove(name.c_str()));
    }
    {
        const std::string name = fresh_name();
        stream_config config;
        config.type = dtype::bytes;
        config.max_bytes = 40;
        config.slots = 3;
        config.schema_name = "Status";  // the schema the fuzz reader expects with this script
        config.schema_hash = 0x0F;
        auto w = must(stream_writer::create(name.c_str(), config, options()), "stream create");
        auto dump = [&] { return bytes_of(name, kind::stream, slot_kind_header_size); };
        for (int i = 0; i < 4; ++i) must(w.write(payload(10 * i, i).data(), 10 * i), "stream write");
        prefix p;
        p.options = 4;  // with an expectation: script bit 3, the schema
        p.script = 0x0F;
        seed("stream-bytes", kind::stream, p, dump(), true);
        w.close();
        static_cast<void>(segment::remove(name.c_str()));
    }
    {
        const std::string name = fresh_name();
        video_config config;
        config.width = 8;
        config.height = 2;
        config.format = pixel_format::gray8;
        config.slots = 3;
        config.page_aligned = false;
        auto w = must(video_writer::create(name.c_str(), config, options()), "video create");
        slot_states("video-gray8", kind::video, w, name, 16);
        w.close();
        static_cast<void>(segment::remove(name.c_str()));
    }
    {
        const std::string name = fresh_name();
        video_config config;
        config.width = 4;
        config.height = 2;
        config.format = pixel_format::i420;
        config.slots = 2;
        config.page_aligned = false;
        auto w = must(video_writer::create(name.c_str(), config, options()), "video create");
        must(w.write_frame(payload(12, 1).data(), 12, 100, 200), "video write");
        prefix p;
        seed("video-i420", kind::video, p, bytes_of(name, kind::video, slot_kind_header_size), true);
        w.close();
        static_cast<void>(segment::remove(name.c_str()));
    }
    {
        const std::string name = fresh_name();
        audio_config config;
        config.channels = 1;
        config.format = sample_format::u8;
        config.sample_rate = 1000;
        config.buffer_us = 10000;  // 10 frames of 1 byte
        config.slots = 4;
        auto w = must(audio_writer::create(name.c_str(), config, options()), "audio create");
        slot_states("audio-u8", kind::audio, w, name, 10);
        w.close();
        static_cast<void>(segment::remove(name.c_str()));
    }
    {
        const std::string name = fresh_name();
        audio_config config;
        config.channels = 2;
        config.format = sample_format::s24le;
        config.sample_rate = 8000;
        config.buffer_us = 1000;  // 8 frames of 6 bytes
        config.slots = 2;
        auto w = must(audio_writer::create(name.c_str(), config, options()), "audio create");
        must(w.write_buffer(payload(48, 2).data(), 48, 77), "audio write");
        prefix p;
        p.script = 0x9A;
        seed("audio-s24", kind::audio, p, bytes_of(name, kind::audio, slot_kind_header_size), true);
        w.close();
        static_cast<void>(segment::remove(name.c_str()));
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <corpus directory>\n", argv[0]);
        return 2;
    }
    g_dir = argv[1];
    broadcast_seeds();
    spsc_seeds();
    command_seeds();
    block_seeds();
    kv_seeds();
    slot_seeds();
    std::printf("make_corpus: %d files written under %s\n", g_files, g_dir.c_str());
    return 0;
}
