#[=======================================================================[.rst:
PGOFetch
--------

Build Go main packages with profile-guided optimisation (PGO): a target
refreshes the profile with ``pgofetch`` on every build, and the Go build is
redone when the profile's content changes or a file Go built the binary from
changes, and only then, with the Ninja and the Unix Makefiles generators
alike.

``pgofetch`` fetches the most CPU-heavy recent Go CPU profiles of a service
from Datadog (``QUERY``), or reads them from local files or a
``net/http/pprof`` endpoint (``IN``), merges them and writes the result only
when its content changed. Nothing here breaks a build unless asked
(``FAIL``, ``PGOFETCH_FAIL``): without keys, offline, during an outage or
without ``pgofetch`` at all, the build goes on with the last good profile, or
without PGO, and one line says so.

Requires CMake 3.20 or newer, Go 1.21 or newer; ``pgofetch`` where profiles
are to be fetched.

Getting the module
^^^^^^^^^^^^^^^^^^

Any one of (cmake-module/README.md has the details):

.. code-block:: cmake

  # 1. copied into the repository: this file and PGOFetch/ beside it
  list(APPEND CMAKE_MODULE_PATH "${CMAKE_CURRENT_SOURCE_DIR}/cmake")
  include(PGOFetch)

  # 2. the config package that `cmake --install` of pgofetch installs
  find_package(PGOFetch 0.1 REQUIRED)

  # 3. FetchContent of the pgofetch repository at a pinned commit
  include(FetchContent)
  FetchContent_Declare(pgofetch GIT_REPOSITORY <repository> GIT_TAG <full SHA>)
  FetchContent_MakeAvailable(pgofetch)

Commands
^^^^^^^^

.. command:: pgofetch_profile

  .. code-block:: cmake

    pgofetch_profile(<name> OUTPUT <file>
                     [QUERY [WEIGHT <w>] <query>...]
                     [IN [WEIGHT <w>] <source>... [WEIGHT <w> <source>...]...]
                     [NORMALIZE]
                     [PROFILES <n>] [FROM <duration>] [TIMEOUT <duration>]
                     [MAX_AGE <duration>] [FAIL] [TRIM ON|OFF]
                     [NOINLINE_FUNC <regexp>...] [NOINLINE_FILE <file>...]
                     [MODE fetch|committed])
    pgofetch_profile(<name> LIST <file> LIST_PACKAGE <dir>
                     [FROM <duration>] [TIMEOUT <duration>]
                     [MAX_AGE <duration>] [FAIL] [TRIM ON|OFF]
                     [MODE fetch|committed])

  Creates the target ``<name>``, part of ``ALL``, that runs ``pgofetch`` on
  every build to refresh ``OUTPUT`` (relative to the current binary
  directory). ``QUERY`` are Datadog queries (the keys are read from the
  build's environment, never written to a build file), ``IN`` local files or
  ``http(s)://`` URLs (relative files from the current source directory); at
  least one is required. ``PROFILES``, ``FROM``, ``TIMEOUT``, ``MAX_AGE``
  and ``TRIM`` are pgofetch's ``-profiles``, ``-from``, ``-timeout``,
  ``-max-age`` and ``-trim``; the values are passed as written and checked
  by pgofetch when cmake runs (when the program exists then), so a bad one
  stops configuring with a message naming it. ``MAX_AGE`` defaults to
  ``PGOFETCH_MAX_AGE``. ``FAIL`` fails the build when the profile cannot be
  refreshed or pgofetch is missing. ``NOINLINE_FUNC`` and ``NOINLINE_FILE``
  (relative to the current source directory) are pgofetch's
  ``-noinline-func`` and ``-noinline-file``: functions PGO must not inline,
  checked like the other values.

  ``WEIGHT <w>`` in the ``IN`` list is pgofetch's ``-weight``: it weighs
  the sources after it, up to the next ``WEIGHT`` (default 1); opening the
  ``QUERY`` list it weighs all the queries, which share one weight.
  ``NORMALIZE`` is ``-normalize``: each profile is scaled to the same total
  before its weight. pgofetch checks the weights (a number, 0 or more, not
  0 for every source).

  ``LIST`` (relative to the current source directory) is a
  ``pgofetch.list`` that gives each main package its sources, one line a
  package (its directory relative to the list, then pgofetch's arguments):
  the target runs ``pgofetch refresh -list <file> <dir>`` for
  ``LIST_PACKAGE`` alone (``cmd/api``, as the list names it), which writes
  ``<dir>/default.pgo`` beside the list; the other settings apply to the
  whole run, the line's own arguments win. ``OUTPUT``, ``QUERY``, ``IN``,
  ``PROFILES``, ``NORMALIZE`` and the no-inline settings belong in the line.
  The list is read when cmake runs, for its packages only, and is a
  configure dependency: a package not in it stops configuring, naming the
  list and its packages.

  ``MODE`` (default ``PGOFETCH_MODE``): ``fetch`` as above, or
  ``committed``: the profile is checked in, never fetched. The Go builds
  with this ``PROFILE`` then use their main package's ``default.pgo`` (the
  file Go's ``-pgo=auto`` reads and ``pgofetch refresh`` writes) as it is,
  or build without PGO while there is none; pgofetch is neither looked for
  nor run, no keys or network are needed, and a changed committed profile
  rebuilds once. ``OUTPUT``, the sources and their settings are still
  checked but not used.

  The target has the properties ``PGOFETCH_OUTPUT`` (the profile's absolute
  path) and ``PGOFETCH_STATE`` (the file the Go builds depend on: the
  profile's SHA-256, or ``none``, rewritten only when that changes).

.. command:: pgofetch_go_executable

  .. code-block:: cmake

    pgofetch_go_executable(<target> PACKAGE <./cmd/foo>
                           [OUTPUT <path>] [PROFILE <name>]
                           [WORKING_DIRECTORY <dir>]
                           [GOOS <os>] [GOARCH <arch>] [CGO_ENABLED <0|1>]
                           [GOFLAGS <flags>] [ENV <NAME=value>...]
                           [DEPENDS <file>...] [GO_FLAGS <flag>...]
                           [CHECK_BELOW <pct>] [COMPARE_PACKAGES <pattern>...]
                           [COMPARE_FLAGS <flag>...])

  Creates the target ``<target>``, part of ``ALL``, that runs
  ``go build -o <OUTPUT> [-pgo=<profile>] <GO_FLAGS> <PACKAGE>`` in
  ``WORKING_DIRECTORY`` (default the current source directory, inside a Go
  module). ``OUTPUT`` defaults to ``${CMAKE_CURRENT_BINARY_DIR}/bin/<target>``.
  ``PROFILE`` names a ``pgofetch_profile()`` target; while its profile does
  not exist the build runs without ``-pgo`` (Go's ``-pgo=auto``), once.
  ``GOOS``, ``GOARCH``, ``CGO_ENABLED``, ``GOFLAGS`` and ``ENV`` set the Go
  environment of this build (cross builds). After each build ``go list
  -deps`` writes a depfile of the files the binary was built from (Go,
  assembly, cgo, embedded files, ``go.mod``, ``go.sum``, ``go.work``, outside
  the module cache and GOROOT); ``DEPENDS`` adds files Go does not know of.

  The target has the property ``PGOFETCH_OUTPUT``, the executable's absolute
  path; install it with
  ``install(PROGRAMS "$<TARGET_PROPERTY:<target>,PGOFETCH_OUTPUT>" TYPE BIN)``
  (``install(TARGETS)`` takes only targets CMake compiles itself).

  It also creates ``<target>_pgo_compare``, not part of ``ALL``: the
  benchmarks of ``COMPARE_PACKAGES`` (package patterns relative to the Go
  module's root; default ``PGOFETCH_COMPARE_PACKAGES``) built with
  ``-pgo=off`` and with the profile, compared by pgofetch's
  ``integrations/pgo-compare`` with ``COMPARE_FLAGS`` (its flags, such as
  ``-bench``, ``-benchtime``, ``-count``; default
  ``PGOFETCH_COMPARE_FLAGS``), which prints benchstat's table, the load
  average and the build cost. The profile is ``PROFILE``'s, otherwise the
  main package's ``default.pgo``. Without the tool (see
  ``PGOFETCH_SOURCE_DIR``) or a profile, that target fails saying so.

  And ``<target>_pgo_check``, not part of ``ALL``: ``pgofetch check`` of the
  profile against the built executable (how much of the profile's hot
  weight names functions that still exist, the hottest missing ones);
  with ``CHECK_BELOW <pct>`` it fails when less than that matches.

Both commands reject, naming it, a word in capitals that is not one of
their keywords (a misspelt ``TIMOUT`` would otherwise be read as a query), a
keyword of the other command, and a keyword given twice.

Variables
^^^^^^^^^

``PGOFETCH_EXECUTABLE``
  The ``pgofetch`` program. When set it is used; otherwise the target
  ``PGOFetch::pgofetch`` (defined by the config package and by FetchContent of
  pgofetch), otherwise ``find_program(pgofetch)``. Not found: a warning, and
  the Go builds go on without PGO.
``PGOFETCH_GO_EXECUTABLE``
  The ``go`` command; otherwise ``find_program(go)`` (``$GOROOT/bin``, then
  ``PATH``). The profiles get it as pgofetch's ``-go``: a ``go`` newer than
  the Go versions pgofetch's trim is proven for gets the full profile.
``PGOFETCH_MODE``
  ``fetch`` (the default) or ``committed``, for the profiles without
  ``MODE``: ``-DPGOFETCH_MODE=committed`` builds with the checked-in
  profiles, reproducibly and offline. Another value stops configuring.
``PGOFETCH_MAX_AGE``
  The ``-max-age`` of profiles without ``MAX_AGE``: ``24h`` (a developer's
  build reuses a profile up to a day old rather than rebuilding everything
  with PGO whenever a new top profile arrives), ``0`` (fetch on every build)
  when the ``CI`` environment variable is set. In the build's environment
  it overrides for that build: ``PGOFETCH_MAX_AGE=0 cmake --build build``.
``PGOFETCH_SOURCE_DIR``
  A pgofetch checkout, for ``<target>_pgo_compare``; default: the checkout
  this module is in (FetchContent, or the module used from a clone).
``PGOFETCH_COMPARE_PACKAGES``, ``PGOFETCH_COMPARE_FLAGS``
  ``COMPARE_PACKAGES`` and ``COMPARE_FLAGS`` of the targets without them,
  as a command line: ``-DPGOFETCH_COMPARE_FLAGS="-bench Unit -count 10"``.
``PGOFETCH_FAIL``
  ``ON``: a profile that cannot be refreshed, or a missing pgofetch, fails
  the build (and configuring), as ``FAIL`` does for one profile.
#]=======================================================================]

if(CMAKE_VERSION VERSION_LESS 3.20)
  message(FATAL_ERROR "PGOFetch needs CMake 3.20 or newer, this is ${CMAKE_VERSION}")
endif()
include_guard(GLOBAL)
# The depfile pgofetch_go_executable() writes holds absolute paths, right
# under either behaviour; set here (include() scopes it to this file and the
# functions it defines) so that a project with an older
# cmake_minimum_required gets no warning for it.
cmake_policy(SET CMP0116 NEW)

# The build steps (refreshing a profile, building a Go executable) live
# beside this file.
set_property(GLOBAL PROPERTY _PGOFETCH_STEPS "${CMAKE_CURRENT_LIST_DIR}/PGOFetch/go-build.cmake")
# In a pgofetch checkout (FetchContent, add_subdirectory, or the module
# used from a clone) the compare tool is beside the module.
set_property(GLOBAL PROPERTY _PGOFETCH_MODULE_DIR "${CMAKE_CURRENT_LIST_DIR}")

set(PGOFETCH_FAIL OFF CACHE BOOL
  "Fail the build when a PGO profile cannot be refreshed or pgofetch is missing")
# Local builds take a profile up to a day old: a Datadog query finds a new
# top profile every few minutes and each new profile is a full PGO rebuild,
# while a day-old profile optimises as well (production code and load change
# by deploys, not by the minute). CI builds (CI set, as every hosted CI does)
# fetch every time, so what ships uses the newest profile.
if(DEFINED ENV{CI} AND NOT "$ENV{CI}" STREQUAL "" AND NOT "$ENV{CI}" MATCHES "^(0|[Ff]alse|FALSE)$")
  set(_pgofetch_default_max_age 0)
else()
  set(_pgofetch_default_max_age 24h)
endif()
set(PGOFETCH_MAX_AGE "${_pgofetch_default_max_age}" CACHE STRING
  "pgofetch -max-age of profiles without MAX_AGE: reuse a profile younger than this (0: fetch on every build)")
unset(_pgofetch_default_max_age)
# fetch: the profiles are fetched at build time; committed: they are
# checked in beside each main package, never fetched (reproducible,
# offline builds; pgofetch refresh updates them in a reviewed change).
set(PGOFETCH_MODE fetch CACHE STRING
  "fetch: pgofetch refreshes the profiles at build time; committed: the Go builds use each main package's checked-in default.pgo and never run pgofetch")
set_property(CACHE PGOFETCH_MODE PROPERTY STRINGS fetch committed)
set(PGOFETCH_SOURCE_DIR "" CACHE PATH
  "A pgofetch checkout, for the <target>_pgo_compare targets (its integrations/pgo-compare); default: the checkout this module is in")
set(PGOFETCH_COMPARE_PACKAGES "./..." CACHE STRING
  "Package patterns (relative to the Go module's root) whose benchmarks <target>_pgo_compare runs, without COMPARE_PACKAGES")
set(PGOFETCH_COMPARE_FLAGS "" CACHE STRING
  "pgo-compare flags of <target>_pgo_compare without COMPARE_FLAGS, such as -bench Unit -benchtime 0.1s -count 10")

# Checks the arguments as written, before cmake_parse_arguments, which takes
# a misspelt keyword after QUERY (TIMOUT) for a query and lets a repeated
# one-value keyword silently win. Every word shaped like a keyword (capital
# letters, digits, _) must be one of this command's, where a keyword may
# stand; a one-value keyword or option may be given once.
function(_pgofetch_check_keywords cmd name options one multi other_cmd other_keywords)
  set(seen "")
  set(skip_value FALSE)
  foreach(word IN LISTS ARGN)
    if(skip_value)
      set(skip_value FALSE)
      continue()
    endif()
    if(word IN_LIST one OR word IN_LIST options)
      if(word IN_LIST seen)
        message(FATAL_ERROR "${cmd}(${name}): ${word} is given twice")
      endif()
      list(APPEND seen "${word}")
      if(word IN_LIST one)
        set(skip_value TRUE)
      endif()
    elseif(word IN_LIST multi)
    elseif(word IN_LIST other_keywords)
      message(FATAL_ERROR
        "${cmd}(${name}): ${word} is a keyword of ${other_cmd}(), not of ${cmd}()")
    elseif(word MATCHES "^[A-Z][A-Z0-9_]+$" AND NOT EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/${word}")
      set(all ${one} ${multi} ${options})
      list(JOIN all " " all)
      message(FATAL_ERROR "${cmd}(${name}): unknown keyword ${word} "
        "(the keywords are ${all}; write a file named like a keyword as ./${word})")
    endif()
  endforeach()
endfunction()

# Rejects what cmake_parse_arguments left over: words before the first
# keyword or after an option, and keywords given without a value.
function(_pgofetch_check_parsed cmd name prefix)
  if(${prefix}_UNPARSED_ARGUMENTS)
    list(JOIN ${prefix}_UNPARSED_ARGUMENTS " " unknown)
    message(FATAL_ERROR "${cmd}(${name}): unexpected argument(s): ${unknown}")
  endif()
  if(${prefix}_KEYWORDS_MISSING_VALUES)
    list(JOIN ${prefix}_KEYWORDS_MISSING_VALUES " " missing)
    message(FATAL_ERROR "${cmd}(${name}): keyword(s) given without a value: ${missing}")
  endif()
endfunction()

# The first argument of both commands: a new target's name, not a keyword.
function(_pgofetch_check_name cmd argc name keywords)
  if(argc LESS 1 OR name STREQUAL "")
    message(FATAL_ERROR "${cmd}: the first argument must be a target name")
  endif()
  if(name IN_LIST keywords)
    message(FATAL_ERROR
      "${cmd}: the first argument must be a target name, not the keyword ${name}")
  endif()
  if(NOT name MATCHES "^[A-Za-z0-9_.+-]+$")
    message(FATAL_ERROR "${cmd}(${name}): not a valid target name")
  endif()
  if(TARGET "${name}")
    message(FATAL_ERROR "${cmd}(${name}): a target named ${name} already exists")
  endif()
endfunction()

# The pgofetch program, in the variables <out>_run (what the build runs:
# a path or $<TARGET_FILE:...>), <out>_file (a file to run now, to check
# the settings; empty when there is none yet) and <out>_target (a target to
# build first). Missing, it is a warning and the build goes on without PGO,
# unless failing was asked for.
function(_pgofetch_find_pgofetch cmd name fail out) # [QUIET]: no warning
  set(run "")
  set(file "")
  set(target "")
  set(why "")
  if(PGOFETCH_EXECUTABLE)
    set(run "${PGOFETCH_EXECUTABLE}")
    if(EXISTS "${PGOFETCH_EXECUTABLE}" AND NOT IS_DIRECTORY "${PGOFETCH_EXECUTABLE}")
      set(file "${PGOFETCH_EXECUTABLE}")
    else()
      set(why "PGOFETCH_EXECUTABLE is ${PGOFETCH_EXECUTABLE}, which is not a file")
    endif()
  elseif(TARGET PGOFetch::pgofetch)
    get_target_property(real PGOFetch::pgofetch ALIASED_TARGET)
    if(NOT real)
      set(real PGOFetch::pgofetch)
    endif()
    get_target_property(imported "${real}" IMPORTED)
    if(imported)
      get_target_property(run "${real}" LOCATION)
      if(EXISTS "${run}")
        set(file "${run}")
      else()
        set(why "${run} (PGOFetch::pgofetch) does not exist")
      endif()
    else()
      # Built by this project (FetchContent): no file before the first build,
      # where pgofetch itself checks the settings.
      set(run "$<TARGET_FILE:${real}>")
      set(target "${real}")
      get_target_property(dir "${real}" BINARY_DIR)
      if(EXISTS "${dir}/pgofetch${CMAKE_EXECUTABLE_SUFFIX}")
        set(file "${dir}/pgofetch${CMAKE_EXECUTABLE_SUFFIX}")
      endif()
    endif()
  else()
    find_program(PGOFETCH_EXECUTABLE NAMES pgofetch
      DOC "pgofetch: fetches Go CPU profiles for PGO")
    if(PGOFETCH_EXECUTABLE)
      set(run "${PGOFETCH_EXECUTABLE}")
      set(file "${PGOFETCH_EXECUTABLE}")
    else()
      set(why "the pgofetch program was not found")
    endif()
  endif()
  if(why)
    set(how "Install it (cmake --install of the pgofetch project) and use "
      "find_package(PGOFetch), add pgofetch with FetchContent, put pgofetch on "
      "PATH, or set PGOFETCH_EXECUTABLE to its path, and re-run cmake.")
    if(fail)
      message(FATAL_ERROR "${cmd}(${name}): ${why}. " ${how})
    endif()
    if("QUIET" IN_LIST ARGN)
      set(why "")
    endif()
  endif()
  if(why)
    message(WARNING "${cmd}(${name}): ${why}: Go builds without PGO. " ${how}
      " (PGOFETCH_FAIL=ON makes this an error.)")
  endif()
  set(${out}_run "${run}" PARENT_SCOPE)
  set(${out}_file "${file}" PARENT_SCOPE)
  set(${out}_target "${target}" PARENT_SCOPE)
endfunction()

# Runs pgofetch once with the settings, reading a source that does not
# exist, so that a bad value (a duration, a count) stops configuring with
# pgofetch's own message, which names it: the durations are parsed in one
# place, pgofetch. Exit code 2 is pgofetch's usage error; any other is the
# missing source. No query is passed, so nothing goes to the network.
function(_pgofetch_check_settings cmd name pgofetch flags keywords)
  set(dir "${CMAKE_CURRENT_BINARY_DIR}/CMakeFiles/pgofetch-check")
  file(MAKE_DIRECTORY "${dir}")
  execute_process(
    COMMAND "${pgofetch}" ${flags} "-in=${dir}/no-such-profile" -- "${dir}/default.pgo"
    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
  if(NOT rc EQUAL 2)
    return()
  endif()
  string(REGEX MATCH "pgofetch: [^\n]*" line "${err}")
  string(REGEX REPLACE "^pgofetch: " "" line "${line}")
  # Name the setting as the caller wrote it.
  foreach(pair IN LISTS keywords)
    string(REPLACE "=" ";" pair "${pair}")
    list(GET pair 0 kw)
    list(GET pair 1 flag)
    if(line MATCHES "(flag |^)-${flag}([^a-z-]|$)")
      set(line "${kw}: ${line}")
      break()
    endif()
  endforeach()
  message(FATAL_ERROR "${cmd}(${name}): ${line}")
endfunction()

# The IN sources as pgofetch's arguments, in <out>: each -in=<source>, a
# -weight=<w> before those a WEIGHT <w> in the list weighs, as pgofetch
# reads them (a -weight sets the weight of the -in sources after it). In
# <out>_check the same with every source replaced by one that does not
# exist, for _pgofetch_check_settings; <out>_weighted is TRUE when a
# WEIGHT was given.
function(_pgofetch_weighted_sources name out)
  set(args "")
  set(check "")
  set(weighted FALSE)
  set(pending "")    # a weight that has no source after it yet
  set(want_value FALSE)
  foreach(word IN LISTS arg_IN)
    if(want_value)
      list(APPEND args "-weight=${word}")
      list(APPEND check "-weight=${word}")
      set(pending "${word}")
      set(want_value FALSE)
      set(weighted TRUE)
    elseif(word STREQUAL "WEIGHT")
      set(want_value TRUE)
    elseif(word STREQUAL "")
      message(FATAL_ERROR "pgofetch_profile(${name}): IN has an empty source")
    else()
      if(NOT word MATCHES "^[A-Za-z][A-Za-z0-9+.-]*://")
        get_filename_component(word "${word}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
      endif()
      list(APPEND args "-in=${word}")
      list(APPEND check "-in=${CMAKE_CURRENT_BINARY_DIR}/CMakeFiles/pgofetch-check/no-such-profile")
      set(pending "")
    endif()
  endforeach()
  if(want_value)
    message(FATAL_ERROR "pgofetch_profile(${name}): IN ends with WEIGHT and no value")
  endif()
  if(NOT pending STREQUAL "")
    message(FATAL_ERROR "pgofetch_profile(${name}): IN: WEIGHT ${pending} is followed by "
      "no source; put it before the sources it weighs")
  endif()
  set(${out} "${args}" PARENT_SCOPE)
  set(${out}_check "${check}" PARENT_SCOPE)
  set(${out}_weighted ${weighted} PARENT_SCOPE)
endfunction()

# The queries, in <out>, without the WEIGHT <w> that may open the QUERY
# list; the weight of the queries (empty when not given) in <out>_weight.
# pgofetch gives every query one weight, the -weight in force after the
# last -in: a WEIGHT after the first query is a mistake.
function(_pgofetch_weighted_queries name out)
  set(queries "")
  set(weight "")
  set(want_value FALSE)
  foreach(word IN LISTS arg_QUERY)
    if(want_value)
      set(weight "${word}")
      set(want_value FALSE)
    elseif(word STREQUAL "WEIGHT")
      if(NOT queries STREQUAL "")
        message(FATAL_ERROR "pgofetch_profile(${name}): QUERY: WEIGHT must come before "
          "the first query (the queries share one weight)")
      endif()
      set(want_value TRUE)
    elseif(word STREQUAL "")
      message(FATAL_ERROR "pgofetch_profile(${name}): QUERY has an empty query")
    else()
      list(APPEND queries "${word}")
    endif()
  endforeach()
  if(want_value OR (queries STREQUAL "" AND NOT weight STREQUAL ""))
    message(FATAL_ERROR "pgofetch_profile(${name}): QUERY: WEIGHT must be followed by its value and the queries")
  endif()
  set(${out} "${queries}" PARENT_SCOPE)
  set(${out}_weight "${weight}" PARENT_SCOPE)
endfunction()

# cmd/api, ./cmd/api and cmd/api/ name one directory, in <out> as cmd/api;
# ., ./ and the empty string as ".".
function(_pgofetch_list_dir dir out)
  string(REGEX REPLACE "^(\\./)+" "" dir "${dir}")
  string(REGEX REPLACE "/+$" "" dir "${dir}")
  if(dir STREQUAL "")
    set(dir ".")
  endif()
  set(${out} "${dir}" PARENT_SCOPE)
endfunction()

# A package of a pgofetch.list (LIST <file> LIST_PACKAGE <dir>): in
# <out>_file the list's absolute path, in <out>_package the package as the
# list spells it, in <out>_output its profile, <dir>/default.pgo beside
# the list, where pgofetch refresh writes it. The list is read here, only
# for its packages (the first word of each line that is not blank or a #
# comment), so it is a configure dependency: an edit re-runs cmake, which
# checks the package again. The rest of the line is pgofetch's.
function(_pgofetch_list_package name out)
  if(DEFINED arg_OUTPUT)
    message(FATAL_ERROR "pgofetch_profile(${name}): OUTPUT does not go with LIST: the "
      "profile is <package>/default.pgo beside the list, where pgofetch refresh writes it")
  endif()
  foreach(kw IN ITEMS QUERY IN PROFILES NOINLINE_FUNC NOINLINE_FILE NORMALIZE)
    if((NOT kw STREQUAL "NORMALIZE" AND DEFINED arg_${kw}) OR (kw STREQUAL "NORMALIZE" AND arg_NORMALIZE))
      message(FATAL_ERROR "pgofetch_profile(${name}): ${kw} does not go with LIST: "
        "the list's line for the package says it")
    endif()
  endforeach()
  if(NOT DEFINED arg_LIST_PACKAGE)
    message(FATAL_ERROR "pgofetch_profile(${name}): LIST needs LIST_PACKAGE <dir>, "
      "the package's directory as the list names it")
  endif()
  get_filename_component(file "${arg_LIST}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT EXISTS "${file}" OR IS_DIRECTORY "${file}")
    message(FATAL_ERROR "pgofetch_profile(${name}): LIST ${file} is not a file")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${file}")
  # Lines, first words only: ; [ and ] (a URL's query, a regular
  # expression) would split or join CMake list elements.
  file(READ "${file}" text)
  string(REGEX REPLACE "[][;]" " " text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  _pgofetch_list_dir("${arg_LIST_PACKAGE}" want)
  set(found "")
  set(packages "")
  foreach(line IN LISTS lines)
    if(NOT line MATCHES "^[ \t]*([^ \t\r#][^ \t\r]*)")
      continue()
    endif()
    set(pkg "${CMAKE_MATCH_1}")
    list(APPEND packages "${pkg}")
    _pgofetch_list_dir("${pkg}" norm)
    if(norm STREQUAL want)
      set(found "${pkg}")
    endif()
  endforeach()
  if(found STREQUAL "")
    list(JOIN packages " " packages)
    message(FATAL_ERROR "pgofetch_profile(${name}): LIST_PACKAGE ${arg_LIST_PACKAGE} is not in "
      "${file} (its packages: ${packages})")
  endif()
  get_filename_component(dir "${file}" DIRECTORY)
  get_filename_component(output "${found}/default.pgo" ABSOLUTE BASE_DIR "${dir}")
  set(${out}_file "${file}" PARENT_SCOPE)
  set(${out}_package "${found}" PARENT_SCOPE)
  set(${out}_output "${output}" PARENT_SCOPE)
endfunction()

# The mode of a pgofetch_profile(): MODE, else PGOFETCH_MODE; fetch or
# committed, anything else stops configuring.
function(_pgofetch_mode cmd name out)
  if(DEFINED arg_MODE)
    set(mode "${arg_MODE}")
    set(from MODE)
  else()
    set(mode "${PGOFETCH_MODE}")
    set(from PGOFETCH_MODE)
  endif()
  if(NOT mode MATCHES "^(fetch|committed)$")
    message(FATAL_ERROR "${cmd}(${name}): ${from} must be fetch or committed, not \"${mode}\"")
  endif()
  set(${out} "${mode}" PARENT_SCOPE)
endfunction()

function(pgofetch_profile)
  set(options FAIL NORMALIZE)
  set(one OUTPUT PROFILES FROM TIMEOUT MAX_AGE TRIM MODE LIST LIST_PACKAGE)
  set(multi QUERY IN NOINLINE_FUNC NOINLINE_FILE)
  set(go_keywords PACKAGE PROFILE WORKING_DIRECTORY DEPENDS GO_FLAGS GOOS GOARCH
    CGO_ENABLED GOFLAGS ENV COMPARE_PACKAGES COMPARE_FLAGS CHECK_BELOW)
  set(name "${ARGV0}")
  _pgofetch_check_name(pgofetch_profile "${ARGC}" "${name}" "${options};${one};${multi}")
  # WEIGHT is a word of the QUERY and IN lists, not a keyword of its own.
  _pgofetch_check_keywords(pgofetch_profile "${name}" "${options}" "${one}" "${multi};WEIGHT"
    pgofetch_go_executable "${go_keywords}" ${ARGN})
  cmake_parse_arguments(PARSE_ARGV 1 arg "${options}" "${one}" "${multi}")
  foreach(list UNPARSED_ARGUMENTS NOINLINE_FUNC NOINLINE_FILE)
    if("WEIGHT" IN_LIST arg_${list})
      message(FATAL_ERROR "pgofetch_profile(${name}): WEIGHT belongs in the IN or QUERY list, "
        "before the sources it weighs")
    endif()
  endforeach()
  _pgofetch_check_parsed(pgofetch_profile "${name}" arg)

  set(queries "")
  set(sources "")
  set(sources_check "")
  if(DEFINED arg_LIST)
    _pgofetch_list_package("${name}" list)
    set(arg_OUTPUT "${list_output}")
  elseif(DEFINED arg_LIST_PACKAGE)
    message(FATAL_ERROR "pgofetch_profile(${name}): LIST_PACKAGE goes with LIST <file>")
  elseif(NOT DEFINED arg_OUTPUT)
    message(FATAL_ERROR "pgofetch_profile(${name}): OUTPUT <file> is required")
  else()
    _pgofetch_weighted_queries("${name}" queries)
    _pgofetch_weighted_sources("${name}" sources)
    if(queries STREQUAL "" AND sources STREQUAL "")
      message(FATAL_ERROR
        "pgofetch_profile(${name}): give at least one QUERY <query> or IN <source>, or a LIST")
    endif()
  endif()
  # The queries take the -weight in force after the last -in source: once
  # any weight is given, theirs is said after the sources (1 by default).
  if(NOT queries STREQUAL "" AND (sources_weighted OR NOT queries_weight STREQUAL ""))
    if(queries_weight STREQUAL "")
      set(queries_weight 1)
    endif()
    list(APPEND sources "-weight=${queries_weight}")
    list(APPEND sources_check "-weight=${queries_weight}"
      "-in=${CMAKE_CURRENT_BINARY_DIR}/CMakeFiles/pgofetch-check/no-such-profile")
  endif()

  # The values go to pgofetch as they are: it parses them, and its usage
  # error names a bad one (checked below, at configure time).
  set(flags "")
  set(keywords "")
  foreach(kw PROFILES FROM TIMEOUT MAX_AGE)
    string(TOLOWER "${kw}" flag)
    string(REPLACE "_" "-" flag "${flag}")
    set(value "${arg_${kw}}")
    set(named ${kw})
    if(kw STREQUAL "MAX_AGE" AND NOT DEFINED arg_MAX_AGE)
      set(value "${PGOFETCH_MAX_AGE}")
      set(named PGOFETCH_MAX_AGE)
    elseif(NOT DEFINED arg_${kw})
      continue()
    endif()
    if(NOT value STREQUAL "")
      list(APPEND flags "-${flag}=${value}")
      list(APPEND keywords "${named}=${flag}")
    endif()
  endforeach()
  set(fail FALSE)
  if(arg_FAIL OR PGOFETCH_FAIL)
    set(fail TRUE)
    list(APPEND flags "-fail")
  endif()
  # -trim only when asked for: pgofetch's default stands otherwise.
  if(DEFINED arg_TRIM)
    if(arg_TRIM MATCHES "^(ON|on|TRUE|true|YES|yes|1)$")
      list(APPEND flags "-trim=true")
    elseif(arg_TRIM MATCHES "^(OFF|off|FALSE|false|NO|no|0)$")
      list(APPEND flags "-trim=false")
    else()
      message(FATAL_ERROR "pgofetch_profile(${name}): TRIM must be ON or OFF, not ${arg_TRIM}")
    endif()
  endif()
  # The user's no-inline list: regular expressions, and files of them
  # (relative to the current source directory); pgofetch checks both.
  # A lone "" parses as defined and empty, which foreach does not visit.
  if(DEFINED arg_NOINLINE_FUNC AND arg_NOINLINE_FUNC STREQUAL "")
    set(arg_NOINLINE_FUNC ";")
  endif()
  foreach(re IN LISTS arg_NOINLINE_FUNC)
    if(re STREQUAL "")
      message(FATAL_ERROR "pgofetch_profile(${name}): NOINLINE_FUNC has an empty regular expression")
    endif()
    list(APPEND flags "-noinline-func=${re}")
  endforeach()
  if(arg_NOINLINE_FUNC)
    list(APPEND keywords "NOINLINE_FUNC=noinline-func")
  endif()
  foreach(file IN LISTS arg_NOINLINE_FILE)
    get_filename_component(file "${file}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND flags "-noinline-file=${file}")
  endforeach()
  if(arg_NOINLINE_FILE)
    list(APPEND keywords "NOINLINE_FILE=noinline-file")
  endif()
  if(arg_NORMALIZE)
    list(APPEND flags "-normalize")
  endif()
  # The go the Go builds use judges -trim: a go newer than those the trim
  # is proven for gets the full profile. Without one, pgofetch's default
  # (go on PATH) stands.
  _pgofetch_go_program(go)
  if(go)
    list(APPEND flags "-go=${go}")
  endif()
  list(APPEND keywords "WEIGHT=weight")

  get_filename_component(output "${arg_OUTPUT}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  set(stamp "${CMAKE_CURRENT_BINARY_DIR}/pgofetch/${name}.state")
  get_property(steps GLOBAL PROPERTY _PGOFETCH_STEPS)

  # Committed mode: the Go builds take their main package's checked-in
  # default.pgo as it is; pgofetch is neither looked for nor run. This
  # target records the state of those files, which each
  # pgofetch_go_executable() adds to PGOFETCH_COMMITTED, so that a changed
  # committed profile rebuilds once, as a fetched one does.
  _pgofetch_mode(pgofetch_profile "${name}" mode)
  if(mode STREQUAL "committed")
    # A state file of its own: switching modes changes what the Go builds
    # depend on, so they rebuild with the other profile even under Make,
    # which does not compare command lines.
    set(stamp "${CMAKE_CURRENT_BINARY_DIR}/pgofetch/${name}.committed.state")
    add_custom_target("${name}" ALL
      COMMAND "${CMAKE_COMMAND}" -DPGOFETCH_STEP=committed
        "-DPGOFETCH_OUTPUT=$<TARGET_PROPERTY:${name},PGOFETCH_COMMITTED>"
        "-DPGOFETCH_STATE=${stamp}" -P "${steps}"
      BYPRODUCTS "${stamp}"
      COMMENT "Reading the committed Go PGO profiles of ${name}"
      VERBATIM)
    set_target_properties("${name}" PROPERTIES
      PGOFETCH_OUTPUT "${output}" PGOFETCH_STATE "${stamp}" PGOFETCH_MODE committed
      PGOFETCH_COMMITTED "" PGOFETCH_PROGRAM "" PGOFETCH_PROGRAM_TARGET "")
    return()
  endif()

  _pgofetch_find_pgofetch(pgofetch_profile "${name}" ${fail} pgofetch)
  if(pgofetch_file)
    _pgofetch_check_settings(pgofetch_profile "${name}" "${pgofetch_file}" "${flags};${sources_check}"
      "${keywords}")
  endif()

  if(NOT pgofetch_run)
    set(hint "install pgofetch and re-run cmake")
  elseif(DEFINED arg_LIST)
    set(hint "set DD_API_KEY and DD_APP_KEY in the build's environment, or make the "
      "sources of ${list_package} in ${list_file} readable")
    string(CONCAT hint ${hint})
  elseif(NOT queries STREQUAL "")
    set(hint "set DD_API_KEY and DD_APP_KEY in the build's environment")
  else()
    set(hint "make the IN sources readable")
  endif()
  # The list's line gives the package's sources: pgofetch refresh reads it,
  # with the run-wide flags given here.
  if(DEFINED arg_LIST)
    set(command refresh "-list=${list_file}" ${flags} -- "${list_package}")
  else()
    set(command ${flags} ${sources} -- ${queries} "${output}")
  endif()
  # Runs on every build (a custom target is always out of date). The
  # dependents depend on the state file, which records the profile's hash
  # and is rewritten only when that changes: Ninja re-stats it (a
  # BYPRODUCT), Make reads its mtime after this target ran. A missing
  # profile is a state too ("none"), so a build without one runs go build
  # once, not on every build.
  add_custom_target("${name}" ALL
    COMMAND "${CMAKE_COMMAND}" -DPGOFETCH_STEP=refresh "-DPGOFETCH=${pgofetch_run}"
      "-DPGOFETCH_FAIL=${fail}" "-DPGOFETCH_OUTPUT=${output}" "-DPGOFETCH_STATE=${stamp}"
      -P "${steps}" -- ${command}
    BYPRODUCTS "${stamp}"
    COMMENT "Refreshing Go PGO profile ${output}"
    VERBATIM)
  if(pgofetch_target)
    add_dependencies("${name}" "${pgofetch_target}")
  endif()
  set_target_properties("${name}" PROPERTIES
    PGOFETCH_OUTPUT "${output}" PGOFETCH_STATE "${stamp}" PGOFETCH_HINT "${hint}" PGOFETCH_MODE fetch
    PGOFETCH_PROGRAM "${pgofetch_run}" PGOFETCH_PROGRAM_TARGET "${pgofetch_target}")
endfunction()

# The go command in <out>: PGOFETCH_GO_EXECUTABLE, else find_program;
# empty when there is none.
function(_pgofetch_go_program out)
  if(NOT PGOFETCH_GO_EXECUTABLE)
    find_program(PGOFETCH_GO_EXECUTABLE NAMES go
      HINTS ENV GOROOT PATH_SUFFIXES bin
      DOC "The go command, for pgofetch_go_executable() and pgofetch's -go")
  endif()
  if(PGOFETCH_GO_EXECUTABLE)
    set(${out} "${PGOFETCH_GO_EXECUTABLE}" PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

# The go command, as _pgofetch_go_program finds it; Go 1.21+.
function(_pgofetch_find_go cmd name out)
  _pgofetch_go_program(go)
  if(NOT go)
    message(FATAL_ERROR
      "${cmd}(${name}): the Go toolchain (go) was not found. Install Go 1.21 "
      "or newer and put it on PATH, or set PGOFETCH_GO_EXECUTABLE to the go command.")
  endif()
  get_property(checked GLOBAL PROPERTY _PGOFETCH_GO_CHECKED)
  if(NOT checked STREQUAL PGOFETCH_GO_EXECUTABLE)
    execute_process(COMMAND "${PGOFETCH_GO_EXECUTABLE}" env GOVERSION
      RESULT_VARIABLE rc OUTPUT_VARIABLE version ERROR_VARIABLE err
      OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR
        "${cmd}(${name}): ${PGOFETCH_GO_EXECUTABLE} env GOVERSION failed (${rc}): ${err}")
    endif()
    # go1.21.0, go1.22rc1, devel go1.24-abcdef ...
    if(version MATCHES "go([0-9]+)\\.([0-9]+)")
      if(CMAKE_MATCH_1 EQUAL 1 AND CMAKE_MATCH_2 LESS 21)
        message(FATAL_ERROR
          "${cmd}(${name}): ${PGOFETCH_GO_EXECUTABLE} is ${version}; PGO needs Go 1.21 or newer")
      endif()
    endif()
    set_property(GLOBAL PROPERTY _PGOFETCH_GO_CHECKED "${PGOFETCH_GO_EXECUTABLE}")
  endif()
  set(${out} "${PGOFETCH_GO_EXECUTABLE}" PARENT_SCOPE)
endfunction()

# Where integrations/pgo-compare is, in <out> (empty when it is not found)
# and <out>_why (why not). Not finding it only fails the compare targets,
# when they run: most builds never run them.
function(_pgofetch_find_compare out)
  set(dir "")
  set(why "")
  if(PGOFETCH_SOURCE_DIR)
    get_filename_component(src "${PGOFETCH_SOURCE_DIR}" ABSOLUTE)
    if(EXISTS "${src}/integrations/pgo-compare/go.mod")
      set(dir "${src}/integrations/pgo-compare")
    else()
      set(why "PGOFETCH_SOURCE_DIR is ${PGOFETCH_SOURCE_DIR}, which has no "
        "integrations/pgo-compare: set it to a pgofetch checkout and re-run cmake")
    endif()
  else()
    get_property(module GLOBAL PROPERTY _PGOFETCH_MODULE_DIR)
    get_filename_component(src "${module}" DIRECTORY)
    if(EXISTS "${src}/integrations/pgo-compare/go.mod")
      set(dir "${src}/integrations/pgo-compare")
    else()
      set(why "the compare tool (integrations/pgo-compare of a pgofetch checkout) "
        "is not beside this module: re-run cmake with "
        "-DPGOFETCH_SOURCE_DIR=<a pgofetch checkout>")
    endif()
  endif()
  string(CONCAT why ${why})
  set(${out} "${dir}" PARENT_SCOPE)
  set(${out}_why "${why}" PARENT_SCOPE)
endfunction()

# <target>_pgo_compare: the benchmarks of the package patterns built with
# -pgo=off and with the profile, compared by pgo-compare, which prints
# benchstat's table, the payoff line, the load and the build cost. The
# patterns are relative to the Go module's root, the build-cost line
# builds the main package. COMPARE_PACKAGES and COMPARE_FLAGS are read from
# the caller's arg_ variables.
function(_pgofetch_add_compare target go modroot workdir package profile profile_target hint goenv)
  _pgofetch_find_compare(tool)
  if(package MATCHES "^\\.\\.?(/|$)")
    get_filename_component(abs "${package}" ABSOLUTE BASE_DIR "${workdir}")
    file(RELATIVE_PATH rel "${modroot}" "${abs}")
    set(package "./${rel}")
  endif()
  if(DEFINED arg_COMPARE_PACKAGES)
    set(patterns ${arg_COMPARE_PACKAGES})
  else()
    separate_arguments(patterns UNIX_COMMAND "${PGOFETCH_COMPARE_PACKAGES}")
  endif()
  if(DEFINED arg_COMPARE_FLAGS)
    set(flags ${arg_COMPARE_FLAGS})
  else()
    separate_arguments(flags UNIX_COMMAND "${PGOFETCH_COMPARE_FLAGS}")
  endif()
  set(env_command "")
  if(goenv)
    set(env_command "${CMAKE_COMMAND}" -E env ${goenv})
  endif()
  get_property(steps GLOBAL PROPERTY _PGOFETCH_STEPS)
  add_custom_target("${target}_pgo_compare"
    COMMAND ${env_command} "${CMAKE_COMMAND}" -DPGOFETCH_STEP=compare
      "-DPGOFETCH_TOOL=${tool}" "-DPGOFETCH_WHY=${tool_why}" "-DPGOFETCH_PGO=${profile}"
      "-DPGOFETCH_TARGET=${target}_pgo_compare" "-DPGOFETCH_HINT=${hint}"
      "-DPGOFETCH_OUTPUT=${CMAKE_CURRENT_BINARY_DIR}/pgofetch/${target}_pgo_compare"
      -P "${steps}" -- "${go}" -dir "${modroot}" -build "${package}" ${flags} ${patterns}
    WORKING_DIRECTORY "${modroot}"
    COMMENT "Comparing benchmarks built without and with ${profile}"
    USES_TERMINAL
    VERBATIM)
  if(profile_target)
    add_dependencies("${target}_pgo_compare" "${profile_target}")
  endif()
endfunction()

function(pgofetch_go_executable)
  set(options "")
  set(one PACKAGE OUTPUT PROFILE WORKING_DIRECTORY GOOS GOARCH CGO_ENABLED GOFLAGS)
  set(one ${one} CHECK_BELOW)
  set(multi GO_FLAGS DEPENDS ENV COMPARE_PACKAGES COMPARE_FLAGS)
  set(profile_keywords QUERY IN PROFILES FROM TIMEOUT MAX_AGE TRIM FAIL NOINLINE_FUNC
    NOINLINE_FILE NORMALIZE WEIGHT MODE LIST LIST_PACKAGE)
  set(target "${ARGV0}")
  _pgofetch_check_name(pgofetch_go_executable "${ARGC}" "${target}" "${one};${multi}")
  _pgofetch_check_keywords(pgofetch_go_executable "${target}" "${options}" "${one}" "${multi}"
    pgofetch_profile "${profile_keywords}" ${ARGN})
  cmake_parse_arguments(PARSE_ARGV 1 arg "${options}" "${one}" "${multi}")
  _pgofetch_check_parsed(pgofetch_go_executable "${target}" arg)

  if(NOT DEFINED arg_PACKAGE OR arg_PACKAGE STREQUAL "")
    message(FATAL_ERROR
      "pgofetch_go_executable(${target}): PACKAGE <./cmd/foo> is required")
  endif()
  if(DEFINED arg_CHECK_BELOW AND NOT (arg_CHECK_BELOW MATCHES "^([0-9]+(\\.[0-9]*)?|\\.[0-9]+)$"
      AND arg_CHECK_BELOW LESS_EQUAL 100))
    message(FATAL_ERROR
      "pgofetch_go_executable(${target}): CHECK_BELOW must be a percentage, 0 to 100, not ${arg_CHECK_BELOW}")
  endif()

  set(pgo "")
  set(state "")
  set(hint "")
  set(mode "")
  if(DEFINED arg_PROFILE)
    if(NOT TARGET "${arg_PROFILE}")
      message(FATAL_ERROR
        "pgofetch_go_executable(${target}): PROFILE ${arg_PROFILE} is not a target; "
        "define it with pgofetch_profile() first")
    endif()
    get_target_property(pgo "${arg_PROFILE}" PGOFETCH_OUTPUT)
    if(NOT pgo)
      message(FATAL_ERROR
        "pgofetch_go_executable(${target}): PROFILE ${arg_PROFILE} is not a "
        "pgofetch_profile() target")
    endif()
    get_target_property(state "${arg_PROFILE}" PGOFETCH_STATE)
    get_target_property(hint "${arg_PROFILE}" PGOFETCH_HINT)
    get_target_property(mode "${arg_PROFILE}" PGOFETCH_MODE)
  endif()

  set(workdir "${CMAKE_CURRENT_SOURCE_DIR}")
  if(DEFINED arg_WORKING_DIRECTORY)
    get_filename_component(workdir "${arg_WORKING_DIRECTORY}" ABSOLUTE
      BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  endif()
  if(NOT IS_DIRECTORY "${workdir}")
    message(FATAL_ERROR
      "pgofetch_go_executable(${target}): WORKING_DIRECTORY ${workdir} is not a directory")
  endif()

  # Committed mode: the profile is the main package's checked-in
  # default.pgo, the file Go's -pgo=auto reads and pgofetch refresh writes;
  # the PROFILE target records its state.
  if(DEFINED arg_PROFILE AND mode STREQUAL "committed")
    if(NOT arg_PACKAGE MATCHES "^\\.\\.?(/|$)")
      message(FATAL_ERROR
        "pgofetch_go_executable(${target}): PROFILE ${arg_PROFILE} is committed, read from "
        "the main package's default.pgo: give PACKAGE as a path (./cmd/foo), not ${arg_PACKAGE}")
    endif()
    get_filename_component(pgo "${arg_PACKAGE}/default.pgo" ABSOLUTE BASE_DIR "${workdir}")
    set_property(TARGET "${arg_PROFILE}" APPEND PROPERTY PGOFETCH_COMMITTED "${pgo}")
    set(hint "commit one there, as pgofetch refresh writes it, or configure with -DPGOFETCH_MODE=fetch")
  endif()
  # The Go module: the nearest go.mod at or above the working directory.
  set(modroot "${workdir}")
  while(NOT EXISTS "${modroot}/go.mod")
    get_filename_component(parent "${modroot}" DIRECTORY)
    if(parent STREQUAL modroot)
      message(FATAL_ERROR
        "pgofetch_go_executable(${target}): no go.mod in ${workdir} or above; "
        "set WORKING_DIRECTORY to a directory of the Go module")
    endif()
    set(modroot "${parent}")
  endwhile()

  # The Go environment of the build (cross builds): what is not given is
  # inherited from the build's environment.
  set(goenv "")
  foreach(var GOOS GOARCH CGO_ENABLED GOFLAGS)
    if(DEFINED arg_${var})
      list(APPEND goenv "${var}=${arg_${var}}")
    endif()
  endforeach()
  foreach(kv IN LISTS arg_ENV)
    if(NOT kv MATCHES "^[A-Za-z_][A-Za-z0-9_]*=")
      message(FATAL_ERROR
        "pgofetch_go_executable(${target}): ENV ${kv} is not NAME=value")
    endif()
    list(APPEND goenv "${kv}")
  endforeach()

  set(suffix "${CMAKE_EXECUTABLE_SUFFIX}")
  if(DEFINED arg_GOOS)
    set(suffix "")
    if(arg_GOOS STREQUAL "windows")
      set(suffix ".exe")
    endif()
  endif()
  if(DEFINED arg_OUTPUT)
    get_filename_component(output "${arg_OUTPUT}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  else()
    set(output "${CMAKE_CURRENT_BINARY_DIR}/bin/${target}${suffix}")
  endif()
  # A file named like the target at the top of the binary directory would
  # clash with the target's own build rule.
  if(output STREQUAL "${CMAKE_CURRENT_BINARY_DIR}/${target}")
    message(FATAL_ERROR
      "pgofetch_go_executable(${target}): OUTPUT ${output} has the target's name; "
      "put it in a subdirectory or name it differently")
  endif()

  _pgofetch_find_go(pgofetch_go_executable "${target}" go)

  # What the binary is built from, Go tells after each build (go list -deps):
  # .go, assembly, cgo C and headers, embedded files, go.mod, go.sum and
  # go.work of every package outside the module cache and GOROOT, written
  # as a depfile. Before the first build there is nothing to compare with.
  set(depfile "${CMAKE_CURRENT_BINARY_DIR}/pgofetch/${target}.d")
  set(depends "")
  foreach(dep IN LISTS arg_DEPENDS)
    get_filename_component(dep "${dep}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND depends "${dep}")
  endforeach()
  if(pgo)
    list(APPEND depends "${state}")
  endif()
  set(env_command "")
  if(goenv)
    set(env_command "${CMAKE_COMMAND}" -E env ${goenv})
  endif()

  # Without a profile the build says why; pgofetch said more just before.
  set(build_hint "${hint}")
  if(pgo AND NOT mode STREQUAL "committed")
    string(APPEND build_hint "; see the lines above")
  endif()
  get_property(steps GLOBAL PROPERTY _PGOFETCH_STEPS)
  add_custom_command(OUTPUT "${output}"
    COMMAND ${env_command} "${CMAKE_COMMAND}" -DPGOFETCH_STEP=build "-DPGOFETCH_PGO=${pgo}"
      "-DPGOFETCH_OUTPUT=${output}" "-DPGOFETCH_DEPFILE=${depfile}"
      "-DPGOFETCH_TARGET=${target}" "-DPGOFETCH_HINT=${build_hint}"
      -P "${steps}" -- "${go}" ${arg_GO_FLAGS} "${arg_PACKAGE}"
    DEPENDS ${depends}
    DEPFILE "${depfile}"
    WORKING_DIRECTORY "${workdir}"
    COMMENT "Building Go executable ${target} (${arg_PACKAGE})"
    VERBATIM)
  add_custom_target("${target}" ALL DEPENDS "${output}")
  if(DEFINED arg_PROFILE)
    add_dependencies("${target}" "${arg_PROFILE}")
  endif()
  set_target_properties("${target}" PROPERTIES PGOFETCH_OUTPUT "${output}")

  # The profile the extra targets read: PROFILE's, otherwise the main
  # package's default.pgo, which Go's -pgo=auto reads.
  set(profile "${pgo}")
  if(NOT profile AND arg_PACKAGE MATCHES "^\\.\\.?(/|$)")
    get_filename_component(profile "${arg_PACKAGE}/default.pgo" ABSOLUTE BASE_DIR "${workdir}")
    set(hint "fetch one with pgofetch, or give pgofetch_go_executable(${target}) a PROFILE")
  endif()
  # The benchmarks run on this machine: no GOOS, GOARCH or ENV of a cross build.
  set(hostenv "")
  foreach(var CGO_ENABLED GOFLAGS)
    if(DEFINED arg_${var})
      list(APPEND hostenv "${var}=${arg_${var}}")
    endif()
  endforeach()
  _pgofetch_add_compare("${target}" "${go}" "${modroot}" "${workdir}" "${arg_PACKAGE}"
    "${profile}" "${arg_PROFILE}" "${hint}" "${hostenv}")

  # <target>_pgo_check: pgofetch check of the profile against the built
  # binary, the code that will run it.
  if(DEFINED arg_PROFILE AND NOT mode STREQUAL "committed")
    get_target_property(pgofetch "${arg_PROFILE}" PGOFETCH_PROGRAM)
    get_target_property(pgofetch_target "${arg_PROFILE}" PGOFETCH_PROGRAM_TARGET)
  else()
    _pgofetch_find_pgofetch(pgofetch_go_executable "${target}" FALSE found QUIET)
    set(pgofetch "${found_run}")
    set(pgofetch_target "${found_target}")
  endif()
  set(below "")
  if(DEFINED arg_CHECK_BELOW)
    set(below -fail-below "${arg_CHECK_BELOW}")
  endif()
  add_custom_target("${target}_pgo_check"
    COMMAND "${CMAKE_COMMAND}" -DPGOFETCH_STEP=check "-DPGOFETCH=${pgofetch}"
      "-DPGOFETCH_PGO=${profile}" "-DPGOFETCH_TARGET=${target}_pgo_check"
      "-DPGOFETCH_HINT=${hint}"
      -P "${steps}" -- -go "${go}" ${below} "${profile}" "${output}"
    COMMENT "Checking that ${profile} matches ${target}"
    USES_TERMINAL
    VERBATIM)
  add_dependencies("${target}_pgo_check" "${target}")
  if(pgofetch_target)
    add_dependencies("${target}_pgo_check" "${pgofetch_target}")
  endif()
endfunction()
