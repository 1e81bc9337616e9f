// The floor: what two processes pay with no IPC library in the way, through the same harness.
// floors.cpp's ping-pong: one word on its own cache line, which each side in turn advances
// (the leader to odd values, the follower to even ones), and a payload buffer per direction
// that each side memcpys into before advancing the word and out of after seeing it advance.
// Busy waits spin on the word; blocking ones sleep in futex wait and every advance calls futex
// wake. For frames the zero-copy floor is the header-only hand-off: the word moves, the frame
// stays where the writer wrote it, and both sides touch it exactly as the systems' zero-copy
// writers and readers do.
#include <algorithm>
#include <cstring>

#include "peers.hpp"
#include "roles.hpp"
#include "shmkit/os.hpp"

namespace shmkit::peers {
namespace {

struct alignas(64) floor_line {
    atomic_u32 word;
    std::uint32_t size[2];  // per direction: written before the word advances, read after
    std::uint8_t pad[52];
};
static_assert(sizeof(floor_line) == 64);

std::uint64_t page_round(std::uint64_t n) { return (n + page_bytes - 1) / page_bytes * page_bytes; }
std::uint64_t ping_capacity(const params& p) { return p.what == kind::frame ? frame_bytes : message_capacity; }

// Messages strictly alternate (a ping and its pong, a frame and its ack, the one idle message),
// so "the word moved past the value I last saw or wrote" is "the other side sent".
class floor_link {
public:
    static constexpr bool zero_copy = true;

    floor_link(control& c, std::uint32_t index) : blocking_(c.p.blocking) {
        std::uint8_t* base = arena(c);
        line_ = reinterpret_cast<floor_line*>(base);
        buffers_[0] = base + page_bytes;
        buffers_[1] = base + page_bytes + page_round(ping_capacity(c.p));
        out_ = index == 0 ? 0 : 1;
        in_ = 1 - out_;
    }
    void connected() {}

    void send(const void* data, std::size_t size) {
        std::memcpy(buffers_[out_], data, size);
        publish(size);
    }
    std::size_t receive(void* buffer, std::size_t capacity) {
        wait();
        const std::size_t size = line_->size[in_];
        std::memcpy(buffer, buffers_[in_], std::min(size, capacity));
        return size;
    }
    bool try_receive(void* buffer, std::size_t capacity) {
        const std::uint32_t v = line_->word.load(order::acquire);
        if (v == value_) return false;
        value_ = v;
        std::memcpy(buffer, buffers_[in_], std::min<std::size_t>(line_->size[in_], capacity));
        return true;
    }

    std::uint8_t* loan(std::size_t /*size*/) { return buffers_[out_]; }
    void publish(std::size_t size) {
        line_->size[out_] = static_cast<std::uint32_t>(size);
        line_->word.store(++value_, order::release);
        if (blocking_) static_cast<void>(os::futex_wake_all(&line_->word.raw));
    }
    const std::uint8_t* take(std::size_t* size) {
        wait();
        *size = line_->size[in_];
        return buffers_[in_];
    }
    void release() {}

private:
    void wait() {
        std::uint32_t v;
        while ((v = line_->word.load(order::acquire)) == value_) {
            if (blocking_) static_cast<void>(os::futex_wait(&line_->word.raw, value_, os::forever));
            else cpu_relax();
        }
        value_ = v;
    }

    bool blocking_;
    floor_line* line_ = nullptr;
    std::uint8_t* buffers_[2] = {};
    int out_ = 0, in_ = 1;
    std::uint32_t value_ = 0;  // the word as this side last saw or wrote it
};

std::uint64_t arena_size(const params& p) { return page_bytes + page_round(ping_capacity(p)) + page_round(message_capacity); }
int run_child(control& c, std::uint32_t index) { return run_roles<floor_link>(c, index); }

}  // namespace

const system_ops floor_ops = {built_in, arena_size, nothing_to_prepare, no_cleanup, run_child, no_daemon, no_version};

}  // namespace shmkit::peers
