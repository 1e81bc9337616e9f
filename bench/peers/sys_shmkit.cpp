// shmkit's broadcast, spsc and channel, each over two rings in the control block's mapping
// (caller-given memory: format() in the coordinator, attach() in the children). "ping" carries
// the leader's (or writer's) messages, "pong" the answers. Blocking waits sleep at once
// (wait_options::spin = 0), so they measure the sleeping path; busy ones poll the try_ calls.
#include <cstring>
#include <string>

#include "peers.hpp"
#include "roles.hpp"
#include "shmkit/broadcast.hpp"
#include "shmkit/channel.hpp"
#include "shmkit/spsc.hpp"

namespace shmkit::peers {
namespace {

std::uint64_t page_round(std::uint64_t n) { return (n + page_bytes - 1) / page_bytes * page_bytes; }

// Ring capacities: a frame ring holds two 1080p frames, message rings 1 MiB (as bench/).
std::uint64_t ping_ring(const params& p) { return p.what == kind::frame ? 16u << 20 : 1u << 20; }
std::uint64_t pong_ring(const params& p) { return p.what == kind::frame ? 64u << 10 : 1u << 20; }
bool has_pong(const params& p) { return p.what == kind::round_trip || p.what == kind::frame; }

std::string failed_to(const char* what, errc e) { return std::string(what) + ": " + to_string(e); }
void check(const char* what, errc e) {
    if (e != errc::ok) fail(failed_to(what, e));
}
template <class T>
T check(const char* what, result<T>&& r) {
    if (!r) fail(failed_to(what, r.error()));
    return std::move(*r);
}

// Where the two rings are, given each one's segment size.
struct rings {
    std::uint8_t* ping;
    std::uint64_t ping_size;
    std::uint8_t* pong;
    std::uint64_t pong_size;
};
rings place(control& c, std::uint64_t ping_size, std::uint64_t pong_size) {
    return {arena(c), ping_size, arena(c) + page_round(ping_size), pong_size};
}

// ---- broadcast -----------------------------------------------------------------------------

broadcast_config broadcast_ring(std::uint64_t capacity) {
    broadcast_config config;
    config.capacity = capacity;
    return config;
}
rings broadcast_rings(control& c) {
    return place(c, broadcast_writer::segment_size(broadcast_ring(ping_ring(c.p))),
                 broadcast_writer::segment_size(broadcast_ring(pong_ring(c.p))));
}

class broadcast_link : public copies_only {
public:
    static constexpr bool zero_copy = false;

    broadcast_link(control& c, std::uint32_t index) : blocking_(c.p.blocking) {
        const rings r = broadcast_rings(c);
        broadcast_reader_options options;
        options.wait.spin = 0;
        if (index == 0) {
            writer_ = check("broadcast_writer::attach", broadcast_writer::attach(r.ping, r.ping_size));
            if (has_pong(c.p)) reader_ = check("broadcast_reader::attach", broadcast_reader::attach(r.pong, r.pong_size, options));
        } else {
            reader_ = check("broadcast_reader::attach", broadcast_reader::attach(r.ping, r.ping_size, options));
            if (has_pong(c.p)) writer_ = check("broadcast_writer::attach", broadcast_writer::attach(r.pong, r.pong_size));
        }
    }
    void connected() {}

    void send(const void* data, std::size_t size) { check("broadcast_writer::write", writer_.write(data, size)); }
    std::size_t receive(void* buffer, std::size_t capacity) {
        for (;;) {
            auto m = blocking_ ? reader_.read(buffer, capacity, wait_forever) : reader_.try_read(buffer, capacity);
            if (m) return m->size;
            if (m.error() != errc::empty && m.error() != errc::stale) fail(failed_to("broadcast_reader::read", m.error()));
            cpu_relax();
        }
    }
    bool try_receive(void* buffer, std::size_t capacity) {
        auto m = reader_.try_read(buffer, capacity);
        if (m) return true;
        if (m.error() != errc::empty && m.error() != errc::stale) fail(failed_to("broadcast_reader::try_read", m.error()));
        return false;
    }

private:
    bool blocking_;
    broadcast_writer writer_;
    broadcast_reader reader_;
};

std::string prepare_broadcast(control& c) {
    const rings r = broadcast_rings(c);
    if (auto w = broadcast_writer::format(r.ping, r.ping_size, broadcast_ring(ping_ring(c.p))); !w) {
        return failed_to("broadcast_writer::format", w.error());
    }
    if (has_pong(c.p)) {
        if (auto w = broadcast_writer::format(r.pong, r.pong_size, broadcast_ring(pong_ring(c.p))); !w) {
            return failed_to("broadcast_writer::format", w.error());
        }
    }
    return {};  // the writers formatted here are closed again: the children take the roles over
}

// ---- spsc ----------------------------------------------------------------------------------

spsc_config spsc_ring(std::uint64_t capacity) {
    spsc_config config;
    config.capacity = capacity;
    return config;
}
rings spsc_rings(control& c) {
    return place(c, spsc_producer::segment_size(spsc_ring(ping_ring(c.p))),
                 spsc_producer::segment_size(spsc_ring(pong_ring(c.p))));
}

class spsc_link {
public:
    static constexpr bool zero_copy = true;

    spsc_link(control& c, std::uint32_t index) : blocking_(c.p.blocking) {
        const rings r = spsc_rings(c);
        spsc_options options;
        options.wait.spin = 0;
        std::uint8_t* out = index == 0 ? r.ping : r.pong;
        std::uint8_t* in = index == 0 ? r.pong : r.ping;
        const std::uint64_t out_size = index == 0 ? r.ping_size : r.pong_size;
        const std::uint64_t in_size = index == 0 ? r.pong_size : r.ping_size;
        if (index == 0 || has_pong(c.p)) producer_ = check("spsc_producer::attach", spsc_producer::attach(out, out_size, options));
        if (index != 0 || has_pong(c.p)) consumer_ = check("spsc_consumer::attach", spsc_consumer::attach(in, in_size, options));
    }
    void connected() {}

    void send(const void* data, std::size_t size) {
        if (blocking_) return check("spsc_producer::push", producer_.push(data, size, wait_forever));
        errc e;
        while ((e = producer_.try_push(data, size)) == errc::full) cpu_relax();
        check("spsc_producer::try_push", e);
    }
    std::size_t receive(void* buffer, std::size_t capacity) {
        for (;;) {
            auto m = blocking_ ? consumer_.pop(buffer, capacity, wait_forever) : consumer_.try_pop(buffer, capacity);
            if (m) return m->size;
            if (m.error() != errc::empty) fail(failed_to("spsc_consumer::pop", m.error()));
            cpu_relax();
        }
    }
    bool try_receive(void* buffer, std::size_t capacity) {
        auto m = consumer_.try_pop(buffer, capacity);
        if (m) return true;
        if (m.error() != errc::empty) fail(failed_to("spsc_consumer::try_pop", m.error()));
        return false;
    }
    std::uint8_t* loan(std::size_t size) {
        for (;;) {
            auto r = blocking_ ? producer_.reserve(size, wait_forever) : producer_.try_reserve(size);
            if (r) {
                reservation_ = std::move(*r);
                return reservation_.data();
            }
            if (r.error() != errc::full) fail(failed_to("spsc_producer::reserve", r.error()));
            cpu_relax();
        }
    }
    void publish(std::size_t size) { reservation_.commit(size); }
    const std::uint8_t* take(std::size_t* size) {
        for (;;) {
            auto m = blocking_ ? consumer_.peek(wait_forever) : consumer_.try_peek();
            if (m) {
                *size = m->size;
                return m->data;
            }
            if (m.error() != errc::empty) fail(failed_to("spsc_consumer::peek", m.error()));
            cpu_relax();
        }
    }
    void release() { consumer_.release(); }

private:
    bool blocking_;
    spsc_producer producer_;
    spsc_consumer consumer_;
    reservation reservation_;
};

std::string prepare_spsc(control& c) {
    const rings r = spsc_rings(c);
    if (auto p = spsc_producer::format(r.ping, r.ping_size, spsc_ring(ping_ring(c.p))); !p) {
        return failed_to("spsc_producer::format", p.error());
    }
    if (auto p = spsc_producer::format(r.pong, r.pong_size, spsc_ring(pong_ring(c.p))); !p) {
        return failed_to("spsc_producer::format", p.error());
    }
    return {};
}

// ---- channel -------------------------------------------------------------------------------

channel_config channel_ring(std::uint64_t capacity) {
    channel_config config;
    config.capacity = capacity;
    return config;
}
rings channel_rings(control& c) {
    return place(c, channel_writer::segment_size(channel_ring(ping_ring(c.p))),
                 channel_writer::segment_size(channel_ring(pong_ring(c.p))));
}

class channel_link {
public:
    static constexpr bool zero_copy = true;

    channel_link(control& c, std::uint32_t index) : blocking_(c.p.blocking) {
        const rings r = channel_rings(c);
        channel_options options;
        options.wait.spin = 0;
        std::uint8_t* out = index == 0 ? r.ping : r.pong;
        std::uint8_t* in = index == 0 ? r.pong : r.ping;
        const std::uint64_t out_size = index == 0 ? r.ping_size : r.pong_size;
        const std::uint64_t in_size = index == 0 ? r.pong_size : r.ping_size;
        if (index == 0 || has_pong(c.p)) writer_ = check("channel_writer::attach", channel_writer::attach(out, out_size, options));
        if (index != 0 || has_pong(c.p)) reader_ = check("channel_reader::attach", channel_reader::attach(in, in_size, options));
    }
    void connected() {}

    void send(const void* data, std::size_t size) {
        if (blocking_) return check("channel_writer::write", writer_.write(data, size, wait_forever));
        errc e;
        while ((e = writer_.try_write(data, size)) == errc::full) cpu_relax();
        check("channel_writer::try_write", e);
    }
    std::size_t receive(void* buffer, std::size_t capacity) {
        std::size_t size = 0;
        const std::uint8_t* data = take(&size);
        std::memcpy(buffer, data, size < capacity ? size : capacity);
        reader_.release();
        return size;
    }
    bool try_receive(void* buffer, std::size_t capacity) {
        auto m = reader_.try_read();
        if (!m) {
            if (m.error() != errc::empty) fail(failed_to("channel_reader::try_read", m.error()));
            return false;
        }
        std::memcpy(buffer, m->data, m->size < capacity ? m->size : capacity);
        reader_.release();
        return true;
    }
    std::uint8_t* loan(std::size_t size) {
        for (;;) {
            auto r = blocking_ ? writer_.reserve(size, wait_forever) : writer_.try_reserve(size);
            if (r) {
                reservation_ = std::move(*r);
                return reservation_.data();
            }
            if (r.error() != errc::full) fail(failed_to("channel_writer::reserve", r.error()));
            cpu_relax();
        }
    }
    void publish(std::size_t size) { reservation_.commit(size); }
    const std::uint8_t* take(std::size_t* size) {
        for (;;) {
            auto m = blocking_ ? reader_.read(wait_forever) : reader_.try_read();
            if (m) {
                *size = m->size;
                return m->data;
            }
            if (m.error() != errc::empty) fail(failed_to("channel_reader::read", m.error()));
            cpu_relax();
        }
    }
    void release() { reader_.release(); }

private:
    bool blocking_;
    channel_writer writer_;
    channel_reader reader_;
    reservation reservation_;
};

std::string prepare_channel(control& c) {
    const rings r = channel_rings(c);
    if (auto w = channel_writer::format(r.ping, r.ping_size, channel_ring(ping_ring(c.p))); !w) {
        return failed_to("channel_writer::format", w.error());
    }
    if (auto w = channel_writer::format(r.pong, r.pong_size, channel_ring(pong_ring(c.p))); !w) {
        return failed_to("channel_writer::format", w.error());
    }
    return {};
}

// ---- the three systems ---------------------------------------------------------------------


std::uint64_t broadcast_arena(const params& p) {
    return page_round(broadcast_writer::segment_size(broadcast_ring(ping_ring(p)))) +
           page_round(broadcast_writer::segment_size(broadcast_ring(pong_ring(p))));
}
std::uint64_t spsc_arena(const params& p) {
    return page_round(spsc_producer::segment_size(spsc_ring(ping_ring(p)))) +
           page_round(spsc_producer::segment_size(spsc_ring(pong_ring(p))));
}
std::uint64_t channel_arena(const params& p) {
    return page_round(channel_writer::segment_size(channel_ring(ping_ring(p)))) +
           page_round(channel_writer::segment_size(channel_ring(pong_ring(p))));
}

int run_broadcast(control& c, std::uint32_t index) { return run_roles<broadcast_link>(c, index); }
int run_spsc(control& c, std::uint32_t index) { return run_roles<spsc_link>(c, index); }
int run_channel(control& c, std::uint32_t index) { return run_roles<channel_link>(c, index); }

}  // namespace

const system_ops shmkit_broadcast_ops = {built_in, broadcast_arena, prepare_broadcast, no_cleanup, run_broadcast, no_daemon, no_version};
const system_ops shmkit_spsc_ops = {built_in, spsc_arena, prepare_spsc, no_cleanup, run_spsc, no_daemon, no_version};
const system_ops shmkit_channel_ops = {built_in, channel_arena, prepare_channel, no_cleanup, run_channel, no_daemon, no_version};

}  // namespace shmkit::peers
