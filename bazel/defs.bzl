"""Build rules of pgofetch's Bazel integration.

pgofetch_update is what @<name>//:update of every pgofetch_profile repository
is; it can also copy any profile file: `bazel run :update -- DIR`.

pgofetch_compare measures what PGO buys a package: `bazel run` it to run its
benchmarks from two test binaries, built without and with the profile.

pgofetch_check is what @<name>//:check of every pgofetch_profile repository
is: `bazel run` it to see whether the profile still matches the code.
"""

load("//bazel/private:check.bzl", _pgofetch_check = "pgofetch_check")
load("//bazel/private:compare.bzl", _pgofetch_compare = "pgofetch_compare")
load("//bazel/private:update.bzl", _pgofetch_update = "pgofetch_update")

pgofetch_check = _pgofetch_check
pgofetch_compare = _pgofetch_compare
pgofetch_update = _pgofetch_update
