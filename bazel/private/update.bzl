"""pgofetch_update: `bazel run` it to copy a fetched profile into the source tree."""

load(":shell.bzl", "shell_quote")

def _pgofetch_update_impl(ctx):
    profile = ctx.file.profile
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.expand_template(
        template = ctx.file._template,
        output = script,
        substitutions = {
            "@@PROFILE@@": shell_quote(profile.short_path),
            "@@TARGET@@": shell_quote(str(ctx.label)),
        },
        is_executable = True,
    )
    return [DefaultInfo(
        executable = script,
        runfiles = ctx.runfiles(files = [profile]),
    )]

pgofetch_update = rule(
    implementation = _pgofetch_update_impl,
    attrs = {
        "profile": attr.label(allow_single_file = True, mandatory = True),
        "_template": attr.label(
            allow_single_file = True,
            default = Label("//bazel/private:update.sh.tpl"),
        ),
    },
    executable = True,
    doc = "`bazel run :update -- DIR|FILE` writes the profile to DIR/default.pgo (or FILE), only when it changed.",
)
