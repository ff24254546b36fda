#!/bin/sh
# bazel run @@TARGET@@ -- [-json] [-fail-below PCT] [-go PATH] BINARY|PACKAGE_DIR
# Runs `pgofetch check` on the fetched profile and a built binary or a main
# package's directory (relative paths are taken from where `bazel run` was
# started). Its exit code is pgofetch's: 8 when -fail-below is not met.
set -eu

target=@@TARGET@@
profile=@@PROFILE@@
tool=@@PGOFETCH@@
no_tool=@@NO_PGOFETCH@@

if [ $# -lt 1 ]; then
	echo "usage: bazel run $target -- [-json] [-fail-below PCT] [-go PATH] BINARY|PACKAGE_DIR" >&2
	exit 2
fi

# The absolute path of a file of the runfiles, given by its short path
# (bazel run starts us in the main repository's runfiles directory, where an
# external repository's files are ../NAME/...).
runfile() {
	if [ -e "$1" ]; then
		echo "$PWD/$1"
	else
		echo "${RUNFILES_DIR:-$0.runfiles}/${1#../}"
	fi
}

profile=$(runfile "$profile")
if [ ! -s "$profile" ]; then
	echo "check: the fetched profile is empty (no profile was reachable when it was fetched; see its fetch.log)" >&2
	exit 1
fi
if [ -n "$tool" ]; then
	tool=$(runfile "$tool")
elif ! tool=$(command -v pgofetch); then
	echo "check: no pgofetch: ${no_tool:-none was found when the profile was fetched}, and none on PATH" >&2
	exit 1
fi

# pgofetch check wants PROFILE before the last argument, the build.
n=$#
i=0
for arg do
	shift
	i=$((i + 1))
	if [ $i -eq $n ]; then
		build=$arg
	else
		set -- "$@" "$arg"
	fi
done
cd "${BUILD_WORKING_DIRECTORY:-${BUILD_WORKSPACE_DIRECTORY:-.}}"
exec "$tool" check "$@" "$profile" "$build"
