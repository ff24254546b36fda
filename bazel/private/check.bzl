"""pgofetch_check: `bazel run` it to see whether a profile still matches the code.

It runs `pgofetch check` on the profile and a built binary or a main
package's directory: the share of the profile's hot call-edge weight whose
functions exist there, the profile's age, and the hot functions missing.
@<name>//:check of every pgofetch_profile repository is one.
"""

load(":shell.bzl", "shell_quote")

def _pgofetch_check_impl(ctx):
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    files = [ctx.file.profile]
    tool = ""
    if ctx.file.pgofetch:
        files.append(ctx.file.pgofetch)
        tool = ctx.file.pgofetch.short_path
    ctx.actions.expand_template(
        template = ctx.file._template,
        output = script,
        substitutions = {
            "@@PROFILE@@": shell_quote(ctx.file.profile.short_path),
            "@@PGOFETCH@@": shell_quote(tool),
            "@@NO_PGOFETCH@@": shell_quote(ctx.attr.no_pgofetch),
            "@@TARGET@@": shell_quote(str(ctx.label)),
        },
        is_executable = True,
    )
    return [DefaultInfo(executable = script, runfiles = ctx.runfiles(files = files))]

pgofetch_check = rule(
    implementation = _pgofetch_check_impl,
    attrs = {
        "profile": attr.label(allow_single_file = True, mandatory = True),
        "pgofetch": attr.label(
            allow_single_file = True,
            doc = "The pgofetch binary; default: pgofetch on PATH when run.",
        ),
        "no_pgofetch": attr.string(doc = "Why there is no pgofetch attribute, said when PATH has none either."),
        "_template": attr.label(
            allow_single_file = True,
            default = Label("//bazel/private:check.sh.tpl"),
        ),
    },
    executable = True,
    doc = "`bazel run :NAME -- [-json] [-fail-below PCT] [-go PATH] BINARY|PACKAGE_DIR` runs pgofetch check.",
)
