# Part of PGOFetch.cmake: the two build steps it adds, run as
#
#   cmake -DPGOFETCH_STEP=refresh -DPGOFETCH=<pgofetch or empty>
#         -DPGOFETCH_FAIL=<bool> -DPGOFETCH_OUTPUT=<profile>
#         -DPGOFETCH_STATE=<state file> -P go-build.cmake -- <pgofetch arguments>...
#
#   cmake -DPGOFETCH_STEP=build -DPGOFETCH_PGO=<profile or empty>
#         -DPGOFETCH_OUTPUT=<executable> -DPGOFETCH_DEPFILE=<depfile>
#         -DPGOFETCH_TARGET=<target> -DPGOFETCH_HINT=<what to do without a profile>
#         -P go-build.cmake -- <go> <build flags>... <package>
#
#   cmake -DPGOFETCH_STEP=committed -DPGOFETCH_OUTPUT=<profiles> -DPGOFETCH_STATE=<state file>
#         -P go-build.cmake
#
# committed (a pgofetch_profile() target in committed mode) only records the
# state of the checked-in profiles, as refresh does after pgofetch.
#
# refresh (a pgofetch_profile() target) runs pgofetch unless it is missing
# (then warns, or fails when failing was asked for), then records the
# profile's state (its SHA-256, or "none") in the state file, rewritten only
# when it changed: the Go builds depend on that file, so an unchanged or
# still missing profile rebuilds nothing. PGOFETCH_MAX_AGE in the build's
# environment overrides the configured -max-age for one build
# (PGOFETCH_MAX_AGE=0 cmake --build ... fetches whatever the age).
#
# build (a pgofetch_go_executable() target) runs `go build -o <executable>
# -pgo=<profile> <build flags> <package>` (without the profile, -pgo=off
# and one line saying so; without PROFILE, Go's default -pgo=auto), touches the executable (go build leaves an up-to-date binary as
# it was, and the build tool must see it newer than its inputs), then asks
# Go what the binary was built from (go list -deps) and writes the depfile
# the build tool reads.
#
#   cmake -DPGOFETCH_STEP=compare -DPGOFETCH_TOOL=<integrations/pgo-compare or empty>
#         -DPGOFETCH_WHY=<why it is empty> -DPGOFETCH_PGO=<profile>
#         -DPGOFETCH_TARGET=<target> -DPGOFETCH_HINT=<what to do without a profile>
#         -DPGOFETCH_OUTPUT=<directory for its files>
#         -P go-build.cmake -- <go> <pgo-compare flags>... <packages>...
#
#   cmake -DPGOFETCH_STEP=check -DPGOFETCH=<pgofetch> -DPGOFETCH_PGO=<profile>
#         -DPGOFETCH_TARGET=<target> -DPGOFETCH_HINT=<what to do without a profile>
#         -P go-build.cmake -- <pgofetch check arguments>...
#
# check (a <target>_pgo_check target) runs pgofetch check; exit 8 (below
# -fail-below) fails the target.
#
# compare (a <target>_pgo_compare target) builds pgo-compare and runs it on
# the profile; without the tool or the profile it fails with one line.
cmake_minimum_required(VERSION 3.20)

set(args "")
set(seen_separator FALSE)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE 1 ${last})
  if(seen_separator)
    list(APPEND args "${CMAKE_ARGV${i}}")
  elseif(CMAKE_ARGV${i} STREQUAL "--")
    set(seen_separator TRUE)
  endif()
endforeach()

if(PGOFETCH_STEP STREQUAL "committed")
  # Committed mode: nothing is fetched; the state of the checked-in
  # profiles is recorded as refresh records a fetched one.
  if(NOT PGOFETCH_STATE)
    message(FATAL_ERROR "go-build.cmake: usage: cmake -DPGOFETCH_STEP=committed -DPGOFETCH_OUTPUT=<profiles> -DPGOFETCH_STATE=... -P go-build.cmake")
  endif()
elseif(PGOFETCH_STEP STREQUAL "refresh")
  if(NOT PGOFETCH_OUTPUT OR NOT PGOFETCH_STATE)
    message(FATAL_ERROR "go-build.cmake: usage: cmake -DPGOFETCH_STEP=refresh -DPGOFETCH_OUTPUT=... -DPGOFETCH_STATE=... -P go-build.cmake -- <pgofetch arguments>...")
  endif()

  if(DEFINED ENV{PGOFETCH_MAX_AGE} AND NOT "$ENV{PGOFETCH_MAX_AGE}" STREQUAL "")
    # Before pgofetch's own "--", after the configured flags: the last wins.
    list(FIND args "--" end)
    list(INSERT args ${end} "-max-age=$ENV{PGOFETCH_MAX_AGE}")
  endif()

  if(NOT PGOFETCH OR NOT EXISTS "${PGOFETCH}")
    if(PGOFETCH)
      set(why "${PGOFETCH} is missing")
    else()
      set(why "pgofetch was not found when cmake ran")
    endif()
    if(PGOFETCH_FAIL)
      message(FATAL_ERROR "pgofetch: ${why}: cannot refresh ${PGOFETCH_OUTPUT}")
    endif()
    message("pgofetch: ${why}: ${PGOFETCH_OUTPUT} not refreshed; install pgofetch and re-run cmake")
  else()
    get_filename_component(dir "${PGOFETCH_OUTPUT}" DIRECTORY)
    file(MAKE_DIRECTORY "${dir}")
    execute_process(COMMAND "${PGOFETCH}" ${args} RESULT_VARIABLE rc)
    # Without -fail pgofetch exits 0 on every failure but a usage error.
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "pgofetch failed (exit ${rc}): ${PGOFETCH_OUTPUT} not refreshed")
    endif()
  endif()
endif()
if(PGOFETCH_STEP STREQUAL "committed" OR PGOFETCH_STEP STREQUAL "refresh")
  # One line per profile: its SHA-256, or none.
  set(state "")
  foreach(profile IN LISTS PGOFETCH_OUTPUT)
    set(hash "none")
    if(EXISTS "${profile}")
      file(SHA256 "${profile}" hash)
    endif()
    string(APPEND state "${hash}\n")
  endforeach()
  set(old "")
  if(EXISTS "${PGOFETCH_STATE}")
    file(READ "${PGOFETCH_STATE}" old)
  endif()
  if(NOT old STREQUAL state OR NOT EXISTS "${PGOFETCH_STATE}")
    file(WRITE "${PGOFETCH_STATE}" "${state}")
  endif()
  return()
endif()

if(PGOFETCH_STEP STREQUAL "compare")
  # pgo-compare is built here rather than run with go run: its own module
  # must not get the project's GOFLAGS (-mod=vendor, tags) or go.work,
  # while the go commands it runs on the project must.
  if(NOT PGOFETCH_TOOL)
    message(FATAL_ERROR "pgofetch: ${PGOFETCH_TARGET}: ${PGOFETCH_WHY}")
  endif()
  if(NOT PGOFETCH_PGO OR NOT EXISTS "${PGOFETCH_PGO}")
    message(FATAL_ERROR "pgofetch: ${PGOFETCH_TARGET}: no profile ${PGOFETCH_PGO} to compare with yet (${PGOFETCH_HINT})")
  endif()
  list(POP_FRONT args go)
  # The go commands pgo-compare runs are this go's, as go run would have it.
  execute_process(COMMAND "${go}" env GOROOT RESULT_VARIABLE rc
    OUTPUT_VARIABLE goroot OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pgofetch: ${PGOFETCH_TARGET}: ${go} env GOROOT failed")
  endif()
  set(tool "${PGOFETCH_OUTPUT}/pgo-compare${CMAKE_EXECUTABLE_SUFFIX}")
  file(REMOVE_RECURSE "${PGOFETCH_OUTPUT}")
  set(goflags "$ENV{GOFLAGS}")
  set(gowork "$ENV{GOWORK}")
  set(ENV{GOFLAGS} "")
  set(ENV{GOWORK} "off")
  execute_process(COMMAND "${go}" build -o "${tool}" .
    WORKING_DIRECTORY "${PGOFETCH_TOOL}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pgofetch: ${PGOFETCH_TARGET}: building ${PGOFETCH_TOOL} failed (offline? it needs github.com/google/pprof in the module cache)")
  endif()
  set(ENV{GOFLAGS} "${goflags}")
  set(ENV{GOWORK} "${gowork}")
  if(CMAKE_HOST_WIN32)
    set(ENV{PATH} "${goroot}/bin;$ENV{PATH}")
  else()
    set(ENV{PATH} "${goroot}/bin:$ENV{PATH}")
  endif()
  execute_process(COMMAND "${tool}" -profile "${PGOFETCH_PGO}" -o "${PGOFETCH_OUTPUT}" ${args}
    RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pgofetch: ${PGOFETCH_TARGET}: pgo-compare made no comparison (exit ${rc}; see above)")
  endif()
  return()
endif()

if(PGOFETCH_STEP STREQUAL "check")
  if(NOT PGOFETCH OR NOT EXISTS "${PGOFETCH}")
    message(FATAL_ERROR "pgofetch: ${PGOFETCH_TARGET}: pgofetch was not found when cmake ran, or is gone (${PGOFETCH}): install it and re-run cmake")
  endif()
  if(NOT PGOFETCH_PGO OR NOT EXISTS "${PGOFETCH_PGO}")
    message(FATAL_ERROR "pgofetch: ${PGOFETCH_TARGET}: no profile ${PGOFETCH_PGO} to check yet (${PGOFETCH_HINT})")
  endif()
  execute_process(COMMAND "${PGOFETCH}" check ${args} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pgofetch: ${PGOFETCH_TARGET}: pgofetch check failed (exit ${rc}; see above)")
  endif()
  return()
endif()

if(NOT PGOFETCH_STEP STREQUAL "build")
  message(FATAL_ERROR "go-build.cmake: PGOFETCH_STEP must be refresh, build, compare or check, not ${PGOFETCH_STEP}")
endif()
set(command ${args})
list(LENGTH command n)
if(n LESS 2 OR NOT PGOFETCH_OUTPUT)
  message(FATAL_ERROR "go-build.cmake: usage: cmake -DPGOFETCH_STEP=build -DPGOFETCH_OUTPUT=... -P go-build.cmake -- <go> <build flags>... <package>")
endif()
list(POP_FRONT command go)
set(flags ${command})
list(POP_BACK flags package)

set(pgo "")
if(PGOFETCH_PGO AND EXISTS "${PGOFETCH_PGO}")
  set(pgo "-pgo=${PGOFETCH_PGO}")
elseif(PGOFETCH_PGO)
  # Off, not Go's default -pgo=auto: that would take a default.pgo in the
  # package's directory, which this build neither tracks nor names.
  set(pgo "-pgo=off")
  message("pgofetch: building ${PGOFETCH_TARGET} without PGO: no profile ${PGOFETCH_PGO} yet (${PGOFETCH_HINT})")
endif()

execute_process(COMMAND "${go}" build -o "${PGOFETCH_OUTPUT}" ${pgo} ${command}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "go build failed (${rc})")
endif()
file(TOUCH_NOCREATE "${PGOFETCH_OUTPUT}")

if(NOT PGOFETCH_DEPFILE)
  return()
endif()
# Every file of every package but the standard library's, one a line.
set(lists GoFiles CgoFiles CFiles CXXFiles MFiles HFiles FFiles SFiles SwigFiles
  SwigCXXFiles SysoFiles EmbedFiles)
set(template "{{if not .Standard}}")
foreach(l IN LISTS lists)
  string(APPEND template "{{range .${l}}}{{$.Dir}}/{{.}}\n{{end}}")
endforeach()
string(APPEND template "{{with .Module}}{{.GoMod}}\n{{end}}{{end}}")
execute_process(COMMAND "${go}" list -deps -f "${template}" ${flags} "${package}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE listed ERROR_VARIABLE err)
execute_process(COMMAND "${go}" env GOMODCACHE GOWORK
  RESULT_VARIABLE rc2 OUTPUT_VARIABLE goenv ERROR_VARIABLE err2)
if(NOT rc EQUAL 0 OR NOT rc2 EQUAL 0)
  # Without a depfile a later change would not rebuild: build again next time.
  file(REMOVE "${PGOFETCH_OUTPUT}")
  message(FATAL_ERROR "go list -deps ${package} failed: ${err}${err2}")
endif()
string(REPLACE "\n" ";" goenv "${goenv}")
list(GET goenv 0 modcache)
list(GET goenv 1 gowork)
string(REPLACE "\n" ";" files "${listed}")
if(gowork AND NOT gowork STREQUAL "off")
  list(APPEND files "${gowork}" "${gowork}.sum")
endif()
set(deps "")
foreach(f IN LISTS files)
  if(f STREQUAL "")
    continue()
  endif()
  string(FIND "${f}" "${modcache}/" in_cache)
  if(modcache AND in_cache EQUAL 0)
    continue()
  endif()
  if(f MATCHES "/go\\.mod$")
    string(REGEX REPLACE "mod$" "sum" sum "${f}")
    if(EXISTS "${sum}")
      list(APPEND deps "${sum}")
    endif()
  endif()
  if(EXISTS "${f}")
    list(APPEND deps "${f}")
  endif()
endforeach()
list(REMOVE_DUPLICATES deps)
# Make's syntax, as gcc -MD writes it: spaces, # and $ escaped.
set(text "")
foreach(f IN LISTS PGOFETCH_OUTPUT deps)
  string(REPLACE " " "\\ " f "${f}")
  string(REPLACE "#" "\\#" f "${f}")
  string(REPLACE "$" "$$" f "${f}")
  if(text STREQUAL "")
    set(text "${f}:")
  else()
    string(APPEND text " \\\n  ${f}")
  endif()
endforeach()
file(WRITE "${PGOFETCH_DEPFILE}" "${text}\n")
