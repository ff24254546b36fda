#!/bin/sh
# bazel run @@TARGET@@ -- [pgo-compare flags: -bench RE -benchtime D -count N ...]
# Runs pgofetch's pgo-compare on two test binaries Bazel built, without and
# with the profile, in the package's source directory.
set -eu

target=@@TARGET@@
off=@@OFF@@
pgo=@@PGO@@
profile=@@PROFILE@@
dir=@@DIR@@
anchor=@@ANCHOR@@

fail() {
	echo "compare: $*" >&2
	exit 1
}

# The absolute path of a file of the runfiles, given by its short path:
# bazel run starts us in the main repository's runfiles directory, where an
# external repository's files are ../NAME/...
runfile() {
	if [ -e "$1" ]; then
		readlink -f "$1"
	elif [ -e "${RUNFILES_DIR:-$0.runfiles}/${1#../}" ]; then
		readlink -f "${RUNFILES_DIR:-$0.runfiles}/${1#../}"
	else
		fail "cannot find $1 in the runfiles of $target"
	fi
}

[ -n "${BUILD_WORKSPACE_DIRECTORY:-}" ] || fail "run it with bazel run $target"
off=$(runfile "$off")
pgo=$(runfile "$pgo")
profile=$(runfile "$profile")
[ -s "$profile" ] || fail "the profile is empty (no profile was reachable when it was fetched; see its fetch.log): nothing to compare"

# pgo-compare lives in the pgofetch source tree these rules come from (the
# anchor is a file of it), or in the checkout PGOFETCH_SRC names.
if [ -n "${PGOFETCH_SRC:-}" ]; then
	tool=$PGOFETCH_SRC/integrations/pgo-compare
else
	a=$(runfile "$anchor")
	tool=${a%/bazel/private/*}/integrations/pgo-compare
fi
[ -f "$tool/go.mod" ] || fail "no pgo-compare in $tool: set PGOFETCH_SRC to a pgofetch checkout"
command -v go >/dev/null 2>&1 || fail "no go on PATH: pgo-compare is a Go program, run with the host's go"

exec go -C "$tool" run . -binaries "$off,$pgo" -dir "$BUILD_WORKSPACE_DIRECTORY/$dir" -profile "$profile" "$@"
