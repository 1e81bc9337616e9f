// Fuzz target: every kind's readers, writers and inspect_*() over a segment image taken from
// the input (see fuzz_input.hpp for the format). A corrupt or hostile segment must produce an
// errc, never a crash, an out-of-bounds access, undefined behaviour, a failed assert or a hang.
//
// Options (byte 0, bits 4-7): bit 0 readers start at the oldest message or sample; bit 1 a
// command reader checks a pending claim's writer at once (liveness period 0) instead of never;
// bit 2 the stream reader states an expectation (element type and shape, or with script bit 3 a
// schema); bit 3 readers pass small buffers (message_too_large paths). Broadcast and stream
// readers also start at the newest message or sample.
// Script (byte 3): bits 0-1 how many messages the writers write (1-4), bits 2-4 their sizes,
// bit 5 a reservation is committed shorter than reserved, bit 6 one is dropped, bit 7 the
// blocking forms are used (with a zero timeout).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_input.hpp"
#include "shmkit/audio.hpp"
#include "shmkit/block.hpp"
#include "shmkit/broadcast.hpp"
#include "shmkit/command.hpp"
#include "shmkit/detail/wait.hpp"
#include "shmkit/kv.hpp"
#include "shmkit/select.hpp"
#include "shmkit/spsc.hpp"
#include "shmkit/stream.hpp"
#include "shmkit/typed.hpp"
#include "shmkit/video.hpp"

namespace shmkit::fuzz {
namespace {

using std::chrono::nanoseconds;
constexpr nanoseconds no_wait{0};
constexpr int rounds = 3;  // each read operation is run this often per phase

// The result of a call, consumed so the compiler keeps it (and so [[nodiscard]] is honoured).
template <class T>
void use(const T& value) {
    volatile bool sink = static_cast<bool>(value);
    static_cast<void>(sink);
}
void use(errc e) {
    volatile errc sink = e;
    static_cast<void>(sink);
}

// What select() sees of a reader: its readiness check, its recheck hint, and select() itself
// with a zero timeout.
void poll_waitable(const select_source& source) {
    if (source.ready != nullptr) use(source.ready(source.context));
    if (source.recheck_after_ns != nullptr) use(source.recheck_after_ns(source.context));
    use(select(&source, 1, no_wait));
}

struct context {
    input in;
    image& img;
    std::vector<std::uint8_t> buffer;   // where readers copy to
    std::vector<std::uint8_t> payload;  // what writers write
    bool from_oldest = false, check_claims_now = false, expect = false, small_buffers = false;

    context(const input& i, image& m) : in(i), img(m) {
        buffer.resize(img.size() + 64);
        payload.resize(img.size() + 64);
        for (std::size_t n = 0; n < payload.size(); ++n) payload[n] = static_cast<std::uint8_t>(n * 131 + in.script);
        from_oldest = (in.options & 1) != 0;
        check_claims_now = (in.options & 2) != 0;
        expect = (in.options & 4) != 0;
        small_buffers = (in.options & 8) != 0;
    }
    void* memory() const { return img.base(); }
    std::uint64_t size() const { return img.size(); }
    std::size_t capacity(int round) const { return small_buffers && round % 2 == 0 ? 7 : buffer.size(); }

    int messages() const { return 1 + (in.script & 3); }
    // The size of the i-th message: spread over 0 .. limit + 1 (one past the largest allowed).
    std::size_t message_size(int i, std::uint64_t limit) const {
        const unsigned pick = ((in.script >> 2) + static_cast<unsigned>(i)) & 7u;
        std::uint64_t s = 0;
        switch (pick) {
            case 0: s = 0; break;
            case 1: s = 1; break;
            case 2: s = 17; break;
            case 3: s = limit / 3; break;
            case 4: s = limit / 2 + 5; break;
            case 5: s = limit; break;
            case 6: s = limit + 1; break;
            default: s = 64; break;
        }
        return s <= payload.size() ? static_cast<std::size_t>(s) : payload.size();
    }
    bool commit_shorter() const { return (in.script & 0x20) != 0; }
    bool drop_one() const { return (in.script & 0x40) != 0; }
    bool blocking() const { return (in.script & 0x80) != 0; }
};

// ---- broadcast -------------------------------------------------------------------------------

void read_broadcast(context& c, broadcast_reader& r) {
    for (int i = 0; i < rounds; ++i) {
        use(r.try_read(c.buffer.data(), c.capacity(i)));
        use(r.poll());
        use(r.read(c.buffer.data(), c.capacity(i + 1), no_wait));
        use(r.wait(no_wait));
        use(r.writer_alive());
    }
    poll_waitable(r.waitable());
    use(r.lost() + r.total_lost() + r.overruns() + r.pending_size() + r.next_seq());
}

void fuzz_broadcast(context& c) {
    broadcast_info info;
    use(inspect_broadcast(c.memory(), c.size(), &info));
    broadcast_reader_options options;
    options.from_oldest = c.from_oldest;
    options.wait.spin = 0;
    auto reader = broadcast_reader::attach(c.memory(), c.size(), options);
    if (reader) read_broadcast(c, *reader);
    {
        auto writer = broadcast_writer::attach(c.memory(), c.size());
        if (writer) {
            const std::uint64_t limit = writer->max_message();
            for (int i = 0; i < c.messages(); ++i) {
                const std::size_t n = c.message_size(i, limit);
                if (i == 1 && (c.commit_shorter() || c.drop_one())) {
                    auto r = writer->reserve(n);
                    if (r) {
                        std::memcpy(r->data(), c.payload.data(), r->size());
                        if (c.commit_shorter()) r->commit(r->size() / 2);
                    }  // else dropped uncommitted
                    continue;
                }
                use(writer->write(c.payload.data(), n));
            }
            use(writer->messages_written());
        }
    }
    if (reader) read_broadcast(c, *reader);
    options.from_oldest = !c.from_oldest;
    auto late = broadcast_reader::attach(c.memory(), c.size(), options);
    if (late) read_broadcast(c, *late);
    options.from_oldest = false;
    options.from_newest = true;  // walks the records from tail to head
    auto newest = broadcast_reader::attach(c.memory(), c.size(), options);
    if (newest) read_broadcast(c, *newest);
    use(inspect_broadcast(c.memory(), c.size(), &info));
}

// ---- spsc --------------------------------------------------------------------------------------

void read_spsc(context& c, spsc_consumer& q) {
    for (int i = 0; i < rounds; ++i) {
        use(q.try_pop(c.buffer.data(), c.capacity(i)));
        auto v = q.try_peek();
        if (v) {
            // Touch the message in place, as a zero-copy consumer would.
            if (v->size != 0) std::memcpy(c.buffer.data(), v->data, v->size < c.buffer.size() ? v->size : c.buffer.size());
            q.release();
        }
        use(q.poll());
        if (c.blocking()) {
            use(q.pop(c.buffer.data(), c.capacity(i + 1), no_wait));
            auto p = q.peek(no_wait);
            if (p) q.release();
        }
        use(q.producer_alive());
    }
    poll_waitable(q.waitable());
    use(q.pending_size());
}

void fuzz_spsc(context& c) {
    spsc_info info;
    use(inspect_spsc(c.memory(), c.size(), &info));
    spsc_options options;
    options.wait.spin = 0;
    auto consumer = spsc_consumer::attach(c.memory(), c.size(), options);
    if (consumer) read_spsc(c, *consumer);
    {
        auto producer = spsc_producer::attach(c.memory(), c.size(), options);
        if (producer) {
            const std::uint64_t limit = producer->max_message();
            for (int i = 0; i < c.messages(); ++i) {
                const std::size_t n = c.message_size(i, limit);
                if (i == 1 && (c.commit_shorter() || c.drop_one())) {
                    auto r = c.blocking() ? producer->reserve(n, no_wait) : producer->try_reserve(n);
                    if (r) {
                        std::memcpy(r->data(), c.payload.data(), r->size());
                        if (c.commit_shorter()) r->commit(r->size() / 2);
                    }
                    continue;
                }
                use(c.blocking() ? producer->push(c.payload.data(), n, no_wait) : producer->try_push(c.payload.data(), n));
            }
            use(producer->consumer_alive());
        }
    }
    if (consumer) read_spsc(c, *consumer);
    use(inspect_spsc(c.memory(), c.size(), &info));
}

// ---- command -----------------------------------------------------------------------------------

command_options command_options_for(const context& c) {
    command_options o;
    o.wait.spin = 0;
    o.lock.spin = 1;
    // 0: a pending claim's writer is looked at on the second look; else never within a run (an
    // hour), so no run depends on the clock.
    o.liveness_period_ns = c.check_claims_now ? 0 : 3'600'000'000'000ull;
    o.lock.liveness_period_ns = o.liveness_period_ns == 0 ? 1 : o.liveness_period_ns;
    return o;
}

void read_command(context& c, command_reader& r) {
    for (int i = 0; i < rounds; ++i) {
        use(r.try_read(c.buffer.data(), c.capacity(i)));
        use(r.poll());
        use(r.recheck_after_ns());
        if (c.blocking()) use(r.read(c.buffer.data(), c.capacity(i + 1), no_wait));
    }
    poll_waitable(r.waitable());
    use(r.pending_size() + r.abandoned());
}

void fuzz_command(context& c) {
    command_info info;
    use(inspect_command(c.memory(), c.size(), &info));
    const command_options options = command_options_for(c);
    auto reader = command_reader::attach(c.memory(), c.size(), options);
    if (reader) read_command(c, *reader);
    {
        auto writer = command_writer::attach(c.memory(), c.size(), options);
        if (writer) {
            const std::uint64_t limit = writer->max_message();
            for (int i = 0; i < c.messages(); ++i) {
                const std::size_t n = c.message_size(i, limit);
                if (i == 1 && (c.commit_shorter() || c.drop_one())) {
                    auto r = c.blocking() ? writer->reserve(n, no_wait) : writer->try_reserve(n);
                    if (r) {
                        std::memcpy(r->data(), c.payload.data(), r->size());
                        if (c.commit_shorter()) r->commit(r->size() / 2);
                    }  // dropped: becomes a skip record
                    continue;
                }
                use(c.blocking() ? writer->write(c.payload.data(), n, no_wait) : writer->try_write(c.payload.data(), n));
            }
            use(writer->reader_alive());
        }
    }
    if (reader) read_command(c, *reader);
    use(inspect_command(c.memory(), c.size(), &info));
}

// ---- block -------------------------------------------------------------------------------------

void read_typed(context& c, block& b) {
    typed_view view(b, no_wait);
    char text[64];
    double numbers[8];
    bool flags[8];
    const std::size_t at = b.size() > 8 ? (c.in.script * 7u) % (b.size() - 8) : 0;
    use(view.read<std::uint32_t>());
    use(view.read<bool>());
    use(view.read<double>());
    use(view.peek_length());
    use(view.read_string(text, sizeof text));
    use(view.read_bytes(text, sizeof text));
    use(view.read_list<double>(numbers, 8));
    use(view.read_list<bool>(flags, 8));
    use(view.read_at<std::int64_t>(at));
    use(view.read_at<float>(b.size()));
    use(view.seek(at));
    use(view.read_string(text, sizeof text));
    use(view.seek(b.size() + 1));
    use(view.inconsistent());
}

void fuzz_block(context& c) {
    block_info info;
    use(inspect_block(c.memory(), c.size(), &info));
    block_options options;
    options.lock.spin = 1;
    options.lock.liveness_period_ns = 1;
    auto b = block::attach(c.memory(), c.size(), options);
    if (!b) return;
    std::uint8_t bytes[32];
    for (int i = 0; i < rounds; ++i) {
        const errc shared = b->lock_shared(no_wait);
        use(shared);
        if (shared == errc::ok || shared == errc::owner_dead) {
            use(b->read_at(0, bytes, sizeof bytes < b->size() ? sizeof bytes : b->size()));
            use(b->read_at(b->size() - 1, bytes, 2));
            b->unlock_shared();
        }
        read_typed(c, *b);
    }
    // As the writer: takes the lock from a dead holder (owner_dead), repairs, marks it consistent.
    const errc exclusive = b->lock(no_wait);
    use(exclusive);
    if (exclusive == errc::ok || exclusive == errc::owner_dead) {
        use(b->write_at(0, c.payload.data(), b->size() < 16 ? b->size() : 16));
        use(b->write_at(b->size(), c.payload.data(), 1));
        if (exclusive == errc::owner_dead && (c.in.script & 1) != 0) b->mark_consistent();
        b->unlock();
    }
    {
        typed_view view(*b, no_wait);
        use(view.write<std::uint32_t>(c.in.script));
        use(view.write_string("fuzz", 4));
        const double list[2] = {1.5, -2.0};
        use(view.write_list<double>(list, 2));
    }
    read_typed(c, *b);
    use(b->can_lock());
    use(inspect_block(c.memory(), c.size(), &info));
}

// ---- kv ----------------------------------------------------------------------------------------

void read_kv(context& c, kv_store& kv, std::vector<std::uint32_t>& indices) {
    const std::uint32_t keys = kv.key_count();
    // The first and last few keys, whatever the count.
    for (std::uint32_t n = 0; n < 6 && n < keys; ++n) {
        const std::uint32_t index = n < 3 ? n : keys - 1 - (n - 3);
        use(kv.get(index, c.buffer.data(), c.capacity(static_cast<int>(n))));
        std::size_t length = 0;
        const char* name = kv.key_name(index, &length);
        if (name != nullptr) {
            use(kv.find(name, length));
            char key[4097];
            const std::size_t copy = length < sizeof key - 1 ? length : sizeof key - 1;
            std::memcpy(key, name, copy);
            key[copy] = '\0';
            use(kv.get(key, c.buffer.data(), c.buffer.size()));
        }
    }
    use(kv.get(keys, c.buffer.data(), c.buffer.size()));
    use(kv.find("no such key"));
    use(kv.find("", 0));
    for (int i = 0; i < rounds; ++i) {
        std::uint64_t current = 0;
        const std::uint32_t room = i == 0 ? 1 : static_cast<std::uint32_t>(indices.size());
        use(kv.changed_since(static_cast<std::uint64_t>(i), indices.data(), room, &current));
        use(kv.changed_since(static_cast<std::uint64_t>(i), c.buffer.data(), c.buffer.size(), &current,
                             [](std::uint32_t, const result<kv_value_info>& value) { use(value); }));
        use(kv.wait_change(kv.epoch(), no_wait));
        use(kv.wait_change(0, no_wait));
    }
    std::uint64_t since = kv.epoch();
    poll_waitable(kv.waitable(&since));
    use(kv.pending_size());
}

void fuzz_kv(context& c) {
    kv_info info;
    use(inspect_kv(c.memory(), c.size(), &info));
    kv_options options;
    options.read_retries = 4;
    options.wait.spin = 0;
    options.lock.spin = 1;
    options.lock.liveness_period_ns = 1;
    auto kv = kv_store::attach(c.memory(), c.size(), options);
    if (!kv) return;
    std::vector<std::uint32_t> indices(kv->key_count() + 1);
    read_kv(c, *kv, indices);
    // As a writer: takes a key's lock from a dead holder (counted), writes a few values.
    for (int i = 0; i < c.messages(); ++i) {
        const std::uint32_t index = static_cast<std::uint32_t>(i) % kv->key_count();
        use(kv->set(index, c.payload.data(), c.message_size(i, kv->max_value()), no_wait));
    }
    std::size_t length = 0;
    const char* name = kv->key_name(0, &length);
    if (name != nullptr && length < 64) {
        char key[64];
        std::memcpy(key, name, length);
        key[length] = '\0';
        use(kv->set(key, c.payload.data(), 1, no_wait));
    }
    use(kv->set(kv->key_count(), c.payload.data(), 1, no_wait));
    read_kv(c, *kv, indices);
    use(inspect_kv(c.memory(), c.size(), &info));
}

// ---- stream, video, audio ----------------------------------------------------------------------

template <class Reader>
void read_slots(context& c, Reader& r) {
    for (int i = 0; i < rounds; ++i) {
        use(r.latest(c.buffer.data(), c.capacity(i)));
        use(r.try_next(c.buffer.data(), c.capacity(i + 1)));
        auto v = r.view_latest();
        if (v && v->info.size != 0) {
            std::memcpy(c.buffer.data(), v->data, v->info.size < c.buffer.size() ? v->info.size : c.buffer.size());
            use(v->valid());
        }
        auto n = r.view_next();
        if (n) use(n->valid());
        use(r.poll());
        use(r.fresh());
        use(r.next(c.buffer.data(), c.capacity(i), no_wait));
        if (c.blocking()) use(r.wait_latest(c.buffer.data(), c.capacity(i), no_wait));
        use(r.writer_alive());
    }
    poll_waitable(r.waitable());
    use(r.lost() + r.total_lost() + r.overruns() + r.pending_size() + r.next_index() + r.heartbeat_age_ns());
}

// Writes through the kind's own calls (`write_one`), then the generic ones, then reservations.
template <class Writer, class WriteOne, class ReserveOne>
void write_slots(context& c, Writer& w, WriteOne&& write_one, ReserveOne&& reserve_one) {
    const std::uint64_t limit = w.slot_capacity();
    for (int i = 0; i < c.messages(); ++i) {
        const std::size_t n = c.message_size(i, limit);
        if (i == 1 && (c.commit_shorter() || c.drop_one())) {
            auto r = reserve_one();
            if (r) {
                const std::size_t fill = r->size() < c.payload.size() ? r->size() : c.payload.size();
                std::memcpy(r->data(), c.payload.data(), fill);
                if (c.commit_shorter()) r->commit(fill / 2);
            }  // dropped: the slot then holds nothing
            continue;
        }
        if (i == 2) {
            const std::uint64_t meta[slot_meta_words] = {1, 2, 3, 4, 5};
            use(w.write(c.payload.data(), n, meta));
        } else {
            use(write_one(n));
        }
    }
    w.heartbeat();
    use(w.samples_written());
}

void fuzz_stream(context& c) {
    slot_info slots;
    stream_meta meta;
    use(inspect_stream(c.memory(), c.size(), &slots, &meta));
    stream_reader_options options;
    options.from_oldest = c.from_oldest;
    options.wait.spin = 0;
    if (c.expect) {
        options.expect.type = static_cast<dtype>(1 + c.in.script % 15);
        options.expect.ndim = c.in.script % 3;
        options.expect.shape[0] = c.in.script;
        if ((c.in.script & 8) != 0) {
            options.expect.type = dtype{};
            options.expect.ndim = -1;
            options.expect.schema_name = "Status";
            options.expect.schema_hash = c.in.script;
        }
    }
    auto reader = stream_reader::attach(c.memory(), c.size(), options);
    if (reader) {
        use(reader->ndim() + reader->sample_bytes() + static_cast<std::uint32_t>(reader->type()));
        use(std::strlen(reader->schema_name()) + reader->schema_hash());  // terminated within its field
        read_slots(c, *reader);
    }
    {
        stream_reader_options at_newest;
        at_newest.from_newest = true;
        at_newest.wait.spin = 0;
        auto newest = stream_reader::attach(c.memory(), c.size(), at_newest);
        if (newest) read_slots(c, *newest);
    }
    {
        auto writer = stream_writer::attach(c.memory(), c.size());
        if (writer) {
            write_slots(
                c, *writer, [&](std::size_t n) { return writer->write(c.payload.data(), n); },
                [&] { return writer->reserve(); });
        }
    }
    if (reader) read_slots(c, *reader);
    use(inspect_stream(c.memory(), c.size(), &slots, &meta));
}

void fuzz_video(context& c) {
    slot_info slots;
    video_meta meta;
    use(inspect_video(c.memory(), c.size(), &slots, &meta));
    slot_reader_options options;
    options.from_oldest = c.from_oldest;
    options.wait.spin = 0;
    auto reader = video_reader::attach(c.memory(), c.size(), options);
    if (reader) {
        use(reader->description().frame_bytes);
        read_slots(c, *reader);
    }
    {
        auto writer = video_writer::attach(c.memory(), c.size());
        if (writer) {
            const std::uint64_t frame = writer->description().frame_bytes;
            write_slots(
                c, *writer,
                [&](std::size_t n) {
                    // A whole frame when there is room for one, else a size the writer refuses.
                    return writer->write_frame(c.payload.data(), frame <= c.payload.size() ? frame : n, 7, 9);
                },
                [&] { return writer->reserve_frame(11, 13); });
        }
    }
    if (reader) read_slots(c, *reader);
    use(inspect_video(c.memory(), c.size(), &slots, &meta));
}

void fuzz_audio(context& c) {
    slot_info slots;
    audio_meta meta;
    use(inspect_audio(c.memory(), c.size(), &slots, &meta));
    slot_reader_options options;
    options.from_oldest = c.from_oldest;
    options.wait.spin = 0;
    auto reader = audio_reader::attach(c.memory(), c.size(), options);
    if (reader) {
        use(reader->description().buffer_bytes);
        read_slots(c, *reader);
    }
    {
        auto writer = audio_writer::attach(c.memory(), c.size());
        if (writer) {
            write_slots(
                c, *writer, [&](std::size_t n) { return writer->write_buffer(c.payload.data(), n, 5); },
                [&] { return writer->reserve_buffer(3); });
        }
    }
    if (reader) read_slots(c, *reader);
    use(inspect_audio(c.memory(), c.size(), &slots, &meta));
}

}  // namespace
}  // namespace shmkit::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace shmkit::fuzz;
    input in;
    if (!parse(data, size, &in)) return 0;
    image img(in.image, in.image_size);
    if (!in.raw) {
        seal(img, in.k);
        pin_identities(img, in.k, in.roles, in.others);
    }
    context c(in, img);
    switch (in.k) {
        case shmkit::kind::broadcast: fuzz_broadcast(c); break;
        case shmkit::kind::spsc: fuzz_spsc(c); break;
        case shmkit::kind::command: fuzz_command(c); break;
        case shmkit::kind::block: fuzz_block(c); break;
        case shmkit::kind::kv: fuzz_kv(c); break;
        case shmkit::kind::stream: fuzz_stream(c); break;
        case shmkit::kind::video: fuzz_video(c); break;
        case shmkit::kind::audio: fuzz_audio(c); break;
        case shmkit::kind::channel: break;  // not in the input's kind table yet (see kinds[])
    }
    return 0;
}
