# Runs the tour (TOUR = its path) and checks its key lines: the article's own
# output, replayed through PyAlloc.  PYTHON=0 runs it without CPython beside
# it; PYTHON=1 requires CPython's lines to be there too.
#   cmake -DTOUR=... -DPYTHON=0|1 -P check_tour.cmake
if(PYTHON)
  set(ENV{PYALLOC_TOUR_PYTHON} "")
else()
  set(ENV{PYALLOC_TOUR_PYTHON} "0")
endif()
# The heap maps go to SVG_DIR (each test its own: they run in parallel).
if(NOT SVG_DIR)
  set(SVG_DIR "${CMAKE_CURRENT_BINARY_DIR}/tour-svg")
endif()
file(REMOVE "${SVG_DIR}/heap-before.svg" "${SVG_DIR}/heap-after.svg")
set(ENV{PYALLOC_TOUR_SVG_DIR} "${SVG_DIR}")
execute_process(COMMAND "${TOUR}" OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the tour exited with ${rc}:\n${out}\n${err}")
endif()

set(expected
  "\nAfter creation: 1\nAfter b = a: 2\nAfter c = a: 3\nAfter del b: 2\nAfter del c: 1\n"
  "\nref count of a: 2\nref count of b: 2\n"
  "\nCollected 2 unreachable objects\n"
  "\nroot: ref count 2 "
  "\ndel root, leaf -> Collected 4 unreachable objects"
  "\ndel config -> Collected 1 unreachable objects"
  "\nTrue\nCollected 0 objects\n\\(0, 0, 0\\)\n"
  "\n\\(700, 10, 10\\)\n"
  "\nafter collect\\(0\\): +total 100: generation 0: 0, generation 1: 100, generation 2: 0\n"
  "\nafter collect\\(1\\): +total 100: generation 0: 0, generation 1: 0, generation 2: 100\n"
  "\nCreated: database_connection\nFreed: database_connection\n"
  "\nFreed: first\nFreed: second\nFreed: third\nCollected 3 unreachable objects\n"
  "\nlen\\(gc.garbage\\) = 2"
  "\nstill alive after del: ref count 1, finalized: True\n"
  "\ntour.c:[0-9]+: size=7820 KiB, count=1001, average=8000 B\ntour.c:[0-9]+: size=97.7 KiB, count=1, [^\n]*\ntour.c:[0-9]+: size=12.5 KiB, count=200, average=64 B\n"
  "\ncall 3: Objects before: 41, Objects after: 61, Difference: 20\n"
  "\nMyClass instances: 2\n"
  "\ngc.disable\\(\\) ... gc.enable\\(\\): 0 collections during the phase\n"
  "\nref count of parent: 1 "
  "\ndel parent -> child.get_parent\\(\\): None "
  "\nHeap map written to [^\n]*/heap-before.svg and [^\n]*/heap-after.svg\n"
  "\ngc.freeze\\(\\) -> gc.get_freeze_count\\(\\): 1000, tracked in generations 0-2: 0\n"
  "\\(why\\) "
  "\nEnd of the tour.\n")
if(PYTHON)
  list(APPEND expected
    "\n   CPython \\| After del c: 1\n"
    "\n   CPython \\| Collected 2 unreachable objects\n"
    "\n   CPython \\| \\(700, 10, 10\\)\n"
    "\n   CPython \\| Freed: database_connection\n")
endif()
set(missing "")
foreach(re IN LISTS expected)
  if(NOT out MATCHES "${re}")
    string(APPEND missing "  ${re}\n")
  endif()
endforeach()
if(missing)
  message(FATAL_ERROR "the tour's output lacks:\n${missing}\n--- output ---\n${out}")
endif()
foreach(svg heap-before.svg heap-after.svg)
  if(NOT EXISTS "${SVG_DIR}/${svg}")
    message(FATAL_ERROR "the tour said it wrote ${SVG_DIR}/${svg}, but there is no such file")
  endif()
  file(READ "${SVG_DIR}/${svg}" whole)
  string(SUBSTRING "${whole}" 0 5 head)
  if(NOT head MATCHES "^(<svg|<\\?xml)")
    message(FATAL_ERROR "${SVG_DIR}/${svg} does not start with <svg or <?xml: '${head}'")
  endif()
  if(NOT whole MATCHES "xmlns=\"http://www.w3.org/2000/svg\"" OR NOT whole MATCHES "<rect " OR NOT whole MATCHES "</svg>\n$")
    message(FATAL_ERROR "${SVG_DIR}/${svg} is not the heap map: no xmlns, rect or closing </svg>")
  endif()
endforeach()
message(STATUS "the tour printed every key line and wrote both heap maps")
