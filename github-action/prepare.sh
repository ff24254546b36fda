#!/usr/bin/env bash
# prepare.sh: where the action keeps pgofetch and the last good profile on
# the runner, and the Actions cache keys of both.
#   outputs: bin-dir, bin-key, pgo-dir, pgo-key, pgo-restore-key
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
root=$(cd "$here/.." && pwd)
temp=${RUNNER_TEMP:?RUNNER_TEMP is not set: run this as a GitHub Actions step}

# The binary depends on its source, the OS release (the shared libraries it
# links) and the architecture.
os=$(uname -s)
if [[ -r /etc/os-release ]]; then
	os=$(. /etc/os-release && printf '%s-%s' "${ID:-linux}" "${VERSION_ID:-unknown}")
fi
src=$(cd "$root" && find CMakeLists.txt core -type f ! -path 'core/tests/*' -print0 |
	LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-20)
set_output bin-dir "$temp/pgofetch-bin"
set_output bin-key "pgofetch-bin-$os-$(uname -m)-$src"

# The last good profile is kept per what selects it: the queries, the -in
# sources, the site and API URL, and DEST. Cache keys are immutable, so each
# run saves under its own key and restores the newest by prefix.
scope=$(printf '%s\0' "${INPUT_QUERY:-}" "${INPUT_IN:-}" "${INPUT_SITE:-}" "${INPUT_API_URL:-}" "${INPUT_DEST:-}" |
	sha256sum | cut -c1-16)
set_output pgo-dir "$temp/pgofetch-last-good/$scope"
set_output pgo-key "pgofetch-pgo-$scope-${GITHUB_RUN_ID:-0}-${GITHUB_RUN_ATTEMPT:-1}"
set_output pgo-restore-key "pgofetch-pgo-$scope-"
