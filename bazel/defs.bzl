"""Build rules of pgofetch's Bazel integration.

pgofetch_update is what @<name>//:update of every pgofetch_profile repository
is; it can also copy any profile file: `bazel run :update -- DIR`.
"""

load("//bazel/private:update.bzl", _pgofetch_update = "pgofetch_update")

pgofetch_update = _pgofetch_update
