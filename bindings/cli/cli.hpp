// Shared pieces of the shmkit command-line tool. Options are parsed with CLI11, JSON is written
// with nlohmann-json.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace shmkit::cli {

// Exit codes: 0 success, 1 the operation failed, 2 bad usage.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;
inline constexpr int exit_usage = 2;

using args = std::vector<std::string>;

// Adds the subcommand `name` to `app`: `synopsis` is its usage line (after "usage: shmkit "),
// `summary` its one line in `shmkit --help`, `details` the rest of its --help.
CLI::App* add_command(CLI::App& app, const std::string& name, const std::string& synopsis, const std::string& summary,
                      const std::string& details);

// Each registers its subcommand; when it runs, it stores its exit code in *status.
void add_ls(CLI::App& app, int* status);
void add_info(CLI::App& app, int* status);
void add_rm(CLI::App& app, int* status);
void add_gc(CLI::App& app, int* status);
void add_demo(CLI::App& app, int* status);
// The demo's reader processes run `shmkit demo-reader ...` (hidden from the usage).
void add_demo_reader(CLI::App& app, int* status);

// A segment name from the command line: "x" or "/x" gives "/x". False (with a message on
// stderr naming `command` and the rules) if it is not a valid name.
bool take_name(const char* command, const std::string& given, std::string* name);

std::string human_bytes(unsigned long long n);

// Starts this executable again with `arguments` (after the program name): the process, or -1.
std::intptr_t start_self(const args& arguments);
// This process's parent, and whether it still is: a demo reader whose writer died without telling
// it (SIGKILL) exits instead of waiting forever. On Windows this is not checked (always true).
std::intptr_t current_parent();
bool still_parent(std::intptr_t parent);
// Waits for a process from start_self(): its exit code (128 + signal if killed on POSIX).
int wait_for(std::intptr_t process);

}  // namespace shmkit::cli
