# expect.cmake -- runs one command and checks how it ends (cmake -P):
# Lists are joined by "@@":
#   -DCOMMAND=a@@b@@c      the command
#   -DEXPECT_RC=0|nonzero  its exit status
#   -DEXPECT=re1;re2       regular expressions its output (stdout and stderr) must match
#   -DREJECT=re1;re2       ... and must not
#   -DENV=VAR=value;...    environment for it
cmake_minimum_required(VERSION 3.20)
foreach(var COMMAND EXPECT REJECT ENV)
  string(REPLACE "@@" ";" ${var} "${${var}}")
endforeach()
foreach(kv IN LISTS ENV)
  string(FIND "${kv}" "=" eq)
  string(SUBSTRING "${kv}" 0 ${eq} name)
  math(EXPR from "${eq} + 1")
  string(SUBSTRING "${kv}" ${from} -1 value)
  set(ENV{${name}} "${value}")
endforeach()
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
message("---- ${COMMAND} (exit ${rc})\n${all}")
if(EXPECT_RC STREQUAL "nonzero")
  if(rc EQUAL 0)
    message(FATAL_ERROR "expected a failure, the command exited 0")
  endif()
elseif(NOT rc EQUAL EXPECT_RC)
  message(FATAL_ERROR "expected exit ${EXPECT_RC}, got ${rc}")
endif()
foreach(re IN LISTS EXPECT)
  if(NOT all MATCHES "${re}")
    message(FATAL_ERROR "the output does not match \"${re}\"")
  endif()
endforeach()
foreach(re IN LISTS REJECT)
  if(all MATCHES "${re}")
    message(FATAL_ERROR "the output matches \"${re}\", which it must not")
  endif()
endforeach()
