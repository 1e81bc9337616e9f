// Child processes for the multi-process tests, portable: a child re-executes the test binary
// with `--shmkit-role=<name> <args...>`, which runs the function registered under that name
// instead of GoogleTest (tests/main.cpp). Nothing is inherited but the arguments, so a role
// opens its segments, and the test's shared<T> handshake blocks, by name. fork() itself is
// left to the tests about fork semantics (tests/mp/test_fork.cpp).
//
//     SHMKIT_TEST_ROLE(wait_for_flag) {                  // int wait_for_flag(const role_args& args)
//         auto s = test::shared<flags>::open(args.text(0));
//         const auto mode = args.value<barrier_mode>(1);
//         ...
//         return 0;                                      // the child's exit code
//     }
//     test::child c("wait_for_flag", {s.name(), test::arg(mode)});
//     EXPECT_EQ(c.wait(), 0);
#pragma once

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <vector>

namespace shmkit::test {

// A role's arguments: strings as given, or values encoded with arg().
class role_args {
public:
    explicit role_args(std::vector<std::string> items) : items_(std::move(items)) {}
    std::size_t size() const { return items_.size(); }
    const std::string& text(std::size_t i) const;
    // Decodes arg(value): any trivially copyable type (numbers, enums, option structs).
    template <class T>
    T value(std::size_t i) const {
        static_assert(std::is_trivially_copyable_v<T>);
        T v;
        decode(i, &v, sizeof v);
        return v;
    }

private:
    void decode(std::size_t i, void* out, std::size_t size) const;
    std::vector<std::string> items_;
};

// Encodes a trivially copyable value as text for a role's arguments (role_args::value<T>).
std::string encode_bytes(const void* p, std::size_t size);
template <class T>
std::string arg(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    return encode_bytes(&v, sizeof v);
}

using role_function = int (*)(const role_args&);
// Registers a role at static-initialisation time; a name registered twice aborts the binary.
struct role_registration {
    role_registration(const char* name, role_function f);
};

#define SHMKIT_TEST_ROLE(role_name)                                                             \
    static int role_name(const ::shmkit::test::role_args& args);                               \
    static const ::shmkit::test::role_registration role_name##_registration(#role_name, &role_name); \
    static int role_name([[maybe_unused]] const ::shmkit::test::role_args& args)

// The arguments after the executable that run `role` with `args` (for the OS parts).
std::vector<std::string> role_command_line(const char* role, const std::vector<std::string>& args);

// Called in a child before its role runs: on Linux, the child dies with the test process
// (a test that crashed must not leave children running). Linux ties this to the thread that
// started the child, so start children from the test's main thread.
void prepare_role_process();

// If argv asks for a role, runs it and stores its exit code: tests/main.cpp calls this first.
bool run_role_if_asked(int argc, char** argv, int* exit_code);

// What wait() returns for a child that was killed hard (SIGKILL on POSIX, TerminateProcess on
// Windows): 128 + SIGKILL, the shell's convention, on both.
inline constexpr int killed_status = 128 + 9;
// What wait() returns for a child that aborted (SIGABRT, or abort() on Windows).
#if defined(_WIN32)
inline constexpr int aborted_status = 3;
#else
inline constexpr int aborted_status = 128 + 6;
#endif

// A child process running a role. Destroying it kills and reaps the child if it still runs.
class child {
public:
    child(const char* role, std::initializer_list<std::string> args = {});
    child(const char* role, const std::vector<std::string>& args);
    ~child();
    child(const child&) = delete;
    child& operator=(const child&) = delete;

    // The child's process id (as os::self().pid says in the child).
    std::uint32_t pid() const { return pid_; }
    // Kills the child hard (a crash at whatever it was doing) and reaps it: killed_status
    // unless it had already exited.
    int kill_and_wait();
    // Its exit code (killed_status / aborted_status for those deaths). Waits as long as the
    // child runs: a hung child is caught by the ctest timeout, not by a timing assertion.
    int wait();
    // Waits for the child to exit but keeps it unreaped: its pid is not reused, and the OS
    // still knows the exited process (a zombie on POSIX, a signalled process object on Windows).
    void wait_without_reaping();

private:
    void start(const char* role, const std::vector<std::string>& args);
    std::uint32_t pid_ = 0;
    std::intptr_t handle_ = -1;  // Windows: the process handle
    bool reaped_ = false;
};

// Whether process `pid` is asleep in a wait: on Linux, blocked in the kernel; on Windows, one of
// its threads parked on a word (and every thread waiting, where Windows says).
bool asleep(std::uint32_t pid);

}  // namespace shmkit::test
