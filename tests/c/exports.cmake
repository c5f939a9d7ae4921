# exports.cmake -- CTest check (cmake -P): libpyalloc.so exports every
# function pyalloc.h declares (PA_API ... pa_name(...)), and nothing else of
# its own but pa_* (the conventions of the C API), apart from what the .NET
# runtime cannot do without.  A stray export would clash with symbols of the
# programs that load the library.
#
#   cmake -DLIBRARY=<libpyalloc.so> -DHEADER=<pyalloc.h> -DNM=<nm> -P exports.cmake
cmake_minimum_required(VERSION 3.20)
foreach(var LIBRARY HEADER NM)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "exports.cmake: -D${var}=... is required")
  endif()
endforeach()

# What the runtime cannot do without in the dynamic symbol table: nothing
# (its debugger header, DotNetRuntimeDebugHeader, is kept local).
set(runtime_exports "")

execute_process(COMMAND "${NM}" -D --defined-only "${LIBRARY}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} failed: ${err}")
endif()
string(REPLACE "\n" ";" lines "${out}")
set(exported "")
set(stray "")
foreach(line IN LISTS lines)
  # "<address> <type> <name>[@@version]"; "A" entries are version nodes.
  if(NOT line MATCHES "^[0-9a-fA-F]+ ([A-Za-z]) ([^@ ]+)")
    continue()
  endif()
  set(type "${CMAKE_MATCH_1}")
  set(name "${CMAKE_MATCH_2}")
  if(type STREQUAL "A")
    continue()
  endif()
  if(name MATCHES "^pa_")
    list(APPEND exported "${name}")
  elseif(NOT name IN_LIST runtime_exports)
    list(APPEND stray "${name} (${type})")
  endif()
endforeach()
list(LENGTH exported n)
message("libpyalloc.so exports ${n} pa_* symbols: ${exported}")
if(stray)
  message(FATAL_ERROR "libpyalloc.so exports symbols outside the pa_ prefix: ${stray}")
endif()

# Every function the header declares.
file(READ "${HEADER}" header)
string(REGEX MATCHALL "PA_API[^;(]*[ *](pa_[A-Za-z0-9_]+)[ ]*\\(" decls "${header}")
set(missing "")
set(declared 0)
set(declared_names "")
foreach(decl IN LISTS decls)
  string(REGEX REPLACE ".*[ *](pa_[A-Za-z0-9_]+)[ ]*\\($" "\\1" fn "${decl}")
  math(EXPR declared "${declared} + 1")
  list(APPEND declared_names "${fn}")
  if(NOT fn IN_LIST exported)
    list(APPEND missing "${fn}")
  endif()
endforeach()
if(declared EQUAL 0)
  message(FATAL_ERROR "no PA_API declarations found in ${HEADER}")
endif()
message("pyalloc.h declares ${declared} functions")
if(missing)
  message(FATAL_ERROR "declared in pyalloc.h but not exported by libpyalloc.so: ${missing}")
endif()

# And nothing of its own beyond them: the private pa__* calls between the C
# entry layer and the core bind inside the library.
set(extra "")
foreach(fn IN LISTS exported)
  if(NOT fn IN_LIST declared_names)
    list(APPEND extra "${fn}")
  endif()
endforeach()
if(extra)
  message(FATAL_ERROR "exported by libpyalloc.so but not declared in pyalloc.h: ${extra}")
endif()
