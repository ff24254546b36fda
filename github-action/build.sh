#!/usr/bin/env bash
# build.sh: makes $PGOFETCH_BIN_DIR/pgofetch a pgofetch that runs, or says
# why there is none. Fail-open: it never fails the step; fetch.sh decides
# what a missing pgofetch means (a warning, or an error with fail: true).
#
# The cache restores the directory: pgofetch (a wrapper), libexec/pgofetch
# (the program) and lib/ (the shared libraries it links but glibc's, so a
# runner without libcjson runs it too). A restored one is used only once
# `pgofetch -version` runs; else it is built from the action's own source.
#   outputs: bin (empty when there is no pgofetch), built (true: save it),
#            error (why there is none)
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
root=$(cd "$here/.." && pwd)
bin_dir=${PGOFETCH_BIN_DIR:?}
bin=$bin_dir/pgofetch
work=${RUNNER_TEMP:?}/pgofetch-build
mkdir -p "$work"
log=$work/log

runs() {
	[[ -x $bin ]] && "$bin" -version >"$log" 2>&1
}

# The packages the build needs (Debian, Ubuntu), installed when missing
# and the runner lets us; otherwise the build says what is missing.
packages=(gcc make cmake pkg-config libcurl4-openssl-dev libcjson-dev libzstd-dev zlib1g-dev)
deps() {
	command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1 || return 0
	local missing=() p sudo=()
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	if [[ $(id -u) != 0 ]]; then
		sudo -n true 2>/dev/null || return 0
		sudo=(sudo -n)
	fi
	echo "pgofetch: installing ${missing[*]}" >&2
	"${sudo[@]}" apt-get update -qq >>"$log" 2>&1 &&
		DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1
}

# The libraries the program links, but glibc's own, copied beside it.
bundle_libs() {
	local prog=$1 dir=$2 name path
	mkdir -p "$dir"
	while read -r name _ path _; do
		case $name in
		linux-vdso* | ld-linux* | libc.so* | libm.so* | libdl.so* | libpthread.so* | librt.so*) continue ;;
		esac
		[[ $path == /* ]] || return 1 # "not found"
		cp -L "$path" "$dir/$name" || return 1
	done < <(ldd "$prog" | grep '=>')
}

build() {
	: >"$log"
	local t
	for t in cc cmake pkg-config; do
		if ! command -v "$t" >/dev/null 2>&1; then
			deps || true
			break
		fi
	done
	for t in cc cmake pkg-config ldd; do
		if ! command -v "$t" >/dev/null 2>&1; then
			echo "$t is not installed (pgofetch is built with a C compiler, CMake and pkg-config; see core/install-deps.sh)"
			return 1
		fi
	done
	local generator=()
	if command -v ninja >/dev/null 2>&1; then
		generator=(-G Ninja)
	fi
	local out=$work/tree
	rm -rf "$out" "$bin_dir"
	if ! cmake -S "$root" -B "$out" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >>"$log" 2>&1; then
		deps || true
		cmake -S "$root" -B "$out" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >>"$log" 2>&1 ||
			{ echo "cmake cannot configure the build: $(grep -m1 -i 'error' "$log" || tail -n 1 "$log")"; return 1; }
	fi
	cmake --build "$out" --target pgofetch >>"$log" 2>&1 ||
		{ echo "the build failed: $(grep -m1 -i 'error' "$log" || tail -n 1 "$log")"; return 1; }
	mkdir -p "$bin_dir/libexec"
	cp "$out/core/pgofetch" "$bin_dir/libexec/pgofetch"
	bundle_libs "$bin_dir/libexec/pgofetch" "$bin_dir/lib" ||
		{ echo "ldd cannot find a library of the pgofetch built"; return 1; }
	printf '%s\n' '#!/bin/sh' \
		'# pgofetch with the shared libraries it was built with (lib/), so that it' \
		'# runs where they are not installed.' \
		'here=$(dirname "$0")' \
		'LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$here/libexec/pgofetch" "$@"' >"$bin"
	chmod +x "$bin"
	runs || { echo "the pgofetch built does not run: $(tail -n 1 "$log")"; return 1; }
}

if runs; then
	echo "pgofetch: using the cached binary: $(head -n 1 "$log")"
	set_output bin "$bin"
	set_output built false
	set_output error ""
	exit 0
fi
if [[ -e $bin ]]; then
	echo "pgofetch: the cached binary does not run ($(tail -n 1 "$log")): building it again"
fi
echo "pgofetch: building from $root"
if why=$(build); then
	echo "pgofetch: built $(head -n 1 "$log")"
	set_output bin "$bin"
	set_output built true
	set_output error ""
else
	echo "pgofetch: cannot build pgofetch: $why"
	rm -rf "$bin_dir"
	set_output bin ""
	set_output built false
	set_output error "cannot build pgofetch: $why"
fi
exit 0
