// Harness for README.md's command snippet (see CMakeLists.txt).
#include <shmkit/command.hpp>

void readme_command(shmkit::nanoseconds timeout) {
    char buf[256];
#include "readme_command_1.inc"
    static_cast<void>(sent);
    static_cast<void>(m);
}
