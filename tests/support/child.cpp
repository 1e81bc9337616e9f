// The role registry and argument encoding of child.hpp (the OS parts: child_posix.cpp,
// child_win32.cpp).
#include "support/child.hpp"

#include <cstdio>
#include <cstdlib>
#include <map>

namespace shmkit::test {
namespace {
std::map<std::string, role_function>& roles() {
    static std::map<std::string, role_function> r;
    return r;
}
constexpr const char role_flag[] = "--shmkit-role=";
}  // namespace

role_registration::role_registration(const char* name, role_function f) {
    if (!roles().emplace(name, f).second) {
        std::fprintf(stderr, "test role %s is registered twice\n", name);
        std::abort();
    }
}

const std::string& role_args::text(std::size_t i) const {
    if (i >= items_.size()) {
        std::fprintf(stderr, "test role: argument %zu missing (%zu given)\n", i, items_.size());
        std::abort();
    }
    return items_[i];
}

std::string encode_bytes(const void* p, std::size_t size) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < size; ++i) {
        out += digits[b[i] >> 4];
        out += digits[b[i] & 15];
    }
    return out;
}

void role_args::decode(std::size_t i, void* out, std::size_t size) const {
    const std::string& t = text(i);
    if (t.size() != 2 * size) {
        std::fprintf(stderr, "test role: argument %zu is %zu hex digits, not %zu\n", i, t.size(), 2 * size);
        std::abort();
    }
    auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    auto* b = static_cast<unsigned char*>(out);
    for (std::size_t k = 0; k < size; ++k) {
        b[k] = static_cast<unsigned char>(nibble(t[2 * k]) << 4 | nibble(t[2 * k + 1]));
    }
}

bool run_role_if_asked(int argc, char** argv, int* exit_code) {
    if (argc < 2 || std::strncmp(argv[1], role_flag, sizeof role_flag - 1) != 0) return false;
    const std::string name = argv[1] + sizeof role_flag - 1;
    const auto it = roles().find(name);
    if (it == roles().end()) {
        std::fprintf(stderr, "no test role named %s\n", name.c_str());
        *exit_code = 98;
        return true;
    }
    prepare_role_process();
    std::vector<std::string> args(argv + 2, argv + argc);
    *exit_code = it->second(role_args(std::move(args)));
    std::fflush(nullptr);
    return true;
}

child::child(const char* role, std::initializer_list<std::string> args) { start(role, std::vector<std::string>(args)); }
child::child(const char* role, const std::vector<std::string>& args) { start(role, args); }

std::vector<std::string> role_command_line(const char* role, const std::vector<std::string>& args) {
    std::vector<std::string> argv;
    argv.push_back(std::string(role_flag) + role);
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

}  // namespace shmkit::test
