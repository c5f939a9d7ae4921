# InstallExtras.cmake -- the install steps that need the installed prefix or
# the built library (included by `cmake --install`, see CMakeLists.txt):
#
#   - the debug file at lib/debug/.build-id/NN/REST.debug, the path gdb,
#     valgrind and perf derive from the library's build ID (under /usr they
#     find it with no option; for another prefix, point them at
#     PREFIX/lib/debug: gdb `set debug-file-directory`, valgrind
#     --extra-debuginfo-path), and lib/.debug/<debuglink name> -> that file,
#     the path all three try beside the library by its .gnu_debuglink;
#   - lib/pkgconfig/pyalloc.pc in the standard form, with the prefix it is
#     installed into.
#
# Set by the caller: PYALLOC_LIBRARY_FILE, PYALLOC_DEBUG_FILE,
# PYALLOC_PC_TEMPLATE, PYALLOC_PC_FILE, PROJECT_VERSION.
execute_process(COMMAND readelf -n "${PYALLOC_LIBRARY_FILE}"
                OUTPUT_VARIABLE notes RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT notes MATCHES "Build ID: ([0-9a-f]+)")
  message(FATAL_ERROR "no GNU build ID in ${PYALLOC_LIBRARY_FILE}")
endif()
set(build_id "${CMAKE_MATCH_1}")
string(SUBSTRING "${build_id}" 0 2 id_dir)
string(SUBSTRING "${build_id}" 2 -1 id_rest)
get_filename_component(debug_name "${PYALLOC_DEBUG_FILE}" NAME)

file(INSTALL "${PYALLOC_DEBUG_FILE}" DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/debug/.build-id/${id_dir}"
     RENAME "${id_rest}.debug")
set(link "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/lib/.debug/${debug_name}")
file(MAKE_DIRECTORY "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/lib/.debug")
file(REMOVE "${link}")
file(CREATE_LINK "../debug/.build-id/${id_dir}/${id_rest}.debug" "${link}" SYMBOLIC)
message(STATUS "Installing: ${link} -> ../debug/.build-id/${id_dir}/${id_rest}.debug")

set(PYALLOC_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
configure_file("${PYALLOC_PC_TEMPLATE}" "${PYALLOC_PC_FILE}" @ONLY)
file(INSTALL "${PYALLOC_PC_FILE}" DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/pkgconfig")
