#[=======================================================================[.rst:
PGOFetch
--------

Build Go main packages with profile-guided optimisation (PGO), the profile
refreshed by ``pgofetch`` on every build and declared as a dependency of the
Go build, so that a changed profile rebuilds the binary and an unchanged one
does not.

``pgofetch`` fetches the most CPU-heavy recent Go CPU profiles of a service
from Datadog (``QUERY``), or reads them from local files or a
``net/http/pprof`` endpoint (``IN``), merges them and writes the result only
when its content changed: an unchanged profile keeps its modification time.
Unless ``FAIL`` is given it never fails the build: on an outage the previous
profile stays as it was (or, without one, Go builds without PGO).

Requires CMake 3.20 or newer, Go 1.21 or newer at build time, and the
``pgofetch`` program.

Getting the module
^^^^^^^^^^^^^^^^^^

Any one of:

.. code-block:: cmake

  # 1. the config package that `cmake --install` of pgofetch installs
  find_package(PGOFetch 0.1 REQUIRED)

  # 2. FetchContent: pgofetch is built from source as part of your build
  include(FetchContent)
  FetchContent_Declare(pgofetch GIT_REPOSITORY <url> GIT_TAG <tag>)
  FetchContent_MakeAvailable(pgofetch)

  # 3. the module file itself, pgofetch found on PATH
  list(APPEND CMAKE_MODULE_PATH <pgofetch>/cmake-module)
  include(PGOFetch)

Commands
^^^^^^^^

.. command:: pgofetch_profile

  .. code-block:: cmake

    pgofetch_profile(<name> OUTPUT <dir>/default.pgo
                     [QUERY <query>...] [IN <source>...]
                     [PROFILES <n>] [FROM <duration>] [TIMEOUT <duration>]
                     [MAX_AGE <duration>] [FAIL] [TRIM ON|OFF])

  Creates the target ``<name>``, part of ``ALL``, that runs ``pgofetch`` on
  every build to refresh ``OUTPUT``. ``OUTPUT`` is a byproduct of the target,
  so a build step that depends on it re-runs only when ``pgofetch`` actually
  rewrote it (its content changed).

  ``OUTPUT <file>``
    Required. The profile to write. A relative path is relative to the
    current binary directory, as for ``add_custom_command(OUTPUT)``. The
    profile is a build output: the ``clean`` target deletes it and the next
    build fetches it again. Keep it in the build tree; write it beside the
    main package (``${CMAKE_CURRENT_SOURCE_DIR}/cmd/foo/default.pgo``) only if
    a plain ``go build`` should pick it up as well and it is not committed.
  ``QUERY <query>...``
    Datadog profile queries, for example ``"service:foo env:prod"``. The keys
    are read from the environment of the build (``DD_API_KEY``,
    ``DD_APP_KEY``, ``DD_SITE``, ``PGOFETCH_API_URL``), never at configure
    time, so they are not written to any build file.
  ``IN <source>...``
    Local profiles (pprof, gzip, zstd or a ZIP of them) or ``http(s)://`` URLs
    of a ``net/http/pprof`` endpoint. Relative file names are relative to the
    current source directory. At least one ``QUERY`` or ``IN`` is required.
  ``PROFILES <n>``, ``FROM <duration>``, ``TIMEOUT <duration>``, ``MAX_AGE <duration>``
    ``pgofetch``'s ``-profiles``, ``-from``, ``-timeout`` and ``-max-age``.
    Durations use Go's syntax: ``72h``, ``1m30s``, ``500ms``.
  ``FAIL``
    Fail the build when the profile cannot be refreshed (``-fail``).
  ``TRIM ON|OFF``
    Pass ``-trim=true`` or ``-trim=false``; without it ``pgofetch``'s default.

  The target has the property ``PGOFETCH_OUTPUT``, the absolute path of the
  profile.

.. command:: pgofetch_go_executable

  .. code-block:: cmake

    pgofetch_go_executable(<target> PACKAGE <./cmd/foo>
                           [OUTPUT <path>] [PROFILE <name>]
                           [WORKING_DIRECTORY <dir>] [DEPENDS <file>...]
                           [GO_FLAGS <flag>...])

  Creates the target ``<target>``, part of ``ALL``, that runs
  ``go build -o <OUTPUT> [-pgo=<profile>] <GO_FLAGS> <PACKAGE>``.

  ``PACKAGE <package>``
    Required. The Go main package, relative to ``WORKING_DIRECTORY``
    (``./cmd/foo``) or as an import path.
  ``OUTPUT <path>``
    The executable; default ``${CMAKE_CURRENT_BINARY_DIR}/bin/<target>``. A
    relative path is relative to the current binary directory.
  ``PROFILE <name>``
    A ``pgofetch_profile()`` target, defined before. Its ``OUTPUT`` is passed
    as ``-pgo=`` and is a ``DEPENDS`` of the build. While the profile file
    does not exist (a first build whose fetch failed), ``go build`` runs with
    Go's default ``-pgo=auto`` (with Make, on every build until a profile
    arrives; Go's cache makes that cheap).
  ``WORKING_DIRECTORY <dir>``
    Where ``go build`` runs; default the current source directory. It must be
    in a Go module: every ``*.go`` (but ``_test.go``), ``go.mod`` and ``go.sum``
    file of that module is a dependency of the build (globbed with
    ``CONFIGURE_DEPENDS``).
  ``DEPENDS <file>...``
    More dependencies, such as files the package embeds.
  ``GO_FLAGS <flag>...``
    More ``go build`` flags, for example ``-trimpath``.

  The target has the property ``PGOFETCH_OUTPUT``, the absolute path of the
  executable.

Variables
^^^^^^^^^

``PGOFETCH_EXECUTABLE``
  The ``pgofetch`` program. When set it is used; otherwise the target
  ``PGOFetch::pgofetch`` (defined by the config package and by FetchContent of
  pgofetch), otherwise ``find_program(pgofetch)``.
``PGOFETCH_GO_EXECUTABLE``
  The ``go`` command; otherwise ``find_program(go)`` (``$GOROOT/bin``, then
  ``PATH``).

Example
^^^^^^^

.. code-block:: cmake

  pgofetch_profile(server_pgo
    OUTPUT ${CMAKE_CURRENT_SOURCE_DIR}/cmd/server/default.pgo
    QUERY "service:server env:prod")
  pgofetch_go_executable(server PACKAGE ./cmd/server PROFILE server_pgo)
#]=======================================================================]

if(CMAKE_VERSION VERSION_LESS 3.20)
  message(FATAL_ERROR "PGOFetch needs CMake 3.20 or newer, this is ${CMAKE_VERSION}")
endif()
include_guard(GLOBAL)

# The Go build helper lives beside this file: it picks -pgo= at build time.
set_property(GLOBAL PROPERTY _PGOFETCH_GO_BUILD_SCRIPT
  "${CMAKE_CURRENT_LIST_DIR}/PGOFetch/go-build.cmake")

# Rejects what cmake_parse_arguments left over: unknown arguments and
# keywords given without a value.
function(_pgofetch_check_parsed cmd name prefix)
  if(${prefix}_UNPARSED_ARGUMENTS)
    list(JOIN ${prefix}_UNPARSED_ARGUMENTS " " unknown)
    message(FATAL_ERROR "${cmd}(${name}): unknown argument(s): ${unknown}")
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

# A Go duration as pgofetch (and Go's time.ParseDuration) takes it.
function(_pgofetch_check_duration cmd name keyword value)
  if(NOT value MATCHES "^(0|([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$")
    message(FATAL_ERROR
      "${cmd}(${name}): ${keyword} ${value} is not a Go duration (like 72h, 1m30s, 500ms)")
  endif()
endfunction()

# The pgofetch command for COMMAND: PGOFETCH_EXECUTABLE, else the
# PGOFetch::pgofetch target (a target name in COMMAND becomes its path and
# a target-level dependency), else find_program.
function(_pgofetch_find_pgofetch cmd name out)
  if(PGOFETCH_EXECUTABLE)
    if(NOT EXISTS "${PGOFETCH_EXECUTABLE}" OR IS_DIRECTORY "${PGOFETCH_EXECUTABLE}")
      message(FATAL_ERROR
        "${cmd}(${name}): PGOFETCH_EXECUTABLE is ${PGOFETCH_EXECUTABLE}, which is not a file")
    endif()
    set(${out} "${PGOFETCH_EXECUTABLE}" PARENT_SCOPE)
    return()
  endif()
  if(TARGET PGOFetch::pgofetch)
    set(${out} PGOFetch::pgofetch PARENT_SCOPE)
    return()
  endif()
  find_program(PGOFETCH_EXECUTABLE NAMES pgofetch
    DOC "pgofetch: fetches Go CPU profiles for PGO")
  if(NOT PGOFETCH_EXECUTABLE)
    message(FATAL_ERROR
      "${cmd}(${name}): the pgofetch program was not found. Install it "
      "(cmake --install of the pgofetch project) and use find_package(PGOFetch), "
      "add the pgofetch repository with FetchContent, put pgofetch on PATH, "
      "or set PGOFETCH_EXECUTABLE to its path.")
  endif()
  set(${out} "${PGOFETCH_EXECUTABLE}" PARENT_SCOPE)
endfunction()

# The go command: PGOFETCH_GO_EXECUTABLE, else find_program; Go 1.21+.
function(_pgofetch_find_go cmd name out)
  if(NOT PGOFETCH_GO_EXECUTABLE)
    find_program(PGOFETCH_GO_EXECUTABLE NAMES go
      HINTS ENV GOROOT PATH_SUFFIXES bin
      DOC "The go command, for pgofetch_go_executable()")
  endif()
  if(NOT PGOFETCH_GO_EXECUTABLE)
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

# Make (unlike Ninja, which has the profile target's BYPRODUCT) needs a rule
# for a prerequisite that may be missing: a first build whose fetch failed
# leaves no profile. This one does nothing; while the profile is missing the
# Go build re-runs, without PGO. One rule per directory and profile: every
# target of the directory that depends on the file shares it.
function(_pgofetch_missing_profile_rule pgo)
  if(CMAKE_GENERATOR MATCHES "Ninja")
    return()
  endif()
  get_property(done DIRECTORY PROPERTY _PGOFETCH_PROFILE_RULES)
  if(pgo IN_LIST done)
    return()
  endif()
  add_custom_command(OUTPUT "${pgo}"
    COMMAND "${CMAKE_COMMAND}" -E echo "No PGO profile ${pgo} (yet): building without it"
    COMMENT ""
    VERBATIM)
  set_property(DIRECTORY APPEND PROPERTY _PGOFETCH_PROFILE_RULES "${pgo}")
endfunction()

function(pgofetch_profile)
  set(options FAIL)
  set(one OUTPUT PROFILES FROM TIMEOUT MAX_AGE TRIM)
  set(multi QUERY IN)
  set(name "${ARGV0}")
  _pgofetch_check_name(pgofetch_profile "${ARGC}" "${name}" "${options};${one};${multi}")
  cmake_parse_arguments(PARSE_ARGV 1 arg "${options}" "${one}" "${multi}")
  _pgofetch_check_parsed(pgofetch_profile "${name}" arg)

  if(NOT DEFINED arg_OUTPUT)
    message(FATAL_ERROR "pgofetch_profile(${name}): OUTPUT <file> is required")
  endif()
  if(NOT arg_QUERY AND NOT arg_IN)
    message(FATAL_ERROR
      "pgofetch_profile(${name}): give at least one QUERY <query> or IN <source>")
  endif()

  set(flags "")
  foreach(src IN LISTS arg_IN)
    if(src STREQUAL "")
      message(FATAL_ERROR "pgofetch_profile(${name}): IN has an empty source")
    endif()
    if(NOT src MATCHES "^[A-Za-z][A-Za-z0-9+.-]*://")
      get_filename_component(src "${src}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    endif()
    list(APPEND flags "-in=${src}")
  endforeach()
  foreach(query IN LISTS arg_QUERY)
    if(query STREQUAL "")
      message(FATAL_ERROR "pgofetch_profile(${name}): QUERY has an empty query")
    endif()
  endforeach()
  if(DEFINED arg_PROFILES)
    if(NOT arg_PROFILES MATCHES "^[1-9][0-9]*$")
      message(FATAL_ERROR
        "pgofetch_profile(${name}): PROFILES ${arg_PROFILES} is not a positive integer")
    endif()
    list(APPEND flags "-profiles=${arg_PROFILES}")
  endif()
  foreach(kw FROM TIMEOUT MAX_AGE)
    if(DEFINED arg_${kw})
      _pgofetch_check_duration(pgofetch_profile "${name}" ${kw} "${arg_${kw}}")
      string(TOLOWER "${kw}" flag)
      string(REPLACE "_" "-" flag "${flag}")
      list(APPEND flags "-${flag}=${arg_${kw}}")
    endif()
  endforeach()
  if(arg_FAIL)
    list(APPEND flags "-fail")
  endif()
  # -trim only when asked for: pgofetch's default stands otherwise.
  if(DEFINED arg_TRIM)
    string(TOUPPER "${arg_TRIM}" trim)
    if(trim MATCHES "^(ON|TRUE|YES|Y|1)$")
      list(APPEND flags "-trim=true")
    elseif(trim MATCHES "^(OFF|FALSE|NO|N|0)$")
      list(APPEND flags "-trim=false")
    else()
      message(FATAL_ERROR "pgofetch_profile(${name}): TRIM must be ON or OFF, not ${arg_TRIM}")
    endif()
  endif()

  get_filename_component(output "${arg_OUTPUT}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  get_filename_component(output_dir "${output}" DIRECTORY)
  _pgofetch_find_pgofetch(pgofetch_profile "${name}" pgofetch)

  # Runs on every build (a custom target is always out of date); the profile
  # is its BYPRODUCT, so Ninja re-stats it and Make compares its mtime: what
  # depends on it rebuilds only when pgofetch rewrote it.
  # Make re-reads the mtime once the target ran; Ninja needs the BYPRODUCT
  # (it re-stats a restat output, and knows the rule that makes the file).
  set(byproducts "")
  if(CMAKE_GENERATOR MATCHES "Ninja")
    set(byproducts BYPRODUCTS "${output}")
  endif()
  add_custom_target("${name}" ALL
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${output_dir}"
    COMMAND ${pgofetch} ${flags} -- ${arg_QUERY} "${output}"
    ${byproducts}
    COMMENT "Refreshing Go PGO profile ${output}"
    VERBATIM)
  set_target_properties("${name}" PROPERTIES PGOFETCH_OUTPUT "${output}")
endfunction()

function(pgofetch_go_executable)
  set(options "")
  set(one PACKAGE OUTPUT PROFILE WORKING_DIRECTORY)
  set(multi GO_FLAGS DEPENDS)
  set(target "${ARGV0}")
  _pgofetch_check_name(pgofetch_go_executable "${ARGC}" "${target}" "${one};${multi}")
  cmake_parse_arguments(PARSE_ARGV 1 arg "${options}" "${one}" "${multi}")
  _pgofetch_check_parsed(pgofetch_go_executable "${target}" arg)

  if(NOT DEFINED arg_PACKAGE OR arg_PACKAGE STREQUAL "")
    message(FATAL_ERROR
      "pgofetch_go_executable(${target}): PACKAGE <./cmd/foo> is required")
  endif()

  set(pgo "")
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

  if(DEFINED arg_OUTPUT)
    get_filename_component(output "${arg_OUTPUT}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  else()
    set(output "${CMAKE_CURRENT_BINARY_DIR}/bin/${target}${CMAKE_EXECUTABLE_SUFFIX}")
  endif()
  # A file named like the target at the top of the binary directory would
  # clash with the target's own build rule.
  if(output STREQUAL "${CMAKE_CURRENT_BINARY_DIR}/${target}")
    message(FATAL_ERROR
      "pgofetch_go_executable(${target}): OUTPUT ${output} has the target's name; "
      "put it in a subdirectory or name it differently")
  endif()

  _pgofetch_find_go(pgofetch_go_executable "${target}" go)

  # The module's sources are the build's inputs (go itself caches the rest);
  # test files, testdata and the build tree are left out.
  file(GLOB_RECURSE found CONFIGURE_DEPENDS LIST_DIRECTORIES false
    "${modroot}/*.go" "${modroot}/go.mod" "${modroot}/go.sum")
  set(sources "")
  foreach(file IN LISTS found)
    string(FIND "${file}" "${CMAKE_BINARY_DIR}/" in_build)
    if(in_build EQUAL 0 OR file MATCHES "_test\\.go$" OR file MATCHES "/testdata/")
      continue()
    endif()
    list(APPEND sources "${file}")
  endforeach()
  set(depends ${sources})
  foreach(dep IN LISTS arg_DEPENDS)
    get_filename_component(dep "${dep}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND depends "${dep}")
  endforeach()
  set(pgo_comment "")
  if(pgo)
    list(APPEND depends "${pgo}")
    set(pgo_comment " with PGO profile ${pgo}")
    _pgofetch_missing_profile_rule("${pgo}")
  endif()

  get_property(script GLOBAL PROPERTY _PGOFETCH_GO_BUILD_SCRIPT)
  add_custom_command(OUTPUT "${output}"
    COMMAND "${CMAKE_COMMAND}" "-DPGOFETCH_PGO=${pgo}" "-DPGOFETCH_OUTPUT=${output}"
      -P "${script}" -- "${go}" build -o "${output}" ${arg_GO_FLAGS} "${arg_PACKAGE}"
    DEPENDS ${depends}
    WORKING_DIRECTORY "${workdir}"
    COMMENT "Building Go executable ${target} (${arg_PACKAGE})${pgo_comment}"
    VERBATIM)
  add_custom_target("${target}" ALL DEPENDS "${output}")
  if(DEFINED arg_PROFILE)
    add_dependencies("${target}" "${arg_PROFILE}")
  endif()
  set_target_properties("${target}" PROPERTIES PGOFETCH_OUTPUT "${output}")
endfunction()
