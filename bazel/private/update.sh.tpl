#!/bin/sh
# bazel run @@TARGET@@ -- DIR|FILE
# Copies the fetched profile to DIR/default.pgo (or to FILE): atomically, and
# only when its content changed, so an unchanged profile keeps its mtime.
# A relative DIR is taken from where `bazel run` was started.
set -eu

profile=@@PROFILE@@
target=@@TARGET@@

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: bazel run $target -- DIR|FILE" >&2
	exit 2
fi

# bazel run starts us in the main repository's runfiles directory, where the
# profile's short path (../NAME/default.pgo) leads to it.
src=$profile
if [ ! -f "$src" ]; then
	src=${RUNFILES_DIR:-$0.runfiles}/${profile#../}
fi
if [ ! -f "$src" ]; then
	echo "update: cannot find the profile $profile in the runfiles" >&2
	exit 1
fi

dest=$1
case $dest in
/*) ;;
*) dest=${BUILD_WORKING_DIRECTORY:-${BUILD_WORKSPACE_DIRECTORY:-$PWD}}/$dest ;;
esac
if [ -d "$dest" ]; then
	dest=${dest%/}/default.pgo
fi

if [ ! -s "$src" ]; then
	echo "update: the fetched profile is empty (no profile was reachable when it was fetched; see its fetch.log): $dest left as it was" >&2
	exit 1
fi
if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
	echo "update: $dest is unchanged"
	exit 0
fi

dir=$(dirname "$dest")
if [ ! -d "$dir" ]; then
	echo "update: no such directory: $dir" >&2
	exit 1
fi
tmp=$dir/.default.pgo.tmp.$$
trap 'rm -f "$tmp"' EXIT
cp "$src" "$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "$dest"
trap - EXIT
echo "update: wrote $dest"
