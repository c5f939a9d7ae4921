# build.cmake -- compiles the tests/host programs against an installed
# prefix, as an outside project would (cmake -P, CTest: host.build):
#   cc -I PREFIX/include X.c -L PREFIX/lib -lpyalloc -Wl,-rpath,PREFIX/lib
# and the ASan hosts again with -fsanitize=address.
#   -DPREFIX=... -DSOURCE_DIR=... -DWORK_DIR=... -DC_COMPILER=...
cmake_minimum_required(VERSION 3.20)
foreach(var PREFIX SOURCE_DIR WORK_DIR C_COMPILER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "build.cmake: -D${var}=... is required")
  endif()
endforeach()
file(MAKE_DIRECTORY "${WORK_DIR}")
set(common -std=c11 -g -O1 -Wall -Wextra -Werror -I "${PREFIX}/include")
set(link -L "${PREFIX}/lib" -lpyalloc "-Wl,-rpath,${PREFIX}/lib")

function(compile out)
  execute_process(COMMAND "${C_COMPILER}" ${ARGN} -o "${WORK_DIR}/${out}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
  message("---- ${out}: ${C_COMPILER} ${ARGN}\n${o}${e}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "building ${out} failed")
  endif()
endfunction()

foreach(p signals rlimit interpose memcheck_ok memory_bugs)
  compile(${p} ${common} "${SOURCE_DIR}/${p}.c" ${link})
endforeach()
foreach(p asan_ok memory_bugs)
  compile(${p}_asan ${common} -fsanitize=address -fno-omit-frame-pointer "${SOURCE_DIR}/${p}.c" ${link})
endforeach()
