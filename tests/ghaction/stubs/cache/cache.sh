#!/usr/bin/env bash
# cache.sh restore|save: the cache stand-in. An entry is a tar file of the
# path (relative to the workspace, or absolute) in $PGOFETCH_TEST_CACHE,
# named <key>.tar. A key is written once, as with the real cache;
# restore-keys match by prefix, the newest entry first.
set -euo pipefail
store=${PGOFETCH_TEST_CACHE:?PGOFETCH_TEST_CACHE: the directory of cache entries}
key=${INPUT_KEY:?}
path=${INPUT_PATH:?}
if [[ $key == */* || $path == *$'\n'* ]]; then
	echo "cache stand-in: a key with / or more than one path is not supported" >&2
	exit 1
fi
root=$GITHUB_WORKSPACE rel=$path
if [[ $path == /* ]]; then
	root=/ rel=${path#/}
fi
mkdir -p "$store"
case $1 in
restore)
	matched=""
	if [[ -f $store/$key.tar ]]; then
		matched=$key
	else
		while IFS= read -r prefix || [[ -n $prefix ]]; do
			[[ -n $prefix ]] || continue
			newest=""
			for f in "$store/$prefix"*.tar; do
				if [[ -f $f && (-z $newest || $f -nt $newest) ]]; then
					newest=$f
				fi
			done
			if [[ -n $newest ]]; then
				matched=$(basename "$newest" .tar)
				break
			fi
		done <<<"${INPUT_RESTORE_KEYS:-}"
	fi
	if [[ -n $matched ]]; then
		tar -C "$root" -xpf "$store/$matched.tar"
		echo "Cache restored from key: $matched"
	else
		echo "Cache not found for input keys: $key"
	fi
	hit=false
	[[ $matched != "$key" ]] || hit=true
	{
		echo "cache-hit=$hit"
		echo "cache-matched-key=$matched"
	} >>"$GITHUB_OUTPUT"
	;;
save)
	if [[ -f $store/$key.tar ]]; then
		echo "Failed to save: Unable to reserve cache with key $key, another job may be creating this cache."
		exit 0
	fi
	if [[ ! -e $root/$rel ]]; then
		echo "Path Validation Error: Path(s) specified in the action for caching do(es) not exist, hence no cache is being saved."
		exit 0
	fi
	tar -C "$root" -cpf "$store/$key.tar.tmp" -- "$rel"
	mv "$store/$key.tar.tmp" "$store/$key.tar"
	echo "Cache saved with key: $key"
	;;
*)
	echo "cache stand-in: restore or save, not $1" >&2
	exit 2
	;;
esac
