#!/bin/sh
# The quick start's demo: run the example service, profile it through its
# net/http/pprof endpoint with pgofetch -in, write its default.pgo, build it
# with PGO, and show the build info line that proves it.
#   demo.sh PGOFETCH_BINARY WORKDIR
set -eu

pgofetch=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$2
here=$(cd "$(dirname "$0")" && pwd)
port=${DEMO_PORT:-16060}
seconds=${DEMO_SECONDS:-5}

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
# A copy, so the demo leaves the source tree as it was.
cp -R "$here/." "$work/example"
cd "$work/example"

echo "demo: building the example service without PGO"
go build -o "$work/server-nopgo" ./cmd/server

"$work/server-nopgo" -addr "127.0.0.1:$port" -duration 120s >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 50); do
	curl -fs "http://127.0.0.1:$port/debug/pprof/" >/dev/null 2>&1 && break
	sleep 0.1
done

echo "demo: profiling it for ${seconds}s through its pprof endpoint"
"$pgofetch" -fail -in "http://127.0.0.1:$port/debug/pprof/profile?seconds=$seconds" cmd/server/default.pgo
kill $server 2>/dev/null || true

echo "demo: building it again; go build picks up cmd/server/default.pgo"
go build -o "$work/server" ./cmd/server
line=$(go version -m "$work/server" | grep -- '-pgo=' || true)
if [ -z "$line" ]; then
	echo "demo: the binary was not built with PGO" >&2
	exit 1
fi
echo "demo: $work/server is PGO-built:"
echo "$line"
