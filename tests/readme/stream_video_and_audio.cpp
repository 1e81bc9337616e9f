// Harness for README.md's stream, video and audio snippets (see CMakeLists.txt).
#include <cstdint>
#include <cstdio>

#include <shmkit/stream.hpp>
#include <shmkit/video.hpp>

void readme_stream() {
    float samples[64 * 4] = {};
    char buf[sizeof samples];
#include "readme_stream_video_and_audio_1.inc"
    static_cast<void>(written);
    static_cast<void>(newest);
    static_cast<void>(each);
    static_cast<void>(view);
}

void readme_stream_schema() {
#include "readme_stream_video_and_audio_2.inc"
}

void readme_video(std::int64_t video_pts, std::int64_t audio_pts) {
#include "readme_stream_video_and_audio_3.inc"
}
