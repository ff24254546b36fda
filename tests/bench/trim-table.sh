#!/usr/bin/env bash
# trim-table.sh: the measurements in the table of docs/pgo-minimal.md.
#
#   tests/bench/trim-table.sh [PGOFETCH]     (default: build/core/pgofetch)
#
# For each profile: default.pgo's size with -trim=false and with -trim (the
# default); the time of `go tool preprofile` on each (the parse that go
# build does once per build, and that rules_go's compile actions, which get
# the pprof file itself, each do: times the number of packages); and the
# wall time of `go build` of cmd/compile (a sizeable program: the Go
# compiler and its share of the standard library) with each as -pgo, in a
# clean build cache every time: the better of two runs, in the order
# full, trimmed, trimmed, full, after one warm-up build. It first checks
# that both give the same `go tool preprofile` output.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
pgofetch=$(realpath "${1:-$root/build/core/pgofetch}")
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
export GOFLAGS='' GOWORK=off GOTOOLCHAIN=local
preprofile=$(go tool -n preprofile)

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
kib() { awk -v n="$(stat -c %s "$1")" 'BEGIN { printf "%.0f KiB", n / 1024 }'; }

# The best of 5 runs of go tool preprofile, in ms.
preprofile_ms() {
	local best=999999 t
	for _ in 1 2 3 4 5; do
		t=$(now)
		"$preprofile" -i "$1" -o /dev/null
		t=$(awk -v a="$t" -v b="$(now)" 'BEGIN { printf "%d", (b - a) * 1000 }')
		((t < best)) && best=$t
	done
	echo "$best ms"
}

# Wall time of go build cmd/compile with profile $1 ("off": none), in a
# fresh cache, in seconds.
build_once() {
	local cache t
	cache=$(mktemp -d -p "$work")
	t=$(now)
	GOCACHE=$cache go build -pgo="$1" -o "$work/compile.bin" cmd/compile
	elapsed "$t"
	chmod -R u+w "$cache" && rm -rf "$cache"
}

min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b ? a : b) }'; }

# The better of two builds with each of $1 and $2, as "A s | B s".
build_pair() {
	local a1 b1 b2 a2
	a1=$(build_once "$1")
	b1=$(build_once "$2")
	b2=$(build_once "$2")
	a2=$(build_once "$1")
	echo "$(min "$a1" "$a2") s | $(min "$b1" "$b2") s"
}

(cd "$root/tests" && go run ./bench/genset -o "$work/gen" -seed 5003 -profiles 12 >/dev/null)
gen_ins=()
for f in "$work"/gen/*; do gen_ins+=(-in "$f"); done

names=(grpc compile gen)
declare -A what ins
what[grpc]="production profile (core/tests/data/pprof/grpc-anon.pprof)"
ins[grpc]="-in $root/core/tests/data/pprof/grpc-anon.pprof"
what[compile]="cmd/compile's own default.pgo ($(go env GOVERSION))"
ins[compile]="-in $(go env GOROOT)/src/cmd/compile/default.pgo"
what[gen]="generated: gen.NewSet(5003, Big), $((${#gen_ins[@]} / 2)) profiles merged"
ins[gen]="${gen_ins[*]}"

npkgs=$(go list -deps cmd/compile | wc -l)
build_once off >/dev/null # warms the file system cache
echo "$(go env GOVERSION), $(nproc) CPUs, $(uname -m); cmd/compile is $npkgs packages"
echo
echo "| profile | default.pgo -trim=false | -trim | go tool preprofile -trim=false | -trim | go build cmd/compile -trim=false | -trim |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for n in "${names[@]}"; do
	# shellcheck disable=SC2086 # ins are words
	"$pgofetch" -fail -comment=false -trim=false ${ins[$n]} "$work/$n-full.pgo" 2>/dev/null
	# shellcheck disable=SC2086
	"$pgofetch" -fail -comment=false ${ins[$n]} "$work/$n-trim.pgo" 2>/dev/null
	if ! cmp -s <("$preprofile" -i "$work/$n-full.pgo") <("$preprofile" -i "$work/$n-trim.pgo"); then
		echo "trim-table: $n: the trimmed profile gives the compiler other input" >&2
		exit 1
	fi
	echo "| ${what[$n]} | $(kib "$work/$n-full.pgo") | $(kib "$work/$n-trim.pgo")" \
		"| $(preprofile_ms "$work/$n-full.pgo") | $(preprofile_ms "$work/$n-trim.pgo")" \
		"| $(build_pair "$work/$n-full.pgo" "$work/$n-trim.pgo") |"
done
