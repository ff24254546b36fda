"""The pgofetch_profile repository rule: a fresh Go CPU profile as a label.

The repository runs pgofetch once, at fetch time (or, with mode =
"committed", takes the checked-in profile and runs nothing), and exposes:

    @<name>//:default.pgo   the merged pprof profile: the one just fetched, else
                            the last good one, else the fallback, else empty
                            (Go then builds without PGO)
    @<name>//:update        `bazel run @<name>//:update -- DIR` copies default.pgo
                            into DIR (for teams that commit it)
    @<name>//:fetch.log     what pgofetch said (never a key)
    @<name>//:check         `bazel run @<name>//:check -- BINARY|PACKAGE_DIR` runs
                            pgofetch check: does the profile still match the code?

Bazel caches the repository: it is fetched again only when an attribute, the
rule's code, a label input, or one of the variables in _ENVIRON changes, or on
`bazel sync --only=<name>`. Bazel deletes the repository before it fetches it
again, so the last good profile is kept outside it, in the user's cache
directory, and a failed fetch falls back to it.
"""

# Variables that change the profile's content: a change refetches. Nothing
# else is declared (a change of CC, PATH or a proxy must not cost a fetch,
# nor in an outage the profile). DD_API_KEY and DD_APP_KEY must never be
# listed here: a key rotation would refetch, and Bazel would hash the key
# into its marker file.
_ENVIRON = [
    "PGOFETCH_REFRESH",  # bump (e.g. to the date) to fetch a fresh profile
    "DD_SITE",  # which Datadog site the queries go to
    "PGOFETCH_API_URL",  # pgofetch's own override of the API base URL
]

# pgofetch bounds its fetching itself (-timeout, passed through as given);
# this only stops a pgofetch that hangs.
_EXECUTE_LIMIT_S = 24 * 3600

# The pgofetch repository's own root, found through a file of this package.
_ANCHOR = Label("//bazel:BUILD.bazel")

# The generated repository's BUILD file loads the update rule from here.
_DEFS = Label("//bazel:defs.bzl")

def _label_string(label):
    """A label as text that means the same inside another repository."""
    s = str(label)
    return "@" + s if s.startswith("//") else s

def _what(ctx):
    return "pgofetch_profile(name = \"%s\")" % ctx.attr.name

def _warn(ctx, text):
    """One warning line (Bazel shows it as a DEBUG line)."""
    print("WARNING: %s: %s" % (_what(ctx), text))

def _first_line(text, marks):
    """The first line of text holding one of marks (else the last non-empty
    line), trimmed: a tool's long output as one line."""
    lines = [l.strip(" -\t") for l in text.splitlines() if l.strip(" -\t")]
    for l in lines:
        for m in marks:
            if m in l:
                return l
    return lines[-1] if lines else "no output"

# ---------------------------------------------------------------------------
# Where the rule keeps what must outlive the repository: the user's cache
# directory, one folder per repository of each workspace.

def _cache_dir(ctx):
    base = ctx.os.environ.get("XDG_CACHE_HOME", "")
    if not base:
        home = ctx.os.environ.get("HOME", "")
        if not home:
            return None
        base = home + "/.cache"

    # The repository's own directory names the workspace (its output base)
    # and the repository.
    return ctx.path("%s/pgofetch/bazel/%s-%d" % (base, ctx.attr.name, _unsigned(hash(str(ctx.path("."))))))

def _unsigned(n):
    return n + 4294967296 if n < 0 else n

def _mkdir(ctx, path):
    return ctx.execute(["mkdir", "-p", str(path)]).return_code == 0

def _copy(ctx, src, dst):
    """Copies a file byte for byte (ctx.file would encode it as text)."""
    res = ctx.execute(["cp", "-f", str(src), str(dst)])
    if res.return_code != 0:
        fail("%s: cannot copy %s to %s: %s" % (_what(ctx), src, dst, res.stderr.strip()))

# ---------------------------------------------------------------------------
# Which pgofetch: the attribute, else PATH, else built by the project's own
# CMake build (the one description of how pgofetch is built).

def _find_pgofetch(ctx, tool_attr, root, cache):
    """(path, where it came from, None), or (None, None, why there is none)."""
    if tool_attr:
        return str(tool_attr), "the pgofetch attribute (%s)" % ctx.attr.pgofetch, None
    found = ctx.which("pgofetch")
    if found:
        return str(found), "PATH", None
    cmake = ctx.which("cmake")
    if not cmake:
        return None, None, "no pgofetch: none on PATH, and no cmake to build it (install cmake or put pgofetch on PATH)"
    if not cache:
        return None, None, "no pgofetch: none on PATH, and neither HOME nor XDG_CACHE_HOME to build it in"
    return _cmake_build(ctx, str(cmake), root, cache)

def _cmake_build(ctx, cmake, root, cache):
    build = cache.get_child("build")
    bindir = build.get_child("bin")
    log = []

    # Configured once; `cmake --build` then redoes only what changed (and
    # reconfigures by itself when a CMakeLists.txt changed).
    if not build.get_child("CMakeCache.txt").exists:
        ctx.report_progress("Configuring pgofetch's CMake build")
        res = ctx.execute([
            cmake,
            "-S",
            str(root),
            "-B",
            str(build),
            "-DBUILD_TESTING=OFF",
            "-DCMAKE_RUNTIME_OUTPUT_DIRECTORY=" + str(bindir),
        ], timeout = 600)
        log.append(res.stdout + res.stderr)
        if res.return_code != 0:
            ctx.execute(["rm", "-rf", str(build)])
            ctx.file("cmake.log", "".join(log), executable = False)
            return None, None, "cannot build pgofetch: %s (install its build dependencies, core/install-deps.sh, or put pgofetch on PATH)" % (
                _first_line(res.stdout + res.stderr, ["not found", "NOT found", "Could NOT", "CMake Error"]),
            )
    ctx.report_progress("Building pgofetch with CMake")
    res = ctx.execute([cmake, "--build", str(build), "--target", "pgofetch"], timeout = 1800)
    log.append(res.stdout + res.stderr)
    ctx.file("cmake.log", "".join(log), executable = False)
    tool = bindir.get_child("pgofetch")
    if res.return_code != 0 or not tool.exists:
        return None, None, "cannot build pgofetch: %s (see @%s//:cmake.log)" % (
            _first_line(res.stdout + res.stderr, ["error", "Error"]),
            ctx.attr.name,
        )
    return str(tool), "built by CMake in %s" % build, None

# ---------------------------------------------------------------------------
# Sources for -in.

def _is_label(s):
    return s.startswith("@") or s.startswith("//") or s.startswith(":")

def _main_label(s):
    """A label written in the main repository's WORKSPACE or MODULE.bazel, as
    text that means the same inside this one."""
    if s.startswith("//"):
        return "@" + s
    if s.startswith(":"):
        return "@//" + s
    return s

def in_labels(ins):
    """The label entries of ins, as labels of the main repository unless they
    name one: the macro and the module extension pass them as in_labels, a
    label attribute, so that Bazel tracks the files (a change refetches)."""
    return [_main_label(s) for s in ins if _is_label(s)]

def go_label(go):
    """The go attribute as a label for go_label, or None when it is a path."""
    return _main_label(go) if go and _is_label(go) else None

def _in_sources(ctx):
    """The -in sources as pgofetch sees them, in the order of ins."""
    tracked = ctx.attr.in_labels
    labels = [s for s in ctx.attr.ins if _is_label(s)]
    if tracked and len(tracked) != len(labels):
        fail("%s: in_labels must be the label entries of ins (leave it to pgofetch_profile)" % _what(ctx))
    out = []
    k = 0
    for s in ctx.attr.ins:
        if _is_label(s):
            # Through the label attribute when there is one: Bazel 4 tracks
            # only files reached through label attributes.
            out.append(str(ctx.path(tracked[k] if tracked else Label(in_labels([s])[0]))))
            k += 1
        elif s.startswith("http://") or s.startswith("https://") or s.startswith("/"):
            out.append(s)
        else:
            fail(("%s: ins entry %r is neither a URL, an absolute path nor a label " +
                  "(write a file of the main repository as \"//pkg:file\")") % (_what(ctx), s))
    return out

def _go_arg(ctx):
    """pgofetch's -go argument: the go that will build, for -trim's guard."""
    go = ctx.attr.go
    if not go:
        return []
    if _is_label(go):
        # Through the label attribute when there is one, as for ins.
        return ["-go=%s" % ctx.path(ctx.attr.go_label or Label(go_label(go)))]
    if not go.startswith("/"):
        fail("%s: go %r is neither an absolute path nor a label" % (_what(ctx), go))
    return ["-go=" + go]

# ---------------------------------------------------------------------------
# Weights: pgofetch's -weight W sets the weight of the -in sources after it,
# and QUERY arguments take the one in force after the last flag.

def _source_args(ctx, ins):
    """-in (and, with weights, -weight) arguments, and the -weight that the
    queries take (an empty list without weights): weights go to pgofetch as
    written, which names a bad one in its usage error."""
    weights = ctx.attr.weights
    for key in weights:
        if key not in ctx.attr.ins and key not in ctx.attr.queries:
            fail("%s: weights key %r is neither an entry of ins nor of queries" % (_what(ctx), key))
    args = []
    for entry, source in zip(ctx.attr.ins, ins):
        if weights:
            args.append("-weight=" + weights.get(entry, "1"))
        args += ["-in", source]
    query_weights = {weights.get(q, "1"): True for q in ctx.attr.queries}
    if len(query_weights) > 1:
        fail("%s: weights gives queries different weights; pgofetch merges all queries at one weight" % _what(ctx))
    if weights and query_weights:
        args.append("-weight=" + query_weights.keys()[0])
    return args

# ---------------------------------------------------------------------------
# Keys.

# Runs "$@" with DD_API_KEY and DD_APP_KEY read from the file $1, so that the
# keys never pass through Bazel: Bazel writes its whole client environment
# (every --client_env) into java.log in the output base, so keys exported in
# the shell that runs Bazel end up there. Only those two assignments are read
# (KEY=value or export KEY=value, optionally quoted); nothing is executed.
_WITH_KEYS = r"""
file=$1; shift
while IFS= read -r line || [ -n "$line" ]; do
	line=${line#export }
	case $line in
	DD_API_KEY=* | DD_APP_KEY=*)
		name=${line%%=*}
		value=${line#*=}
		case $value in
		\"*\") value=${value#\"}; value=${value%\"} ;;
		\'*\') value=${value#\'}; value=${value%\'} ;;
		esac
		export "$name=$value" ;;
	esac
done < "$file" || exit 3
exec "$@"
"""

def _key_runner(ctx):
    """The argv prefix that gives pgofetch the keys, and where they come from."""
    in_env = [k for k in ["DD_API_KEY", "DD_APP_KEY"] if k in ctx.os.environ]
    if in_env:
        _warn(ctx, "%s in Bazel's environment, which Bazel writes to java.log in its output base; name a keys file with PGOFETCH_KEYS_FILE instead" % (
            " and ".join(in_env) + (" is" if len(in_env) == 1 else " are"),
        ))
    keys_file = ctx.os.environ.get("PGOFETCH_KEYS_FILE", "")
    if not keys_file:
        return [], "the environment (DD_API_KEY, DD_APP_KEY)"
    if not ctx.path(keys_file).exists:
        _warn(ctx, "PGOFETCH_KEYS_FILE=%s does not exist; pgofetch gets only the environment's keys" % keys_file)
        return [], "the environment: PGOFETCH_KEYS_FILE=%s does not exist" % keys_file
    sh = ctx.which("sh")
    if not sh:
        fail("%s: PGOFETCH_KEYS_FILE needs a POSIX sh on PATH" % _what(ctx))
    return [str(sh), "-c", _WITH_KEYS, "pgofetch-keys", keys_file], "PGOFETCH_KEYS_FILE (%s)" % keys_file

# ---------------------------------------------------------------------------

def _identity(ctx, noinline_file, list_line):
    """What the profile is of: a last good profile of anything else is not
    used (changing the queries in an outage gives no profile, not the old
    service's; changing the no-inline list gives none that inlines what it
    names). With a list, the package's line says it."""
    env = ctx.os.environ
    if ctx.attr.list:
        return "\n".join(["list", list_line, "api_url=" + ctx.attr.api_url,
                          "DD_SITE=" + env.get("DD_SITE", ""),
                          "PGOFETCH_API_URL=" + env.get("PGOFETCH_API_URL", "")]) + "\n"
    noinline = ctx.attr.noinline_funcs + ["file"] + ([ctx.read(noinline_file)] if noinline_file else [])
    weights = ["%s=%s" % (k, v) for k, v in sorted(ctx.attr.weights.items())]
    return "\n".join(["queries"] + ctx.attr.queries + ["ins"] + ctx.attr.ins + ["noinline"] + noinline + ["weights"] + weights + [
        "normalize=%s" % ctx.attr.normalize,
        "api_url=" + ctx.attr.api_url,
        "DD_SITE=" + env.get("DD_SITE", ""),
        "PGOFETCH_API_URL=" + env.get("PGOFETCH_API_URL", ""),
    ]) + "\n"

def _run_args(ctx, go):
    """The arguments that apply to the whole run."""
    attr = ctx.attr
    args = [
        "-fail",  # the rule decides about failing open, from the exit code
        "-from=" + attr.from_,  # durations go to pgofetch as given: it
        "-timeout=" + attr.fetch_timeout,  # names a bad one in its usage error
    ]
    if not attr.trim:
        # trim = True leaves pgofetch its default (-trim), which older
        # pgofetch builds refuse to be given explicitly.
        args.append("-trim=false")
    if attr.api_url:
        args.append("-api-url=" + attr.api_url)
    return args + go

def _single_args(ctx, go, ins, noinline_file, last):
    """pgofetch's arguments for the sources of the attributes, and what they
    fetch (for the progress line)."""
    attr = ctx.attr
    args = _run_args(ctx, go) + ["-profiles=%d" % attr.profiles]
    args += ["-noinline-func=" + re for re in attr.noinline_funcs]
    if noinline_file:
        args.append("-noinline-file=%s" % noinline_file)
    if attr.normalize:
        args.append("-normalize")
    args += _source_args(ctx, ins) + attr.queries + [str(last)]
    what = ", ".join(["%d Datadog quer%s" % (len(attr.queries), "y" if len(attr.queries) == 1 else "ies")] +
                     (["%d -in source%s" % (len(attr.ins), "" if len(attr.ins) == 1 else "s")] if attr.ins else []))
    return args, what

def _list_args(ctx, go, list_file, out):
    """pgofetch refresh's arguments for the package's line of the list: it
    writes out/PACKAGE/default.pgo."""
    args = ["refresh"] + _run_args(ctx, go) + ["-list", str(list_file), "-out", str(out), ctx.attr.package]
    return args, "%s of %s" % (ctx.attr.package, ctx.attr.list)

def _fetch(ctx, tool, args, what, keys, last):
    """Runs pgofetch into last; returns (ok, one line on failure, log)."""
    ctx.report_progress("Fetching Go CPU profiles with pgofetch (%s)" % what)
    runner, keys_from = _key_runner(ctx) if keys else ([], "not needed")
    args = [tool] + args

    # pgofetch writes last only when the fetch succeeds, atomically: a failed
    # fetch leaves the last good profile as it was.
    res = ctx.execute(runner + args, timeout = _EXECUTE_LIMIT_S)
    log = "keys: %s\nexit code: %d\n%s" % (keys_from, res.return_code, res.stderr)
    if res.return_code == 2:
        fail("%s: pgofetch rejected its arguments: %s" % (_what(ctx), _first_line(res.stderr, ["pgofetch:"])))
    if res.return_code != 0:
        why = _first_line(res.stderr, ["ERR ", ": failed: "])
        for prefix in ["ERR ", "pgofetch: %s: failed: " % ctx.attr.package]:
            if why.startswith(prefix):
                why = why[len(prefix):]
        if res.return_code == 7 and not runner:  # pgofetch's exit code for keys
            why += "; name a keys file with PGOFETCH_KEYS_FILE"
        return False, "fetch failed (pgofetch exit code %d: %s)" % (res.return_code, why), log
    if not last.exists:
        return False, "pgofetch exited 0 but wrote no profile", log
    return True, None, log

# ---------------------------------------------------------------------------
# The list file (pgofetch.list): one main package a line, its directory
# first, then pgofetch's arguments for it. The rule reads only the first
# word; pgofetch refresh reads the rest.

# What a line of the list holds instead of the rule's attributes.
_LINE_ATTRS = ["queries", "ins", "weights", "normalize", "noinline_funcs", "noinline_file"]

def _check_list_attrs(ctx):
    attr = ctx.attr
    if bool(attr.list) != bool(attr.package):
        fail("%s: list and package go together: the list file and the package's directory in it" % _what(ctx))
    if attr.list:
        for name in _LINE_ATTRS:
            if getattr(attr, name):
                fail("%s: with list, %s goes on the package's line of %s, not in the rule" % (_what(ctx), name, attr.list))

def _list_line(text, package):
    """The list's line for package (its first word), trimmed, or ""."""
    for line in text.splitlines():
        words = [w for w in line.replace("\t", " ").split(" ") if w]
        if words and words[0] == package:
            return line.strip()
    return ""

def list_profile(list_label, package):
    """The label of package's default.pgo beside the list (a list label
    string or Label): the macro and the module extension pass it as
    list_profile, so that Bazel tracks the committed file."""
    if not list_label or not package:
        return None
    if type(list_label) == "Label":
        repo = "@@" + list_label.workspace_name if list_label.workspace_name else "@"
        pkg = list_label.package
    else:
        head = _main_label(list_label).partition(":")[0]
        repo, _, pkg = head.partition("//")
    return "%s//%s:default.pgo" % (repo, "/".join([p for p in [pkg, package.strip("/")] if p]))

_MODES = ["fetch", "committed"]

def _committed(ctx):
    """mode = "committed": default.pgo is the checked-in profile, and
    pgofetch never runs (no keys, no network, no pgofetch needed)."""
    attr = ctx.attr
    if not attr.profile and not attr.list:
        fail("%s: mode = \"committed\" needs profile, the checked-in default.pgo (e.g. \"//cmd/server:default.pgo\"), or list and package" % _what(ctx))
    dest = ctx.path("default.pgo")
    if attr.profile:
        src = ctx.path(attr.profile)
    else:
        # Beside the list: the label fails on a missing file, so the path
        # is looked at first.
        src = ctx.path("%s/%s/default.pgo" % (ctx.path(attr.list).dirname, attr.package))
        if src.exists:
            src = ctx.path(attr.list_profile or Label(list_profile(attr.list, attr.package)))
    if src.exists:
        # Through the label attribute: Bazel tracks the file, so committing
        # a new one fetches (copies) it again and rebuilds what uses it.
        _copy(ctx, src, dest)
        log = "mode: committed: default.pgo is %s; pgofetch was not run\n" % src
    else:
        ctx.file("default.pgo", "", executable = False)
        log = "mode: committed: no %s: empty default.pgo, Go builds without PGO\n" % src
        _warn(ctx, ("no committed profile %s: Go builds without PGO; once one is committed, " +
                    "`bazel sync --only=%s` takes it") % (src, attr.name))
    _write_repo(ctx, log, None, "mode = \"committed\" runs no pgofetch")

def _pgofetch_profile_impl(ctx):
    attr = ctx.attr
    if attr.mode not in _MODES:
        fail("%s: mode %r is neither \"fetch\" nor \"committed\"" % (_what(ctx), attr.mode))
    _check_list_attrs(ctx)
    if attr.mode == "committed":
        _committed(ctx)
        return
    if not attr.queries and not attr.ins and not attr.list:
        fail("%s: set queries (Datadog profile queries) or ins (profile files or pprof URLs), or both; or list and package" % _what(ctx))

    # Every label is resolved first: Bazel restarts the rule when one is not
    # fetched yet, and what ran before a restart (pgofetch, a warning) would
    # run twice.
    root = ctx.path(_ANCHOR).dirname.dirname
    tool_attr = ctx.path(attr.pgofetch) if attr.pgofetch else None
    fallback = ctx.path(attr.fallback) if attr.fallback else None
    noinline_file = ctx.path(attr.noinline_file) if attr.noinline_file else None
    ins = _in_sources(ctx)
    go = _go_arg(ctx)

    # The list is read as a watched input: a change refetches.
    list_file = ctx.path(attr.list) if attr.list else None
    list_line = _list_line(ctx.read(list_file), attr.package) if list_file else None

    cache = _cache_dir(ctx)
    if cache and not _mkdir(ctx, cache):
        cache = None
    dest = ctx.path("default.pgo")

    # The last good profile, and what it is of (a repository rule writes
    # only inside its repository with ctx.file, so the key is copied out).
    last = ctx.path("_last.pgo")
    out = cache.get_child("out") if cache else ctx.path("_out")
    if list_file:
        # pgofetch refresh -out writes OUT/PACKAGE/default.pgo.
        last = ctx.path("%s/%s/default.pgo" % (out, attr.package))
    elif cache:
        last = cache.get_child("last.pgo")
    if cache:
        key = cache.get_child("last.key")
        identity = _identity(ctx, noinline_file, list_line)
        if last.exists and (not key.exists or ctx.read(key) != identity):
            ctx.execute(["rm", "-f", str(last)])
        ctx.file("_last.key", identity, executable = False)
        _copy(ctx, ctx.path("_last.key"), key)
        ctx.delete("_last.key")

    tool, origin, failure = _find_pgofetch(ctx, tool_attr, root, cache)
    log = "pgofetch: %s (%s)\n" % (tool, origin) if tool else "pgofetch: none: %s\n" % failure
    if tool:
        if list_file:
            # Its lines may hold queries: keys as for queries.
            args, what = _list_args(ctx, go, list_file, out)
        else:
            args, what = _single_args(ctx, go, ins, noinline_file, last)
        ok, failure, fetch_log = _fetch(ctx, tool, args, what, attr.queries or list_file, last)
        log += fetch_log

    if not failure:
        _copy(ctx, last, dest)
    elif attr.fail:
        fail("%s: %s" % (_what(ctx), failure))
    elif last.exists and len(ctx.read(last)) > 0:
        _copy(ctx, last, dest)
        log += "kept the last good profile\n"
        _warn(ctx, "%s; building with the last good profile (details: @%s//:fetch.log)" % (failure, attr.name))
    elif fallback:
        _copy(ctx, fallback, dest)
        log += "used the fallback %s\n" % attr.fallback
        _warn(ctx, "%s; no earlier profile: building with the fallback %s" % (failure, attr.fallback))
    else:
        ctx.file("default.pgo", "", executable = False)
        log += "empty default.pgo: Go builds without PGO\n"
        _warn(ctx, "%s; no earlier profile: Go builds without PGO until a fetch succeeds (details: @%s//:fetch.log)" % (failure, attr.name))

    # :check runs the pgofetch that fetched (a copy: Bazel deletes nothing
    # outside the repository, but a PATH or cache may change).
    if tool:
        _copy(ctx, tool, ctx.path("pgofetch"))
    _write_repo(ctx, log, tool, failure)

def _write_repo(ctx, log, tool, no_tool):
    """fetch.log, and the repository's WORKSPACE and BUILD files: the same
    targets in every mode, so BUILD files need not change with it. tool is
    whether ./pgofetch is there for :check; no_tool says why not."""
    if tool:
        check_tool = "pgofetch = \":pgofetch\","
    else:
        check_tool = "no_pgofetch = %r," % no_tool
    ctx.file("fetch.log", log, executable = False)
    ctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % ctx.attr.name, executable = False)
    ctx.file("BUILD.bazel", """# Generated by pgofetch_profile: a Go CPU profile for PGO.
load("{defs}", "pgofetch_check", "pgofetch_update")

package(default_visibility = ["//visibility:public"])

exports_files(glob(["*.log"]) + ["default.pgo"])

# bazel run @{name}//:update -- DIR  copies default.pgo into DIR.
pgofetch_update(
    name = "update",
    profile = ":default.pgo",
)

# bazel run @{name}//:check -- [-json] [-fail-below PCT] BINARY|PACKAGE_DIR
# reports how much of the profile still matches the code.
pgofetch_check(
    name = "check",
    profile = ":default.pgo",
    {check_tool}
)
""".format(defs = _label_string(_DEFS), name = ctx.attr.name, check_tool = check_tool), executable = False)

PROFILE_ATTRS = {
    "mode": attr.string(
        default = "fetch",
        doc = "\"fetch\": run pgofetch at fetch time; \"committed\": never run it, default.pgo is " +
              "the checked-in profile.",
    ),
    "list": attr.label(
        allow_single_file = True,
        doc = "pgofetch's list file (pgofetch.list): with package, the rule runs " +
              "`pgofetch refresh -list LIST PACKAGE` for that package's line; tracked: a change refetches.",
    ),
    "package": attr.string(
        doc = "The package's directory as the list's line names it, e.g. \"cmd/server\".",
    ),
    "list_profile": attr.label(
        allow_single_file = True,
        doc = "Set by pgofetch_profile and the module extension: PACKAGE/default.pgo beside the list.",
    ),
    "profile": attr.label(
        allow_single_file = True,
        doc = "The checked-in profile that mode = \"committed\" uses, e.g. \"//cmd/server:default.pgo\"; " +
              "tracked: committing a new one rebuilds.",
    ),
    "queries": attr.string_list(
        doc = "Datadog profile queries, e.g. \"service:foo env:prod\"; one merged profile for all.",
    ),
    "ins": attr.string_list(
        doc = "Local or HTTP sources (pgofetch -in): a URL of a net/http/pprof endpoint, an absolute " +
              "path, or a file label such as \"//profiles:cpu.pprof\" (of the main repository unless it " +
              "names one). Label inputs are tracked: changing the file refetches.",
    ),
    "in_labels": attr.label_list(
        allow_files = True,
        doc = "Set by pgofetch_profile and the module extension: the label entries of ins.",
    ),
    "weights": attr.string_dict(
        doc = "Each source's weight (pgofetch -weight), by its entry of ins or queries, e.g. " +
              "{\"//profiles:bench.pprof\": \"0.2\"}; a number as a string, 0 or more; unlisted " +
              "sources weigh 1, and all queries take one weight.",
    ),
    "normalize": attr.bool(
        default = False,
        doc = "Scale each source to the same total before its weight (pgofetch -normalize).",
    ),
    "profiles": attr.int(default = 5, doc = "Datadog: profiles per query (-profiles)."),
    "from_": attr.string(
        default = "72h",
        doc = "Datadog: how far back to search (pgofetch -from; `from` is a reserved word in Starlark).",
    ),
    "fetch_timeout": attr.string(
        default = "1m",
        doc = "Bound on all fetching (pgofetch -timeout), a Go duration. The macro and the module " +
              "extension call it timeout; Bazel reserves that name on rules.",
    ),
    "fail": attr.bool(
        default = False,
        doc = "Fail the fetch (and the build) when no profile is reachable, instead of falling back.",
    ),
    "fallback": attr.label(
        allow_single_file = True,
        doc = "A checked-in profile used when a fetch fails and this machine has no last good profile.",
    ),
    "trim": attr.bool(default = True, doc = "Keep only what the Go compiler reads (-trim)."),
    "noinline_funcs": attr.string_list(
        doc = "Functions the compiler must not inline (pgofetch -noinline-func): POSIX extended " +
              "regular expressions matching whole names, e.g. \"example\\.com/pkg\\.hot\".",
    ),
    "noinline_file": attr.label(
        allow_single_file = True,
        doc = "A file of such regular expressions, one a line (pgofetch -noinline-file); tracked: " +
              "changing it refetches.",
    ),
    "api_url": attr.string(doc = "Datadog API base URL (-api-url); default https://app.$DD_SITE."),
    "go": attr.string(
        doc = "The go that will build (pgofetch -go): an absolute path or a label such as " +
              "\"@go_sdk//:bin/go\"; when it is newer than the Go versions -trim is proven for, the " +
              "full profile is written. Default: pgofetch's, go on PATH.",
    ),
    "go_label": attr.label(
        allow_single_file = True,
        doc = "Set by pgofetch_profile and the module extension: go when it is a label.",
    ),
    "pgofetch": attr.label(
        allow_single_file = True,
        doc = "The pgofetch binary; default: pgofetch on PATH, else built by pgofetch's CMake build.",
    ),
}

_pgofetch_profile = repository_rule(
    implementation = _pgofetch_profile_impl,
    attrs = PROFILE_ATTRS,
    environ = _ENVIRON,
    doc = "Runs pgofetch at fetch time; exposes :default.pgo, :update and :fetch.log.",
)

def pgofetch_profile(name, timeout = None, **kwargs):
    """Declares @<name>, a repository holding a Go CPU profile fetched by pgofetch.

    Attributes: see PROFILE_ATTRS (mode, profile, list, package, queries,
    ins, weights, normalize, profiles, from_, timeout, fail, fallback, trim,
    noinline_funcs, noinline_file, api_url, go, pgofetch).
    """
    if timeout != None:
        kwargs["fetch_timeout"] = timeout
    if "in_labels" not in kwargs:
        kwargs["in_labels"] = in_labels(kwargs.get("ins", []))
    if "go_label" not in kwargs:
        kwargs["go_label"] = go_label(kwargs.get("go", ""))
    if "list_profile" not in kwargs:
        kwargs["list_profile"] = list_profile(kwargs.get("list"), kwargs.get("package"))
    _pgofetch_profile(name = name, **kwargs)

pgofetch_profile_rule = _pgofetch_profile

# The attributes of the module extension's pgo.profile tag: the rule's, with
# timeout under its own name.
TAG_ATTRS = dict(PROFILE_ATTRS)
TAG_ATTRS["timeout"] = TAG_ATTRS.pop("fetch_timeout")
TAG_ATTRS.pop("in_labels")
TAG_ATTRS.pop("go_label")
TAG_ATTRS.pop("list_profile")
