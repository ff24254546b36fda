"""Bzlmod entry point of pgofetch's Bazel integration (Bazel 6.2 or later).

In MODULE.bazel:

    bazel_dep(name = "pgofetch", version = "0.1.0")

    pgo = use_extension("@pgofetch//bazel:extensions.bzl", "pgo")
    pgo.profile(
        name = "foo_pgo",
        queries = ["service:foo env:prod"],
    )
    use_repo(pgo, "foo_pgo")

then, in the go_binary, `pgoprofile = "@foo_pgo//:default.pgo",  # keep`
(without "# keep", Gazelle deletes the label: see bazel/README.md).
Every pgo.profile tag takes the attributes of pgofetch_profile.
"""

load("//bazel/private:profile.bzl", "TAG_ATTRS", "go_label", "in_labels", "list_profile", "pgofetch_profile_rule")

_profile_tag = tag_class(
    attrs = dict(
        name = attr.string(
            mandatory = True,
            doc = "The repository's name, as given to use_repo.",
        ),
        **TAG_ATTRS
    ),
    doc = "A repository holding a Go CPU profile fetched by pgofetch: :default.pgo, :update, :fetch.log.",
)

def _pgo_impl(module_ctx):
    # Repository names are global to the extension: like rules_go's go_sdk
    # names, a name given twice is an error rather than a silent choice.
    owner = {}
    root_names = []
    for module in module_ctx.modules:
        for tag in module.tags.profile:
            if tag.name in owner:
                fail("pgo.profile: name \"%s\" is declared by both %s and %s" % (
                    tag.name,
                    owner[tag.name] or "the root module",
                    module.name or "the root module",
                ))
            owner[tag.name] = module.name
            if module.is_root:
                root_names.append(tag.name)
            pgofetch_profile_rule(
                name = tag.name,
                mode = tag.mode,
                profile = tag.profile,
                list = tag.list,
                package = tag.package,
                list_profile = list_profile(tag.list, tag.package),
                queries = tag.queries,
                ins = tag.ins,
                in_labels = in_labels(tag.ins),
                weights = tag.weights,
                normalize = tag.normalize,
                profiles = tag.profiles,
                from_ = tag.from_,
                fetch_timeout = tag.timeout,
                fail = tag.fail,
                trim = tag.trim,
                noinline_funcs = tag.noinline_funcs,
                noinline_file = tag.noinline_file,
                fallback = tag.fallback,
                api_url = tag.api_url,
                go = tag.go,
                go_label = go_label(tag.go),
                pgofetch = tag.pgofetch,
            )

    # Lets `bazel mod tidy` keep use_repo in step with the root module's tags.
    if hasattr(module_ctx, "extension_metadata"):
        return module_ctx.extension_metadata(
            root_module_direct_deps = root_names,
            root_module_direct_dev_deps = [],
        )
    return None

pgo = module_extension(
    implementation = _pgo_impl,
    tag_classes = {"profile": _profile_tag},
    doc = "Declares pgofetch_profile repositories: pgo.profile(name = ..., queries = [...], ...).",
)
