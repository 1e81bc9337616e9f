// Shared pieces of the shmkit command-line tool.
#pragma once

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

}  // namespace shmkit::cli
