#!/usr/bin/env bash
# build.sh: makes sure $PGOFETCH_BIN_DIR/pgofetch runs: the binary the
# cache restored, else one built from the action's own source (core/), with
# the Debian/Ubuntu packages it needs installed by core/install-deps.sh.
#   outputs: built (true when built here, to be saved in the cache), bin
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
root=$(cd "$here/.." && pwd)
bin_dir=${PGOFETCH_BIN_DIR:?}
bin=$bin_dir/pgofetch

runs() {
	[[ -x $bin ]] && "$bin" -version >/dev/null 2>&1
}

deps() {
	if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then
		"$root/core/install-deps.sh"
	else
		echo "pgofetch: no apt-get on this runner; gcc, cmake, pkg-config and the libcurl, cJSON, zstd and zlib development files must be installed already"
	fi
}

built=false
if runs; then
	echo "pgofetch: using the cached binary: $("$bin" -version)"
elif [[ -x $bin ]] && deps && runs; then
	# A cached binary on a fresh runner may lack its shared libraries.
	echo "pgofetch: using the cached binary, after installing its libraries: $("$bin" -version)"
else
	echo "pgofetch: building from $root"
	deps
	build=$RUNNER_TEMP/pgofetch-build
	generator=()
	if command -v ninja >/dev/null 2>&1; then
		generator=(-G Ninja)
	fi
	cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
	cmake --build "$build" --target pgofetch
	mkdir -p "$bin_dir"
	cp "$build/core/pgofetch" "$bin.tmp"
	mv -f "$bin.tmp" "$bin"
	if ! runs; then
		annotate error "the pgofetch binary built from $root does not run"
		exit 1
	fi
	echo "pgofetch: built $("$bin" -version)"
	built=true
fi
set_output built "$built"
set_output bin "$bin"
