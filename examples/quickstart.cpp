// The README's C++ quick start. tests/consumer builds it against an installed shmkit, both
// through find_package(shmkit) and through pkg-config, and runs it.
#include <cstdio>
#include <cstring>

#include <shmkit/broadcast.hpp>

int main() {
    using namespace shmkit;

    // The writer creates a named broadcast segment with a 64 KiB ring.
    broadcast_config config;
    config.capacity = 64 * 1024;
    auto writer = broadcast_writer::create("/quickstart", config);
    if (!writer) {
        std::printf("create failed: %s\n", to_string(writer.error()));
        return 1;
    }

    // Any number of readers open it by name, in this process or any other.
    auto reader = broadcast_reader::open("/quickstart");
    if (!reader) return 1;

    // Copying write...
    if (writer->write("hello", 5) != errc::ok) return 1;
    // ...or zero-copy: reserve a slot, fill it in place, commit.
    if (auto slot = writer->reserve(32)) {
        std::memcpy(slot->data(), "zero-copy", 9);
        slot->commit(9);
    }

    char buf[256];
    for (int i = 0; i < 2; ++i) {
        auto msg = reader->read(buf, sizeof buf, std::chrono::milliseconds(100));
        if (!msg) {
            std::printf("read failed: %s\n", to_string(msg.error()));  // timeout, message_too_large, ...
            return 1;
        }
        std::printf("message %llu: %.*s\n", static_cast<unsigned long long>(msg->seq),
                    static_cast<int>(msg->size), buf);
    }

    writer = broadcast_writer{};  // closing a handle never removes the segment...
    return segment::remove("/quickstart") == errc::ok ? 0 : 1;  // ...remove() does
}
