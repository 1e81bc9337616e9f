#include <benchmark/benchmark.h>

// Benchmarks run in registration order within this binary; the floors (floors.cpp) are
// registered first so that every later ratio divides by a floor measured minutes earlier on
// the same machine, not by a figure from elsewhere.
BENCHMARK_MAIN();
