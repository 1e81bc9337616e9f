// How a reader that the writer can lap (broadcast, stream, video, audio) starts and maps.
#pragma once

#include "shmkit/segment.hpp"
#include "shmkit/wait.hpp"

namespace shmkit {

struct reader_options {
    // Where in-order reads start: by default at the next message or sample written after
    // attach. from_oldest: at the oldest one still kept. from_newest: at the newest one present
    // at attach (the next new one if there is none). Not both (invalid_argument).
    bool from_oldest = false;
    bool from_newest = false;
    // Map read-only: the non-waiting calls work; a blocking call that would have to sleep gets
    // access_denied (sleeping announces the reader on a shared wait word).
    bool read_only = false;
    wait_options wait{};  // spin before sleeping in the blocking calls
    segment_options segment{};
};

}  // namespace shmkit
