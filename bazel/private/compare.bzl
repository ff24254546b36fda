"""pgofetch_compare: `bazel run` it to measure what PGO buys a Go package.

It runs pgofetch's pgo-compare (integrations/pgo-compare, a Go program run
with the host's `go`) on two test binaries of one package that Bazel built,
without and with the profile: their benchmarks in alternating rounds on CPU
time, benchstat's table and the payoff line.
"""

load(":shell.bzl", "shell_quote")

def _pgofetch_compare_impl(ctx):
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    off, pgo, profile = ctx.executable.off, ctx.executable.pgo, ctx.file.profile
    pkg = ctx.attr.dir if ctx.attr.dir else ctx.attr.off.label.package
    ctx.actions.expand_template(
        template = ctx.file._template,
        output = script,
        substitutions = {
            "@@OFF@@": shell_quote(off.short_path),
            "@@PGO@@": shell_quote(pgo.short_path),
            "@@PROFILE@@": shell_quote(profile.short_path),
            "@@DIR@@": shell_quote(pkg),
            "@@ANCHOR@@": shell_quote(ctx.file._template.short_path),
            "@@TARGET@@": shell_quote(str(ctx.label)),
        },
        is_executable = True,
    )
    return [DefaultInfo(
        executable = script,
        runfiles = ctx.runfiles(files = [off, pgo, profile, ctx.file._template]),
    )]

pgofetch_compare = rule(
    implementation = _pgofetch_compare_impl,
    attrs = {
        "off": attr.label(
            executable = True,
            cfg = "target",
            mandatory = True,
            doc = "The package's test binary built without the profile.",
        ),
        "pgo": attr.label(
            executable = True,
            cfg = "target",
            mandatory = True,
            doc = "The same test binary built with the profile.",
        ),
        "profile": attr.label(
            allow_single_file = True,
            mandatory = True,
            doc = "The profile pgo was built with, e.g. @server_pgo//:default.pgo.",
        ),
        "dir": attr.string(
            doc = "The package's source directory, relative to the workspace (where the " +
                  "benchmarks run, as go test runs them); default: off's package.",
        ),
        "_template": attr.label(
            allow_single_file = True,
            default = Label("//bazel/private:compare.sh.tpl"),
        ),
    },
    executable = True,
    doc = "`bazel run :NAME -- [pgo-compare flags]` compares off's and pgo's benchmarks.",
)
