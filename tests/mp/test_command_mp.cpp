// command between processes: four writers, one reader; nothing lost, nothing torn, each
// writer's commands in order.
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "shmkit/command.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using test::child;
using test::message_codec;
using test::unique_name;

constexpr int writers = 4;
constexpr std::uint64_t per_writer = 25'000 / test::stress_divisor;

// Message index = writer * 2^32 + n, so the reader can check every writer's order.
int write_all(command_writer& w, std::uint64_t writer_id) {
    std::vector<std::uint8_t> buf(256);
    for (std::uint64_t n = 0; n < per_writer; ++n) {
        const std::size_t size = message_codec::fill(buf.data(), 16 + (n * 7 + writer_id) % 200, (writer_id << 32) | n);
        if (w.write(buf.data(), size, wait_forever) != errc::ok) return 1;
    }
    return 0;
}

std::uint64_t read_all(command_reader& r) {
    std::vector<std::uint64_t> next(writers, 0);
    std::vector<std::uint8_t> buf(r.max_message());
    std::uint64_t bad = 0;
    for (std::uint64_t i = 0; i < writers * per_writer; ++i) {
        auto m = r.read(buf.data(), buf.size(), wait_forever);
        std::uint64_t index;
        if (!m || !message_codec::verify(buf.data(), m->size, &index)) {
            ++bad;
            continue;
        }
        const std::uint64_t w = index >> 32;
        if (w >= writers || (index & 0xFFFFFFFFu) != next[w]++) ++bad;
    }
    return bad;
}

// One of FourWritersOneReader's writers (argument 1: its id), with a handle of its own; it
// starts writing once every writer is ready (each starts tens of milliseconds apart).
SHMKIT_TEST_ROLE(command_mp_writer) {
    auto ready = test::shared<std::atomic<int>>::open(args.text(2));
    auto cw = command_writer::open(args.text(0).c_str());
    ready->fetch_add(1);  // a writer that cannot open still counts, and fails below
    test::spin_until([&] { return ready->load() == writers; });
    return cw ? write_all(*cw, args.value<std::uint64_t>(1)) : 9;
}

TEST(CommandProcesses, FourWritersOneReader) {
    unique_name name("cmd-mp");
    command_config config;
    config.capacity = 16u << 10;  // small: writers wait for room constantly
    auto r = command_reader::create(name.c_str(), config);
    ASSERT_TRUE(r);
    test::shared<std::atomic<int>> ready;
    std::vector<std::unique_ptr<child>> children;
    for (std::uint64_t w = 0; w < writers; ++w) {
        children.push_back(std::make_unique<child>(
            "command_mp_writer", std::initializer_list<std::string>{name.c_str(), test::arg(w), ready.name()}));
    }
    EXPECT_EQ(read_all(*r), 0u);
    for (auto& c : children) EXPECT_EQ(c->wait(), 0);
    char b[8];
    EXPECT_EQ(r->try_read(b, sizeof b).error(), errc::empty);
}

TEST(CommandThreads, FourWritersOneReader) {
    command_config config;
    config.capacity = 8u << 10;
    const std::uint64_t size = command_reader::segment_size(config);
    std::vector<std::uint64_t> storage(size / 8 + 8);
    void* memory = reinterpret_cast<void*>((reinterpret_cast<std::uintptr_t>(storage.data()) + 63) & ~std::uintptr_t{63});
    auto r = command_reader::format(memory, size, config);
    ASSERT_TRUE(r);
    std::vector<std::thread> threads;
    std::vector<int> results(writers, -1);
    for (std::uint64_t w = 0; w < writers; ++w) {
        threads.emplace_back([&, w] {
            auto cw = command_writer::attach(memory, size);
            results[w] = cw ? write_all(*cw, w) : 9;
        });
    }
    EXPECT_EQ(read_all(*r), 0u);
    for (auto& t : threads) t.join();
    for (int rc : results) EXPECT_EQ(rc, 0);
}

}  // namespace
}  // namespace shmkit
