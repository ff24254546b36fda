"""WORKSPACE entry point of pgofetch's Bazel integration.

    load("@pgofetch//bazel:repositories.bzl", "pgofetch_profile")

    pgofetch_profile(
        name = "foo_pgo",
        queries = ["service:foo env:prod"],
    )

then, in the go_binary, `pgoprofile = "@foo_pgo//:default.pgo",  # keep`
(without "# keep", Gazelle deletes the label: see bazel/README.md).
"""

load("//bazel/private:profile.bzl", _pgofetch_profile = "pgofetch_profile")

pgofetch_profile = _pgofetch_profile
