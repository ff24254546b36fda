#!/bin/sh
# Peak memory of a merge grows with the merged result, not with the inputs:
# pgofetch folds each profile into the result as it reads it, holding one
# input at a time. This merges 1, 2, 5, 10 and 20 profiles of one service
# (the same 5 generated ones, cycled, so the merged result stops growing
# once all 5 are in) and prints inputs, output and peak RSS.
#   bench/memory-bound.sh [PGOFETCH] [INPUT-DIR]
# (make bench makes INPUT-DIR, build/bench/inputs-big-v2, of *.pb.gz files)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
pgofetch=${1:-$top/build/core/pgofetch}
inputs=${2:-$top/build/bench/inputs-big-v2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/measure" "$top/bench/measure.c"
set -- "$inputs"/*.pb.gz
[ -f "$1" ] || { echo "memory-bound: no inputs in $inputs (run make bench first)" >&2; exit 1; }
files="$*"
echo "| profiles merged | input bytes (decompressed) | merged profile bytes | peak RSS |"
echo "| --- | --- | --- | --- |"
for n in 1 2 5 10 20; do
	args="" i=0 raw=0
	while [ $i -lt $n ]; do
		for f in $files; do
			[ $i -lt $n ] || break
			args="$args -in $f"
			raw=$((raw + $(gzip -dc "$f" | wc -c)))
			i=$((i + 1))
		done
	done
	# shellcheck disable=SC2086
	"$work/measure" "$work/r" "$pgofetch" -trim=false -comment=false -fail $args "$work/out.pgo" 2>/dev/null
	rss=$(awk '{print $4}' "$work/r")
	out=$(gzip -dc "$work/out.pgo" | wc -c)
	echo "| $n | $((raw / 1048576)) MiB | $((out / 1048576)) MiB | $((rss / 1024)) MiB |"
	rm -f "$work/out.pgo"
done
