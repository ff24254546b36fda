#!/bin/sh
# Installs what building and testing pgofetch needs on Debian or Ubuntu,
# and only what is missing: a no-op on a machine that has it all.
#   core/install-deps.sh [extra Debian packages...]
set -eu

packages="gcc make cmake ninja-build pkg-config libcurl4-openssl-dev libcjson-dev libzstd-dev zlib1g-dev ca-certificates curl unzip jq valgrind $*"

missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done

if [ -n "$missing" ]; then
	echo "install-deps: installing$missing"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# Go >= 1.21 reads default.pgo; Debian's own golang-go may be older, so a
# missing or old Go is reported rather than installed.
if ! command -v go >/dev/null 2>&1; then
	echo "install-deps: Go >= 1.21 is required (https://go.dev/dl/); 'go' is not on PATH" >&2
	exit 1
fi
minor=$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
if [ -z "$minor" ] || [ "$minor" -lt 21 ]; then
	echo "install-deps: Go >= 1.21 is required for PGO; found $(go env GOVERSION)" >&2
	exit 1
fi
