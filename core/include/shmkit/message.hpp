// What a read of a message kind (broadcast, spsc, command) returns: the message's size and
// sequence number, copied out or in place, and how many messages were lost just before it.
#pragma once

#include <cstdint>

namespace shmkit {

// A message copied out into the caller's buffer.
struct message_info {
    std::uint64_t size = 0;  // payload bytes copied out
    std::uint64_t seq = 0;   // the writer's sequence number for this message, from 0
    // Messages lost just before this one (a broadcast writer lapped the reader); 0 for kinds
    // that never lose any (spsc, command).
    std::uint64_t lost = 0;
};

// A message read in place (zero-copy), valid until the reader releases it.
struct message_view {
    const std::uint8_t* data = nullptr;
    std::uint64_t size = 0;
    std::uint64_t seq = 0;
    std::uint64_t lost = 0;  // as message_info::lost
};

}  // namespace shmkit
