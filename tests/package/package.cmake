# package.cmake -- CTest driver of tests/package (cmake -P): the NuGet package
# as a .NET developer outside this repository uses it.
#   -DSTEP=pack     dotnet pack (as ./build.sh pack) into a fresh local feed;
#                   the package holds the binding, its XML docs, libpyalloc.so
#                   and its debug file as the linux-x64 native asset, the
#                   readme, the licence and the project's version
#   -DSTEP=jit      a fresh console app (app/) that references the package
#                   from that feed (its own NuGet cache, so no stale copy is
#                   used) builds and runs under the JIT
#   -DSTEP=aot      the same app published with PublishAot=true, with no
#                   trimming or AOT warning, runs as a native executable
#   -DSTEP=quickstart  the README's ".NET quick start", exactly as written:
#                   its commands run in bash (PYALLOC pointing at a tree whose
#                   build/packages is the feed), its Program.cs replaces the
#                   template's, and `dotnet run` prints what the README says
# Other variables: DOTNET, SOURCE_DIR, NATIVE_DIR, WORK_DIR, VERSION.
cmake_minimum_required(VERSION 3.20)
include("${CMAKE_CURRENT_LIST_DIR}/../cmake/run.cmake")
require(STEP DOTNET SOURCE_DIR NATIVE_DIR WORK_DIR VERSION)
set(feed "${WORK_DIR}/feed")
set(app "${WORK_DIR}/app")
set(ENV{NUGET_PACKAGES} "${WORK_DIR}/nuget-packages")
set(ENV{DOTNET_CLI_TELEMETRY_OPTOUT} 1)
set(ENV{DOTNET_NOLOGO} 1)
set(ENV{PYALLOC_LIBRARY} "")   # the app must find the package's library by itself
set(ENV{PYALLOC_MALLOC} "")


function(expect_lines output)
  expect_all("${output}" "the app's" "version ${VERSION}" "buffer 100 bytes, 112 usable"
             "ref_offsets 16,24" "collected 2" "callbacks 2" "traces some"
             "list traced at Program.cs:42" "safe collected 2" "done")
endfunction()

if(STEP STREQUAL "pack")
  file(REMOVE_RECURSE "${WORK_DIR}")
  run("pack" "${DOTNET}" pack "${SOURCE_DIR}/src/PyAlloc/PyAlloc.csproj" -c Release
      "-p:PyAllocNativeDir=${NATIVE_DIR}/" -o "${feed}" --nologo)
  set(nupkg "${feed}/PyAlloc.${VERSION}.nupkg")
  if(NOT EXISTS "${nupkg}")
    message(FATAL_ERROR "no ${nupkg}")
  endif()
  file(MAKE_DIRECTORY "${WORK_DIR}/unpacked")
  execute_process(COMMAND "${CMAKE_COMMAND}" -E tar xf "${nupkg}" WORKING_DIRECTORY "${WORK_DIR}/unpacked"
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cannot unpack ${nupkg}")
  endif()
  foreach(f lib/net10.0/PyAlloc.dll lib/net10.0/PyAlloc.xml runtimes/linux-x64/native/libpyalloc.so
            runtimes/linux-x64/native/libpyalloc.so.${VERSION}.debug README.md PyAlloc.nuspec)
    if(NOT EXISTS "${WORK_DIR}/unpacked/${f}")
      message(FATAL_ERROR "the package lacks ${f}")
    endif()
  endforeach()
  file(READ "${WORK_DIR}/unpacked/runtimes/linux-x64/native/libpyalloc.so" lib HEX LIMIT 4)
  file(READ "${NATIVE_DIR}/libpyalloc.so.${VERSION}" built HEX)
  file(READ "${WORK_DIR}/unpacked/runtimes/linux-x64/native/libpyalloc.so" packed HEX)
  if(NOT lib STREQUAL "7f454c46" OR NOT built STREQUAL packed)
    message(FATAL_ERROR "the package's libpyalloc.so is not the library just built")
  endif()
  file(READ "${WORK_DIR}/unpacked/PyAlloc.nuspec" nuspec)
  execute_process(COMMAND git rev-parse HEAD WORKING_DIRECTORY "${SOURCE_DIR}"
                  OUTPUT_VARIABLE head OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR NOT head)
    message(FATAL_ERROR "cannot read the commit of ${SOURCE_DIR}")
  endif()
  foreach(want "<version>${VERSION}</version>" "<license type=\"expression\">MIT</license>"
               "<repository type=\"git\"" "commit=\"${head}\""
               "<readme>README.md</readme>" "<description>CPython's memory management" "<tags>")
    string(FIND "${nuspec}" "${want}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "the nuspec lacks ${want}")
    endif()
  endforeach()

elseif(STEP STREQUAL "jit" OR STEP STREQUAL "aot")
  file(REMOVE_RECURSE "${app}")
  file(MAKE_DIRECTORY "${app}")
  file(COPY "${SOURCE_DIR}/tests/package/app/Program.cs" DESTINATION "${app}")
  set(PYALLOC_VERSION "${VERSION}")
  set(FEED "${feed}")
  configure_file("${SOURCE_DIR}/tests/package/app/PackageApp.csproj.in" "${app}/PackageApp.csproj" @ONLY)
  configure_file("${SOURCE_DIR}/tests/package/app/nuget.config.in" "${app}/nuget.config" @ONLY)
  # The app is built outside the repository, so no Directory.Build.props of ours applies.
  file(WRITE "${app}/Directory.Build.props" "<Project />\n")
  file(WRITE "${app}/Directory.Build.targets" "<Project />\n")
  if(STEP STREQUAL "jit")
    run("build" "${DOTNET}" build "${app}/PackageApp.csproj" -c Release --nologo)
    run("run" "${DOTNET}" "${app}/bin/Release/net10.0/PackageApp.dll")
    expect_lines("${RUN_OUTPUT}${RUN_ERROR}")
    if(NOT EXISTS "${app}/bin/Release/net10.0/runtimes/linux-x64/native/libpyalloc.so"
       AND NOT EXISTS "${app}/bin/Release/net10.0/libpyalloc.so")
      message(FATAL_ERROR "the build output has no libpyalloc.so")
    endif()
  else()
    run("publish" "${DOTNET}" publish "${app}/PackageApp.csproj" -c Release -r linux-x64
        -p:PublishAot=true -o "${app}/aot" --nologo)
    string(REGEX MATCH "warning IL[0-9]+[^\n]*" warning "${RUN_OUTPUT}${RUN_ERROR}")
    if(warning)
      message(FATAL_ERROR "publishing with PublishAot warned: ${warning}")
    endif()
    if(NOT EXISTS "${app}/aot/libpyalloc.so")
      message(FATAL_ERROR "the published app has no libpyalloc.so beside it")
    endif()
    run("run native" "${app}/aot/PackageApp")
    expect_lines("${RUN_OUTPUT}${RUN_ERROR}")
  endif()

elseif(STEP STREQUAL "quickstart")
  # The section, from its heading to the next one.
  file(READ "${SOURCE_DIR}/README.md" readme)
  string(FIND "${readme}" "### Quick start" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "README.md has no '### Quick start' section")
  endif()
  string(SUBSTRING "${readme}" ${at} -1 section)
  string(SUBSTRING "${section}" 4 -1 after)
  string(FIND "${after}" "\n## " end)
  string(FIND "${after}" "\n### " end3)
  if(end3 GREATER -1 AND (end EQUAL -1 OR end3 LESS end))
    set(end ${end3})
  endif()
  if(end GREATER -1)
    math(EXPR end "${end} + 4")
    string(SUBSTRING "${section}" 0 ${end} section)
  endif()
  string(REGEX MATCHALL "```sh\n[^`]*```" shell "${section}")
  string(REGEX MATCH "```csharp\n[^`]*```" program "${section}")
  list(LENGTH shell nshell)
  if(NOT nshell EQUAL 2 OR NOT program)
    message(FATAL_ERROR "the quick start should have two sh blocks and one csharp block")
  endif()
  list(GET shell 0 setup)
  list(GET shell 1 launch)
  foreach(var setup launch program)
    string(REGEX REPLACE "^```[a-z]*\n" "" ${var} "${${var}}")
    string(REGEX REPLACE "```$" "" ${var} "${${var}}")
  endforeach()
  string(FIND "${section}" "--version ${VERSION} " versioned)
  if(versioned EQUAL -1)
    message(FATAL_ERROR "the quick start does not add version ${VERSION} of the package")
  endif()
  string(REGEX MATCH "It prints `([^`]*)`" _ "${section}")
  set(promised "${CMAKE_MATCH_1}")
  if(NOT promised)
    message(FATAL_ERROR "the quick start does not say what the program prints ('It prints `...`')")
  endif()

  set(qs "${WORK_DIR}/quickstart")
  file(REMOVE_RECURSE "${qs}")
  file(MAKE_DIRECTORY "${qs}/clone/build")
  file(CREATE_LINK "${feed}" "${qs}/clone/build/packages" SYMBOLIC)
  # Outside this repository's own props, as a user's directory is.
  file(WRITE "${qs}/Directory.Build.props" "<Project />\n")
  file(WRITE "${qs}/Directory.Build.targets" "<Project />\n")
  file(WRITE "${qs}/Program.cs" "${program}")
  set(ENV{PYALLOC} "${qs}/clone")
  set(ENV{NUGET_PACKAGES} "${qs}/nuget-packages")   # its own: package.jit may restore at the same time
  set(RUN_WORKING_DIRECTORY "${qs}")
  run("the quick start's commands" bash -euc "${setup}\ncp '${qs}/Program.cs' Program.cs\n${launch}")
  set(output "${RUN_OUTPUT}")
  file(READ "${qs}/Hello/Program.cs" used)
  if(NOT used STREQUAL program)
    message(FATAL_ERROR "the app did not run the README's Program.cs")
  endif()
  file(READ "${qs}/Hello/Hello.csproj" csproj)
  string(FIND "${csproj}" "AllowUnsafeBlocks" unsafe)
  if(NOT unsafe EQUAL -1)
    message(FATAL_ERROR "the quick start's project allows unsafe code")
  endif()
  expect_all("${output}" "the quick start's" "${promised}")

else()
  message(FATAL_ERROR "package.cmake: unknown STEP '${STEP}'")
endif()
