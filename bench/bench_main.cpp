#include <sys/utsname.h>

#include <fstream>
#include <string>

#include <benchmark/benchmark.h>

// Benchmarks run in registration order within this binary; the floors (floors.cpp) are
// registered first so that every later ratio divides by a floor measured minutes earlier on
// the same machine, not by a figure from elsewhere.
//
// The JSON's context also says which CPU and kernel the figures come from (custom context
// keys cpu_model and kernel), which bench/report.py prints above its tables.

namespace {

// The value of the first "key : value" line of /proc/cpuinfo whose key is `key`, or "".
std::string cpuinfo_field(const std::string& key) {
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        auto name = line.substr(0, colon);
        name.erase(name.find_last_not_of(" \t") + 1);
        if (name != key) continue;
        const auto start = line.find_first_not_of(" \t", colon + 1);
        return start == std::string::npos ? std::string() : line.substr(start);
    }
    return {};
}

// x86's "model name"; on aarch64, which has none, the board's "Hardware" line and the core's
// implementer and part numbers.
std::string cpu_model() {
    auto model = cpuinfo_field("model name");
    if (!model.empty()) return model;
    const auto hardware = cpuinfo_field("Hardware");
    const auto implementer = cpuinfo_field("CPU implementer");
    const auto part = cpuinfo_field("CPU part");
    std::string core;
    if (!part.empty()) core = "CPU implementer " + (implementer.empty() ? "?" : implementer) + ", part " + part;
    if (!hardware.empty() && !core.empty()) return hardware + " (" + core + ")";
    if (!hardware.empty()) return hardware;
    if (!core.empty()) return core;
    return "unknown";
}

std::string kernel_release() {
    utsname u{};
    if (::uname(&u) != 0) return "unknown";
    return u.release;
}

}  // namespace

// BENCHMARK_MAIN(), with the context added first.
int main(int argc, char** argv) {
    char arg0_default[] = "benchmark";
    char* args_default = arg0_default;
    if (!argv) {
        argc = 1;
        argv = &args_default;
    }
    benchmark::AddCustomContext("cpu_model", cpu_model());
    benchmark::AddCustomContext("kernel", kernel_release());
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
