# The smoke test of shmkit_bench_peers (ctest: bench_peers_smoke): a few quick benchmarks of
# shmkit and the floor only (no peer, no daemon), then the JSON's names, counters and context.
# Nothing here looks at a figure: timing never decides whether a test passes.
#
#   cmake -DEXE=<shmkit_bench_peers> -DOUT=<json> -P smoke.cmake
cmake_minimum_required(VERSION 3.19)  # string(JSON)

execute_process(
  COMMAND ${EXE} --peers_quick "--benchmark_filter=^Peers/(busy_poll|blocking)_rtt_64B/(shmkit_broadcast|floor)/"
          --benchmark_out=${OUT} --benchmark_out_format=json
  RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "shmkit_bench_peers exited with ${status}:\n${output}")
endif()

file(READ ${OUT} json)
foreach(key cpu_model kernel iceoryx_version boost_version zeromq_version)
  string(JSON value ERROR_VARIABLE missing GET "${json}" context ${key})
  if(missing OR value STREQUAL "")
    message(FATAL_ERROR "context.${key} missing from ${OUT}")
  endif()
endforeach()

set(expected Peers/busy_poll_rtt_64B/shmkit_broadcast Peers/busy_poll_rtt_64B/floor
             Peers/blocking_rtt_64B/shmkit_broadcast Peers/blocking_rtt_64B/floor)
string(JSON count LENGTH "${json}" benchmarks)
set(seen "")
if(count GREATER 0)
  math(EXPR last "${count} - 1")
  foreach(i RANGE ${last})
    string(JSON name GET "${json}" benchmarks ${i} name)
    # Google Benchmark appends its run options (/iterations:1/manual_time) to the name.
    string(REGEX REPLACE "/(iterations|min_time|repeats|threads):[^/]*|/(manual|real)_time" "" family "${name}")
    string(JSON failed ERROR_VARIABLE no_error GET "${json}" benchmarks ${i} error_occurred)
    if(NOT no_error AND failed)
      string(JSON why GET "${json}" benchmarks ${i} error_message)
      message(FATAL_ERROR "${name} was skipped: ${why}")
    endif()
    foreach(counter p50_ns p90_ns p99_ns mean_ns floor_p50_ns ratio_to_floor ratio_to_shmkit)
      string(JSON value ERROR_VARIABLE missing GET "${json}" benchmarks ${i} ${counter})
      if(missing)
        message(FATAL_ERROR "${name} has no counter ${counter}")
      endif()
    endforeach()
    list(APPEND seen ${family})
  endforeach()
endif()
foreach(name ${expected})
  if(NOT name IN_LIST seen)
    message(FATAL_ERROR "${name} is missing from ${OUT} (found: ${seen})")
  endif()
endforeach()
message(STATUS "shmkit_bench_peers: ${seen}")
