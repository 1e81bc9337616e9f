// A forked child running a lambda (POSIX only): for the tests about fork() itself. Every other
// multi-process test uses test::child (child.hpp), which works on every OS.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>

namespace shmkit::test {

// Its exit code is body's return value. A child never returns into GoogleTest: an assertion
// failure inside it becomes a nonzero exit code.
class forked_child {
public:
    explicit forked_child(const std::function<int()>& body) {
        std::fflush(nullptr);
        pid_ = ::fork();
        if (pid_ == 0) {
            const int code = body();
            std::fflush(nullptr);
            ::_exit(code);
        }
    }
    ~forked_child() {
        if (pid_ > 0 && !reaped_) static_cast<void>(kill_and_wait());
    }
    forked_child(const forked_child&) = delete;
    forked_child& operator=(const forked_child&) = delete;

    pid_t pid() const { return pid_; }
    int kill_and_wait() {
        ::kill(pid_, SIGKILL);
        return wait();
    }
    // Exit code, or 128 + signal number.
    int wait() {
        int status = 0;
        ::waitpid(pid_, &status, 0);
        reaped_ = true;
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
        return 255;
    }

private:
    pid_t pid_ = -1;
    bool reaped_ = false;
};

}  // namespace shmkit::test
