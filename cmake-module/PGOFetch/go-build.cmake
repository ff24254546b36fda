# Part of PGOFetch.cmake: the command behind pgofetch_go_executable().
#
#   cmake -DPGOFETCH_PGO=<profile or empty> -DPGOFETCH_OUTPUT=<executable>
#         -P go-build.cmake -- <go> build <args>...
#
# Runs the go command, adding -pgo=<profile> after "build" when the profile
# exists (a first build whose fetch failed has none: Go's default -pgo=auto
# then applies), and touches the executable afterwards: go build leaves an
# up-to-date binary as it was, and the build tool must see it newer than
# its inputs.
cmake_minimum_required(VERSION 3.20)

set(command "")
set(seen_separator FALSE)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE 1 ${last})
  if(seen_separator)
    list(APPEND command "${CMAKE_ARGV${i}}")
  elseif(CMAKE_ARGV${i} STREQUAL "--")
    set(seen_separator TRUE)
  endif()
endforeach()
list(LENGTH command n)
if(n LESS 2)
  message(FATAL_ERROR "go-build.cmake: usage: cmake -P go-build.cmake -- <go> build <args>...")
endif()

if(PGOFETCH_PGO AND EXISTS "${PGOFETCH_PGO}")
  list(INSERT command 2 "-pgo=${PGOFETCH_PGO}")
elseif(PGOFETCH_PGO)
  message(STATUS "PGO profile ${PGOFETCH_PGO} does not exist (yet): building with -pgo=auto")
endif()

execute_process(COMMAND ${command} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "go build failed (${rc})")
endif()
if(PGOFETCH_OUTPUT)
  file(TOUCH_NOCREATE "${PGOFETCH_OUTPUT}")
endif()
