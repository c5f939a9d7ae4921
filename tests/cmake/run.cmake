# run.cmake -- helpers shared by the cmake -P drivers of tests/ (consumer,
# ps1, package).
#
#   require(VAR...)        stops unless each -DVAR=... was given
#   run(<what> COMMAND...) runs a command (in RUN_WORKING_DIRECTORY when set),
#                          echoes its output, stops on failure; leaves stdout in
#                          RUN_OUTPUT and stderr in RUN_ERROR
#   expect_all(<output> <whose> LINE...)
#                          stops unless each LINE occurs in <output>
#                          ("<whose> output lacks ...")
function(require)
  foreach(var IN LISTS ARGN)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
      get_filename_component(driver "${CMAKE_SCRIPT_MODE_FILE}" NAME)
      message(FATAL_ERROR "${driver}: -D${var}=... is required")
    endif()
  endforeach()
endfunction()

function(run what)
  set(dir "${RUN_WORKING_DIRECTORY}")
  if(NOT dir)
    set(dir "${CMAKE_CURRENT_BINARY_DIR}")
  endif()
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY "${dir}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message("---- ${what}: ${ARGN}\n${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc})")
  endif()
  set(RUN_OUTPUT "${out}" PARENT_SCOPE)
  set(RUN_ERROR "${err}" PARENT_SCOPE)
endfunction()

function(expect_all output whose)
  foreach(line IN LISTS ARGN)
    string(FIND "${output}" "${line}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "${whose} output lacks \"${line}\"")
    endif()
  endforeach()
endfunction()
