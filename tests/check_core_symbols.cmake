# Fails if the core's objects reference anything outside shmkit itself except memcpy, memmove,
# memset and memcmp: no operator new/delete, malloc/free, __cxa_* (exceptions, guards, pure
# virtuals), std::__throw_*, and no libc or pthread function.
# Usage: cmake -DNM=<nm> -DLIB=<libshmkit_core.a> -P check_core_symbols.cmake
execute_process(COMMAND ${NM} -u -C ${LIB} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm failed on ${LIB}")
endif()
string(REPLACE "\n" ";" lines "${out}")
set(bad "")
set(count 0)
foreach(line IN LISTS lines)
  string(STRIP "${line}" line)
  if(line STREQUAL "" OR line MATCHES ":$")
    continue()  # blank lines and "member.o:" headings
  endif()
  string(REGEX REPLACE "^U +" "" sym "${line}")
  math(EXPR count "${count} + 1")
  if(sym MATCHES "^(memcpy|memmove|memset|memcmp|bcmp)(@.*)?$")
    continue()  # (Clang emits bcmp, memcmp's equality-only twin, for memcmp(...) == 0)
  elseif(sym MATCHES "^shmkit::")
    continue()  # the port's os:: functions and the core's own symbols
  elseif(sym MATCHES "^(__stack_chk_fail|__stack_chk_guard|_GLOBAL_OFFSET_TABLE_|__aeabi_[a-z0-9]+|__(u?div|u?mod)di3)$")
    continue()  # inserted by the compiler (stack protector, PIC, 32-bit ARM division helpers)
  elseif(sym MATCHES "^__aarch64_(cas|swp|ldadd|ldclr|ldeor|ldset)[0-9]+_(relax|acq|rel|acq_rel)$")
    continue()  # libgcc's aarch64 outline atomics: LSE or LL/SC chosen at run time
  endif()
  list(APPEND bad "${sym}")
endforeach()
if(bad)
  list(REMOVE_DUPLICATES bad)
  string(REPLACE ";" "\n  " pretty "${bad}")
  message(FATAL_ERROR "The core references forbidden symbols:\n  ${pretty}")
endif()
message(STATUS "core symbol check passed (${count} undefined references, all allowed)")
