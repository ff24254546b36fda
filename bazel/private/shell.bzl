"""Helpers shared by the rules that write `bazel run` scripts."""

def shell_quote(s):
    """s as one POSIX shell word."""
    return "'" + s.replace("'", "'\\''") + "'"
