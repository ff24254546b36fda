#!/usr/bin/env bash
# prepare.sh: whether the action runs on this runner, where it keeps
# pgofetch and the last good profile, and the Actions cache keys of both.
#   outputs: supported, bin-dir, bin-key, pgo-dir, pgo-key, pgo-restore-key
#
# Linux only: the build and the scripts rely on GNU tools and glibc
# (ldd). Elsewhere nothing else runs; fetch.sh reports it (written for
# macOS's bash 3.2 up to that point).
set -eu
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
if [ "${PGOFETCH_RUNNER_OS:-}" != Linux ]; then
	set_output supported false
	exit 0
fi
set -o pipefail
set_output supported true
root=$(cd "$here/.." && pwd)

# The binary depends on its source (and how build.sh lays it out), the OS
# release (the libraries it was built against) and the architecture.
os=linux
if [[ -r /etc/os-release ]]; then
	os=$(. /etc/os-release && printf '%s-%s' "${ID:-linux}" "${VERSION_ID:-unknown}")
fi
src=$(cd "$root" && find CMakeLists.txt core cmake-module github-action/build.sh -type f ! -path 'core/tests/*' -print0 |
	LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-20)
# Paths relative to the workspace: a cache entry's paths are part of its
# identity, and RUNNER_TEMP differs between runners.
set_output bin-dir ".pgofetch/bin"
set_output bin-key "pgofetch-bin-$os-$(uname -m)-$src"

# The last good profile is kept per what selects it: the queries, the -in
# sources, the site and API URL, and DEST. Cache keys are immutable, so each
# run saves under its own key and restores the newest by prefix.
scope=$(printf '%s\0' "${INPUT_QUERY:-}" "${INPUT_IN:-}" "${INPUT_SITE:-}" "${INPUT_API_URL:-}" "${INPUT_DEST:-}" |
	sha256sum | cut -c1-16)
set_output pgo-dir ".pgofetch/last-good/$scope"
set_output pgo-key "pgofetch-pgo-$scope-${GITHUB_RUN_ID:-0}-${GITHUB_RUN_ATTEMPT:-1}"
set_output pgo-restore-key "pgofetch-pgo-$scope-"
