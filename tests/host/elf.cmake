# elf.cmake -- the installed library follows the ELF conventions (cmake -P,
# CTest: host.elf):
#   lib/libpyalloc.so -> libpyalloc.so.MAJOR -> libpyalloc.so.VERSION, soname
#   libpyalloc.so.MAJOR, no rpath; the dynamic symbols are the header's
#   functions and nothing else (tests/c/exports.cmake); no relocation names a
#   pa_ symbol (every call inside the library binds inside it); the symbol
#   table is kept and the debug sections are not; the debug file is at
#   lib/debug/.build-id/NN/REST.debug and lib/.debug/<debuglink>, all its
#   units DWARF 4; pyalloc.pc has no rpath; a host links the soname.
#   -DPREFIX= -DVERSION= -DMAJOR= -DHEADER= -DEXPORTS_SCRIPT= -DHOST_PROGRAM=
cmake_minimum_required(VERSION 3.20)
set(lib "${PREFIX}/lib")
set(real "${lib}/libpyalloc.so.${VERSION}")


function(tool out)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${ARGN} failed: ${e}")
  endif()
  set(${out} "${o}" PARENT_SCOPE)
endfunction()

file(READ_SYMLINK "${lib}/libpyalloc.so" dev)
file(READ_SYMLINK "${lib}/libpyalloc.so.${MAJOR}" so)
message("lib/libpyalloc.so -> ${dev}\nlib/libpyalloc.so.${MAJOR} -> ${so}")
if(NOT (dev STREQUAL "libpyalloc.so.${MAJOR}"))
  message(FATAL_ERROR "lib/libpyalloc.so points to ${dev}")
endif()
if(NOT (so STREQUAL "libpyalloc.so.${VERSION}"))
  message(FATAL_ERROR "lib/libpyalloc.so.${MAJOR} points to ${so}")
endif()
if(NOT (NOT IS_SYMLINK "${real}"))
  message(FATAL_ERROR "${real} is not the real file")
endif()

tool(dynamic readelf -d "${real}")
message("---- readelf -d ${real}\n${dynamic}")
if(NOT (dynamic MATCHES "Library soname: \\[libpyalloc\\.so\\.${MAJOR}\\]"))
  message(FATAL_ERROR "soname is not libpyalloc.so.${MAJOR}")
endif()
if(NOT (NOT dynamic MATCHES "RPATH|RUNPATH"))
  message(FATAL_ERROR "the library carries an rpath")
endif()

execute_process(COMMAND "${CMAKE_COMMAND}" -DLIBRARY=${real} -DNM=nm -DHEADER=${HEADER} -P "${EXPORTS_SCRIPT}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
message("${o}${e}")
if(NOT (rc EQUAL 0))
  message(FATAL_ERROR "the dynamic symbols are not the header's functions")
endif()
tool(symbols nm -D --defined-only "${real}")
message("---- nm -D --defined-only ${real}\n${symbols}")

tool(relocs readelf -r -W "${real}")
string(REGEX MATCHALL "[^\n]* pa_[A-Za-z0-9_]*[^\n]*" pa_relocs "${relocs}")
if(NOT (NOT pa_relocs))
  message(FATAL_ERROR "relocations name pa_ symbols (calls through the PLT/GOT): ${pa_relocs}")
endif()

tool(sections readelf -S -W "${real}")
if(NOT (sections MATCHES " \\.symtab "))
  message(FATAL_ERROR "the shipped library has no symbol table")
endif()
if(NOT (sections MATCHES " \\.gnu_debuglink "))
  message(FATAL_ERROR "the shipped library has no .gnu_debuglink")
endif()
if(NOT (NOT sections MATCHES " \\.debug_info "))
  message(FATAL_ERROR "the shipped library still has its debug sections")
endif()

tool(notes readelf -n "${real}")
if(NOT (notes MATCHES "Build ID: ([0-9a-f][0-9a-f])([0-9a-f]+)"))
  message(FATAL_ERROR "no build ID")
endif()
set(by_id "${lib}/debug/.build-id/${CMAKE_MATCH_1}/${CMAKE_MATCH_2}.debug")
if(NOT (EXISTS "${by_id}"))
  message(FATAL_ERROR "no debug file at ${by_id}")
endif()
if(NOT (EXISTS "${lib}/.debug/libpyalloc.so.${VERSION}.debug"))
  message(FATAL_ERROR "no debug file by its debuglink name")
endif()
execute_process(COMMAND readelf --debug-dump=info "${by_id}" OUTPUT_VARIABLE info ERROR_QUIET)
string(REGEX MATCHALL "Version:[ ]+[0-9]+" versions "${info}")
list(REMOVE_DUPLICATES versions)
message("DWARF units of ${by_id}: ${versions}")
if(NOT (versions STREQUAL "Version:       4"))
  message(FATAL_ERROR "the debug file's units are not all DWARF 4: ${versions}")
endif()

file(READ "${lib}/pkgconfig/pyalloc.pc" pc)
message("---- pyalloc.pc\n${pc}")
if(NOT (NOT pc MATCHES "rpath"))
  message(FATAL_ERROR "pyalloc.pc puts an rpath in Libs")
endif()
if(NOT (pc MATCHES "prefix=${PREFIX}\n"))
  message(FATAL_ERROR "pyalloc.pc does not name the install prefix")
endif()

tool(host_dynamic readelf -d "${HOST_PROGRAM}")
if(NOT (host_dynamic MATCHES "Shared library: \\[libpyalloc\\.so\\.${MAJOR}\\]"))
  message(FATAL_ERROR "a host does not link the soname")
endif()
