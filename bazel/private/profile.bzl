"""The pgofetch_profile repository rule: a fresh Go CPU profile as a label.

The repository runs pgofetch once, at fetch time, and exposes:

    @<name>//:default.pgo   the merged pprof profile (empty when no profile was
                            reachable and fail = False: Go then builds without PGO)
    @<name>//:profile       default.pgo, or with format = "preprofile" Go's
                            preprocessed form (default.preprofile)
    @<name>//:update        `bazel run @<name>//:update -- DIR` copies default.pgo
                            into DIR (for teams that commit it)
    @<name>//:fetch.log     what pgofetch said (never a key)

Bazel caches the repository: it is fetched again only when an attribute, the
rule's code, a label input, or one of the variables in _ENVIRON changes, or on
`bazel sync --only=<name>`. PGOFETCH_REFRESH is the variable callers bump to
refresh. The Datadog keys come from the file named by PGOFETCH_KEYS_FILE (or
from the environment, which Bazel logs) and are deliberately not in _ENVIRON,
so rotating a key never refetches.
"""

# Variables whose value is part of the repository's identity: a change
# refetches. DD_API_KEY and DD_APP_KEY must never be listed here (a key
# rotation would refetch, and Bazel would hash the key into its marker file).
_ENVIRON = [
    "PGOFETCH_REFRESH",  # bump (e.g. to the date) to fetch a fresh profile
    "DD_SITE",  # which Datadog site the queries go to
    "PGOFETCH_API_URL",  # pgofetch's own override of the API base URL
    "CC",  # the compiler used when pgofetch is built from source
]

_FORMATS = ["pprof", "preprofile"]

# What core/ builds against, for building pgofetch from source: the header
# and library a probe compiles against, the pkg-config name, the
# Debian/Ubuntu package that provides them, and whether pgofetch links it
# (libcurl is opened at run time, by the first fetch: core/src/curl_load.h).
_BUILD_DEPS = [
    struct(name = "libcurl", header = "curl/curl.h", lib = "curl", pc = "libcurl", deb = "libcurl4-openssl-dev", link = False),
    struct(name = "zlib", header = "zlib.h", lib = "z", pc = "zlib", deb = "zlib1g-dev", link = True),
    struct(name = "zstd", header = "zstd.h", lib = "zstd", pc = "libzstd", deb = "libzstd-dev", link = True),
    struct(name = "cJSON", header = "cjson/cJSON.h", lib = "cjson", pc = "libcjson", deb = "libcjson-dev", link = True),
]

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

# ---------------------------------------------------------------------------
# Go durations (only to bound ctx.execute; pgofetch validates them itself).

_UNIT_MS = {"ns": 0, "us": 0, "µs": 0, "ms": 1, "s": 1000, "m": 60000, "h": 3600000}

def _duration_ms(s):
    """Milliseconds in a Go duration such as 1m30s, or None if malformed."""
    if s in ("0", ""):
        return 0
    total = 0
    i = 0
    n = len(s)
    for _ in range(n):
        if i >= n:
            break
        j = i
        for _ in range(n):
            if j < n and (s[j].isdigit() or s[j] == "."):
                j += 1
            else:
                break
        number = s[i:j]
        if not number or number.count(".") > 1:
            return None
        k = j
        for _ in range(n):
            if k < n and not (s[k].isdigit() or s[k] == "."):
                k += 1
            else:
                break
        unit = s[j:k]
        if unit not in _UNIT_MS:
            return None
        whole, _, frac = number.partition(".")
        ms = int(whole or "0") * _UNIT_MS[unit]
        if frac:
            ms += int(frac) * _UNIT_MS[unit] // _pow10(len(frac))
        total += ms
        i = k
    return total

def _pow10(n):
    r = 1
    for _ in range(n):
        r *= 10
    return r

# ---------------------------------------------------------------------------
# Which pgofetch: the attribute, else PATH, else built from source.

def _find_pgofetch(ctx):
    if ctx.attr.pgofetch:
        return str(ctx.path(ctx.attr.pgofetch)), "the pgofetch attribute (%s)" % ctx.attr.pgofetch
    found = ctx.which("pgofetch")
    if found:
        return str(found), "PATH"
    return _build_pgofetch(ctx), "built from source"

def _find_cc(ctx):
    """The host C compiler as an argv prefix: $CC, else cc, gcc or clang."""
    cc = ctx.os.environ.get("CC", "").strip()
    if cc:
        words = [w for w in cc.split(" ") if w]
        exe = words[0]
        if "/" not in exe:
            found = ctx.which(exe)
            if not found:
                fail(("%s: pgofetch must be built from source (no pgofetch attribute, none on PATH), " +
                      "but the C compiler CC=%s was not found") % (_what(ctx), cc))
            exe = str(found)
        return [exe] + words[1:]
    for name in ["cc", "gcc", "clang"]:
        found = ctx.which(name)
        if found:
            return [str(found)]
    fail(("%s: pgofetch must be built from source (no pgofetch attribute, none on PATH), " +
          "but there is no C compiler: missing cc (Debian/Ubuntu package gcc); install one, " +
          "set CC, put pgofetch on PATH, or set the pgofetch attribute") % _what(ctx))

def _pkg_config(ctx, modules, what = ["--cflags", "--libs"]):
    """`pkg-config --cflags --libs MODULES` (or what else is asked) as a list, or None."""
    pc = ctx.which("pkg-config")
    if not pc:
        return None
    res = ctx.execute([pc] + what + modules)
    if res.return_code != 0:
        return None
    return [w for w in res.stdout.strip().split(" ") if w]

def _build_pgofetch(ctx):
    root = ctx.path(_ANCHOR).dirname.dirname
    src = root.get_child("core").get_child("src")
    if not src.exists:
        fail("%s: pgofetch must be built from source, but its sources are not at %s" % (_what(ctx), src))
    sources = sorted([str(p) for p in src.readdir() if p.basename.endswith(".c")])
    version = "unknown"
    cmake = root.get_child("CMakeLists.txt")
    if cmake.exists:
        for line in ctx.read(cmake).splitlines():
            if line.startswith("project(pgofetch VERSION "):
                version = line[len("project(pgofetch VERSION "):].split(" ")[0].rstrip(")")
    cc = _find_cc(ctx)
    ctx.report_progress("Building pgofetch %s from source with %s" % (version, cc[0]))

    # Probe the compiler, then every library, so that one failure names
    # everything that is missing.
    ctx.file("_build/probe_c.c", "#include <stdio.h>\nint main(void) { return 0; }\n")
    res = ctx.execute(cc + ["-o", "_build/probe_c", "_build/probe_c.c"])
    if res.return_code != 0:
        fail(("%s: pgofetch must be built from source, but the C compiler %s cannot build a program " +
              "(install gcc and libc6-dev, or set CC):\n%s") % (_what(ctx), " ".join(cc), res.stderr))
    missing = []
    for dep in _BUILD_DEPS:
        probe = "_build/probe_%s" % dep.lib
        ctx.file(probe + ".c", "#include <%s>\nint main(void) { return 0; }\n" % dep.header)
        flags = _pkg_config(ctx, [dep.pc]) or ["-l" + dep.lib]
        res = ctx.execute(cc + ["-o", probe, probe + ".c"] + flags)
        if res.return_code != 0:
            missing.append(dep)
    if missing:
        fail(("%s: pgofetch must be built from source (no pgofetch attribute, none on PATH), but " +
              "its build dependencies are missing: %s. Install them (Debian/Ubuntu: apt-get install %s), " +
              "put a pgofetch binary on PATH, or set the pgofetch attribute.") % (
            _what(ctx),
            ", ".join(["%s (<%s>, -l%s)" % (d.name, d.header, d.lib) for d in missing]),
            " ".join([d.deb for d in missing]),
        ))

    linked = [d for d in _BUILD_DEPS if d.link]
    flags = ((_pkg_config(ctx, [d.pc for d in _BUILD_DEPS if not d.link], ["--cflags"]) or []) +
             (_pkg_config(ctx, [d.pc for d in linked]) or ["-l" + d.lib for d in linked]))
    ctx.execute(["mkdir", "-p", "_tool"])
    out = ctx.path("_tool/pgofetch")
    cmd = cc + [
        "-std=c11",
        "-O2",
        "-D_POSIX_C_SOURCE=200809L",
        "-DPGOFETCH_VERSION=\"%s\"" % version,
        "-I" + str(src),
        "-o",
        str(out),
    ] + sources + flags + ["-pthread", "-lm", "-ldl"]
    res = ctx.execute(cmd, timeout = 600)
    if res.return_code != 0:
        fail("%s: building pgofetch from %s failed:\n%s" % (_what(ctx), src, res.stderr))
    ctx.delete("_build")
    return str(out)

# ---------------------------------------------------------------------------
# Sources for -in.

def _is_label(s):
    return s.startswith("@") or s.startswith("//") or s.startswith(":")

def in_labels(ins):
    """The label entries of ins, as labels of the main repository unless they
    name one: the macro and the module extension pass them as in_labels, a
    label attribute, so that Bazel tracks the files (a change refetches)."""
    labels = []
    for s in ins:
        if s.startswith("//"):
            labels.append("@" + s)
        elif s.startswith(":"):
            labels.append("@//" + s)
        elif s.startswith("@"):
            labels.append(s)
    return labels

def _in_sources(ctx):
    """The -in SOURCE arguments, in the order of ins."""
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

# ---------------------------------------------------------------------------

def _size(ctx, path):
    return len(ctx.read(path)) if path.exists else 0

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
        print(("WARNING: %s: %s in Bazel's environment: Bazel writes its whole environment into " +
               "java.log in its output base. Put the keys in a file named by PGOFETCH_KEYS_FILE instead.") % (
            _what(ctx),
            " and ".join(in_env) + (" is" if len(in_env) == 1 else " are"),
        ))
    keys_file = ctx.os.environ.get("PGOFETCH_KEYS_FILE", "")
    if not keys_file:
        return [], "the environment (DD_API_KEY, DD_APP_KEY)"
    if not ctx.path(keys_file).exists:
        print("WARNING: %s: PGOFETCH_KEYS_FILE=%s does not exist; pgofetch gets no keys but the environment's" % (_what(ctx), keys_file))
        return [], "the environment: PGOFETCH_KEYS_FILE=%s does not exist" % keys_file
    sh = ctx.which("sh")
    if not sh:
        fail("%s: PGOFETCH_KEYS_FILE needs a POSIX sh on PATH" % _what(ctx))
    return [str(sh), "-c", _WITH_KEYS, "pgofetch-keys", keys_file], "PGOFETCH_KEYS_FILE (%s)" % keys_file

def _pgofetch_profile_impl(ctx):
    attr = ctx.attr
    if attr.format not in _FORMATS:
        fail("%s: format must be one of %s, not %r" % (_what(ctx), _FORMATS, attr.format))
    if not attr.queries and not attr.ins:
        fail("%s: set queries (Datadog profile queries) or ins (profile files or pprof URLs), or both" % _what(ctx))

    tool, origin = _find_pgofetch(ctx)
    dest = ctx.path("default.pgo")
    args = [
        tool,
        "-fail",  # the rule decides about failing open, from the exit code
        "-profiles=%d" % attr.profiles,
        "-from=" + attr.from_,
        "-timeout=" + attr.fetch_timeout,
    ]
    if not attr.trim:
        # trim = True leaves pgofetch its default (-trim), which older
        # pgofetch builds refuse to be given explicitly.
        args.append("-trim=false")
    if attr.api_url:
        args.append("-api-url=" + attr.api_url)
    for s in _in_sources(ctx):
        args += ["-in", s]
    args += attr.queries + [str(dest)]

    ms = _duration_ms(attr.fetch_timeout)
    limit = 600 if ms == None else ms // 1000 + 60
    what = ", ".join(["%d Datadog quer%s" % (len(attr.queries), "y" if len(attr.queries) == 1 else "ies")] +
                     (["%d -in source%s" % (len(attr.ins), "" if len(attr.ins) == 1 else "s")] if attr.ins else []))
    ctx.report_progress("Fetching Go CPU profiles with pgofetch (%s)" % what)
    runner, keys_from = _key_runner(ctx) if attr.queries else ([], "not needed")
    res = ctx.execute(runner + args, timeout = limit)

    # fetch.log holds pgofetch's own logs: pgofetch never logs a key.
    log = "pgofetch: %s (%s)\nkeys: %s\nexit code: %d\n%s" % (tool, origin, keys_from, res.return_code, res.stderr)
    failure = None
    if res.return_code == 2:
        fail("%s: pgofetch rejected its arguments (exit code 2):\n%s" % (_what(ctx), res.stderr))
    elif res.return_code != 0:
        failure = "pgofetch failed (exit code %d):\n%s" % (res.return_code, res.stderr)
    elif not dest.exists:
        failure = "pgofetch exited 0 but wrote no %s" % dest

    if failure:
        if attr.fail:
            fail("%s: %s" % (_what(ctx), failure))
        ctx.file("default.pgo", "", executable = False)
        log += "empty default.pgo: no profile was reachable; Go builds without PGO\n"
        print(("WARNING: %s: %s\nUsing an empty profile: Go builds without PGO until the repository is " +
               "fetched again (bump PGOFETCH_REFRESH, or bazel sync --only=%s).") % (_what(ctx), failure, attr.name))

    profile_file = "default.pgo"
    exports = ["default.pgo", "fetch.log"]
    if attr.format == "preprofile":
        profile_file = "default.preprofile"
        exports.append(profile_file)
        pre = ctx.path(profile_file)
        if _size(ctx, dest) == 0:
            ctx.file(profile_file, "", executable = False)
        else:
            ctx.report_progress("Preprocessing the profile for the Go compiler")
            res = ctx.execute([tool, "-fail", "-format=preprofile", "-in", str(dest), str(pre)], timeout = limit)
            log += "preprofile: exit code %d\n%s" % (res.return_code, res.stderr)
            if res.return_code == 2:
                fail(("%s: format = \"preprofile\": this pgofetch (%s) refused -format preprofile " +
                      "(exit code 2); use format = \"pprof\" or a newer pgofetch:\n%s") % (_what(ctx), tool, res.stderr))
            if res.return_code != 0 or not pre.exists:
                if attr.fail:
                    fail("%s: preprocessing the profile failed (exit code %d):\n%s" % (_what(ctx), res.return_code, res.stderr))
                ctx.file(profile_file, "", executable = False)
                print("WARNING: %s: preprocessing the profile failed; using an empty :profile:\n%s" % (_what(ctx), res.stderr))

    ctx.file("fetch.log", log, executable = False)
    ctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % attr.name, executable = False)
    ctx.file("BUILD.bazel", """# Generated by pgofetch_profile: a Go CPU profile fetched by pgofetch.
load("{defs}", "pgofetch_update")

package(default_visibility = ["//visibility:public"])

exports_files({exports})

# The file rules_go's pgoprofile wants: default.pgo, or the preprocessed form.
alias(
    name = "profile",
    actual = ":{profile}",
)

# bazel run @{name}//:update -- DIR  copies default.pgo into DIR.
pgofetch_update(
    name = "update",
    profile = ":default.pgo",
)
""".format(defs = _label_string(_DEFS), exports = repr(exports), profile = profile_file, name = attr.name), executable = False)

PROFILE_ATTRS = {
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
        doc = "Fail the fetch (and the build) when no profile is reachable, instead of an empty profile.",
    ),
    "trim": attr.bool(default = True, doc = "Keep only what the Go compiler reads (-trim)."),
    "format": attr.string(
        default = "pprof",
        values = _FORMATS,
        doc = "What :profile is: \"pprof\" (default.pgo) or \"preprofile\" (Go's preprocessed form, " +
              "which rules_go hands to every compile action without parsing the pprof).",
    ),
    "api_url": attr.string(doc = "Datadog API base URL (-api-url); default https://app.$DD_SITE."),
    "pgofetch": attr.label(
        allow_single_file = True,
        doc = "The pgofetch binary; default: pgofetch on PATH, else built from this repository's sources.",
    ),
}

_pgofetch_profile = repository_rule(
    implementation = _pgofetch_profile_impl,
    attrs = PROFILE_ATTRS,
    environ = _ENVIRON,
    doc = "Runs pgofetch at fetch time; exposes :default.pgo, :profile, :update and :fetch.log.",
)

def pgofetch_profile(name, timeout = None, **kwargs):
    """Declares @<name>, a repository holding a Go CPU profile fetched by pgofetch.

    Attributes: see PROFILE_ATTRS (queries, ins, profiles, from_, timeout,
    fail, trim, format, api_url, pgofetch).
    """
    if timeout != None:
        kwargs["fetch_timeout"] = timeout
    if "in_labels" not in kwargs:
        kwargs["in_labels"] = in_labels(kwargs.get("ins", []))
    _pgofetch_profile(name = name, **kwargs)

pgofetch_profile_rule = _pgofetch_profile

# The attributes of the module extension's pgo.profile tag: the rule's, with
# timeout under its own name.
TAG_ATTRS = dict(PROFILE_ATTRS)
TAG_ATTRS["timeout"] = TAG_ATTRS.pop("fetch_timeout")
TAG_ATTRS.pop("in_labels")
