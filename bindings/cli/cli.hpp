// Shared pieces of the shmkit command-line tool.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace shmkit::cli {

// Exit codes: 0 success, 1 the operation failed, 2 bad usage.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;
inline constexpr int exit_usage = 2;

using args = std::vector<std::string>;

bool has_flag(args& a, const char* flag);  // removes the flag if present
bool wants_help(const args& a);

int cmd_ls(args a);
int cmd_info(args a);
int cmd_rm(args a);
int cmd_gc(args a);
int cmd_demo(args a);

std::string human_bytes(unsigned long long n);

// Starts this executable again with `arguments` (after the program name): the process, or -1.
std::intptr_t start_self(const args& arguments);
// Waits for a process from start_self(): its exit code (128 + signal if killed on POSIX).
int wait_for(std::intptr_t process);

// The demo's reader processes run `shmkit demo-reader ...` (not listed in the usage).
int cmd_demo_reader(args a);

}  // namespace shmkit::cli
