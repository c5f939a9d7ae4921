# ps1.cmake -- CTest driver of tests/ps1 (cmake -P): build.ps1 under PowerShell
# 7.6.10, the local .NET tool of .config/dotnet-tools.json.
#   -DSTEP=tool     dotnet tool restore; `dotnet pwsh -Version` says 7.6.10
#   -DSTEP=help     `build.ps1 help` names every command of `build.sh help`
#   -DSTEP=install  `build.ps1 install PREFIX`, then tests/consumer's checks of
#                   an install (installed_files, pkg_config) on PREFIX
# Other variables: DOTNET, SOURCE_DIR, WORK_DIR, C_COMPILER, VERSION.
cmake_minimum_required(VERSION 3.20)
include("${CMAKE_CURRENT_LIST_DIR}/../cmake/run.cmake")
require(STEP DOTNET SOURCE_DIR WORK_DIR C_COMPILER VERSION)
set(RUN_WORKING_DIRECTORY "${SOURCE_DIR}")   # where the tool manifest is found


set(pwsh "${DOTNET}" tool run pwsh -- -NoProfile -NonInteractive)

if(STEP STREQUAL "tool")
  run("tool restore" "${DOTNET}" tool restore)
  run("pwsh version" ${pwsh} -Command "$PSVersionTable.PSVersion.ToString()")
  string(STRIP "${RUN_OUTPUT}" v)
  if(NOT v STREQUAL "7.6.10")
    message(FATAL_ERROR "PowerShell ${v}, expected 7.6.10")
  endif()

elseif(STEP STREQUAL "help")
  run("build.ps1 help" ${pwsh} -File "${SOURCE_DIR}/build.ps1" help)
  set(ps1_help "${RUN_OUTPUT}")
  run("build.sh help" bash "${SOURCE_DIR}/build.sh" help)
  # Every command build.sh documents ("./build.sh NAME") is documented by build.ps1.
  string(REGEX MATCHALL "\\./build\\.sh [a-z]+" commands "${RUN_OUTPUT}")
  list(REMOVE_DUPLICATES commands)
  list(LENGTH commands n)
  if(n LESS 4)
    message(FATAL_ERROR "build.sh help lists ${n} commands: ${commands}")
  endif()
  foreach(c IN LISTS commands)
    string(REPLACE "./build.sh" "./build.ps1" p "${c}")
    string(FIND "${ps1_help}" "${p}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "build.ps1 help does not list '${p}' (build.sh has '${c}')")
    endif()
  endforeach()

elseif(STEP STREQUAL "install")
  set(prefix "${WORK_DIR}/prefix")
  file(REMOVE_RECURSE "${prefix}")
  run("build.ps1 install" ${pwsh} -File "${SOURCE_DIR}/build.ps1" install "${prefix}")
  foreach(check installed_files pkg_config)
    run("consumer ${check}" "${CMAKE_COMMAND}" -DSTEP=${check} -DBUILD_DIR=${SOURCE_DIR}/build/cmake
        -DPREFIX=${prefix} -DWORK_DIR=${WORK_DIR}/consumer
        -DCONSUMER_SOURCE_DIR=${SOURCE_DIR}/tests/consumer -DC_COMPILER=${C_COMPILER}
        -DVERSION=${VERSION} -P "${SOURCE_DIR}/tests/consumer/consumer.cmake")
  endforeach()

else()
  message(FATAL_ERROR "ps1.cmake: unknown STEP '${STEP}'")
endif()
