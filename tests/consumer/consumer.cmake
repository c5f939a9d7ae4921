# consumer.cmake -- CTest driver for the installed-package tests (cmake -P).
#
#   -DSTEP=install          cmake --install BUILD_DIR into a fresh PREFIX
#   -DSTEP=installed_files  the header, library (with its soname and
#                           development links), debug file, pkg-config and
#                           CMake package files are in PREFIX; pkg-config
#                           reports the project's version
#   -DSTEP=find_package     configure, build and run tests/consumer against
#                           PREFIX with find_package(PyAlloc)
#   -DSTEP=pkg_config       compile tests/consumer/consumer.c with
#                           `cc ... $(pkg-config --cflags --libs pyalloc)`
#                           (PKG_CONFIG_PATH=PREFIX/lib/pkgconfig) and run it
#                           with LD_LIBRARY_PATH=PREFIX/lib (no rpath)
#
# Other variables: BUILD_DIR, PREFIX, WORK_DIR, CONSUMER_SOURCE_DIR,
# C_COMPILER, VERSION.
cmake_minimum_required(VERSION 3.20)
set(ENV{PYALLOC_MALLOC} "")   # the consumer expects the default mode

include("${CMAKE_CURRENT_LIST_DIR}/../cmake/run.cmake")
require(STEP BUILD_DIR PREFIX WORK_DIR CONSUMER_SOURCE_DIR C_COMPILER VERSION)


function(check_consumer_output output)
  expect_all("${output}" "the consumer's" "consumer: OK"
             "class   size   num pools   blocks in use  avail blocks" "# arenas allocated current")
endfunction()

if(STEP STREQUAL "install")
  file(REMOVE_RECURSE "${PREFIX}")
  run("install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}")

elseif(STEP STREQUAL "installed_files")
  foreach(f include/pyalloc.h lib/libpyalloc.so lib/libpyalloc.so.0 lib/libpyalloc.so.${VERSION}
            lib/.debug/libpyalloc.so.${VERSION}.debug lib/pkgconfig/pyalloc.pc
            lib/cmake/PyAlloc/PyAllocConfig.cmake lib/cmake/PyAlloc/PyAllocConfigVersion.cmake)
    if(NOT EXISTS "${PREFIX}/${f}")
      message(FATAL_ERROR "not installed: ${PREFIX}/${f}")
    endif()
    file(SIZE "${PREFIX}/${f}" size)
    if(size EQUAL 0)
      message(FATAL_ERROR "installed but empty: ${PREFIX}/${f}")
    endif()
  endforeach()
  file(READ "${CONSUMER_SOURCE_DIR}/../../include/pyalloc.h" source_header)
  file(READ "${PREFIX}/include/pyalloc.h" installed_header)
  if(NOT source_header STREQUAL installed_header)
    message(FATAL_ERROR "the installed pyalloc.h differs from include/pyalloc.h")
  endif()
  set(ENV{PKG_CONFIG_PATH} "${PREFIX}/lib/pkgconfig")
  run("pkg-config version" pkg-config --modversion pyalloc)
  string(STRIP "${RUN_OUTPUT}" pc_version)
  if(NOT pc_version STREQUAL VERSION)
    message(FATAL_ERROR "pkg-config says version ${pc_version}, the project is ${VERSION}")
  endif()

elseif(STEP STREQUAL "find_package")
  set(dir "${WORK_DIR}/find_package")
  file(REMOVE_RECURSE "${dir}")
  run("configure" "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${dir}"
      "-DCMAKE_PREFIX_PATH=${PREFIX}" "-DCMAKE_C_COMPILER=${C_COMPILER}"
      "-DPYALLOC_REQUIRED_VERSION=${VERSION}" -DCMAKE_BUILD_TYPE=Release)
  string(FIND "${RUN_OUTPUT}" "PyAlloc ${VERSION} from ${PREFIX}/lib/cmake/PyAlloc" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "find_package(PyAlloc) did not find version ${VERSION} under ${PREFIX}")
  endif()
  run("build" "${CMAKE_COMMAND}" --build "${dir}")
  run("run" "${dir}/consumer" "${PREFIX}/lib")
  check_consumer_output("${RUN_OUTPUT}")

elseif(STEP STREQUAL "pkg_config")
  set(dir "${WORK_DIR}/pkg_config")
  file(REMOVE_RECURSE "${dir}")
  file(MAKE_DIRECTORY "${dir}")
  set(ENV{PKG_CONFIG_PATH} "${PREFIX}/lib/pkgconfig")
  run("pkg-config" pkg-config --cflags --libs pyalloc)
  string(STRIP "${RUN_OUTPUT}" flags)
  separate_arguments(flags UNIX_COMMAND "${flags}")
  run("compile" "${C_COMPILER}" -Wall -Wextra -Werror "${CONSUMER_SOURCE_DIR}/consumer.c" ${flags}
      -o "${dir}/consumer")
  # pyalloc.pc carries no rpath: the program finds the library as the README
  # says, here through LD_LIBRARY_PATH.
  set(ENV{LD_LIBRARY_PATH} "${PREFIX}/lib")
  run("run" "${dir}/consumer" "${PREFIX}/lib")
  check_consumer_output("${RUN_OUTPUT}")

else()
  message(FATAL_ERROR "consumer.cmake: unknown STEP '${STEP}'")
endif()
