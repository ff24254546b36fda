#!/usr/bin/env bash
# fetch.sh: runs pgofetch with the action's inputs (from INPUT_* variables),
# reads its JSON log, falls back to the last good profile of the Actions
# cache when it failed, and reports: step outputs, annotations, job summary.
#
#   outputs: path, samples, bytes, profile-ids, debug-query, changed,
#            fallback, error, save-cache (true: the pgo-save step stores a new
#            last good profile)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

bin=${PGOFETCH_BIN:?}
pgo_dir=${PGOFETCH_PGO_DIR:?}
cached=$pgo_dir/default.pgo # the last good profile, as the cache restored it
cached_meta=$pgo_dir/meta # what was known about it: key<TAB>value lines
cached_profiles=$pgo_dir/profiles # kind, name, CPU cores, age (ns) per line, \037-separated

dest=$(trim "${INPUT_DEST:-}")
if [[ $dest == *$'\n'* ]]; then
	annotate error "the dest input holds a line break"
	exit 2
fi
if [[ -z $dest ]]; then
	annotate error "the dest input is required: the default.pgo to write, e.g. cmd/server/default.pgo"
	exit 2
fi

# ---- the command line ------------------------------------------------------

args=(-json)
fail=$(bool fail "${INPUT_FAIL:-}")
if [[ $fail == true ]]; then
	args+=(-fail)
fi
if [[ -n $(trim "${INPUT_TRIM:-}") ]]; then
	args+=("-trim=$(bool trim "$INPUT_TRIM")")
fi
for flag in profiles from timeout max-age api-url; do
	var=INPUT_${flag//-/_}
	var=${var^^}
	value=$(trim "${!var:-}")
	if [[ -n $value ]]; then
		args+=("-$flag=$value")
	fi
done
# One source per line, one query per line.
sources=()
while IFS= read -r line || [[ -n $line ]]; do
	line=$(trim "$line")
	if [[ -n $line ]]; then
		sources+=("$line")
		args+=("-in=$line")
	fi
done <<<"${INPUT_IN:-}"
queries=()
while IFS= read -r line || [[ -n $line ]]; do
	line=$(trim "$line")
	if [[ -n $line ]]; then
		queries+=("$line")
	fi
done <<<"${INPUT_QUERY:-}"
if ((${#queries[@]} == 0 && ${#sources[@]} == 0)); then
	annotate error "set the query input (Datadog queries, one per line) or the in input (profile files or pprof URLs, one per line)"
	exit 2
fi
# After --, a query or DEST that starts with - is not taken for a flag.
args+=(-- "${queries[@]}" "$dest")
site=$(trim "${INPUT_SITE:-}")
if [[ -n $site ]]; then
	export DD_SITE="$site"
fi

# ---- DEST before the run -----------------------------------------------------

have_cache=false
if [[ -s $cached ]]; then
	have_cache=true
fi
# A fresh checkout has no DEST: start from the last good profile, so that
# -max-age sees its age, an unchanged profile reports changed=false, and a
# failed fetch leaves it in place.
if [[ ! -e $dest && $have_cache == true ]]; then
	mkdir -p "$(dirname "$dest")"
	cp -p "$cached" "$dest.pgofetch-tmp"
	mv -f "$dest.pgofetch-tmp" "$dest"
	echo "pgofetch: $dest starts from the last good profile of the Actions cache"
fi
before=$(file_sum "$dest")

# ---- the run -------------------------------------------------------------------

log=$(mktemp "${RUNNER_TEMP:?}/pgofetch-log.XXXXXX")
trap 'rm -f "$log"' EXIT
# What pgofetch prints may echo an input (a bad flag value, say): no line
# of it may be taken for a workflow command, so commands are off meanwhile.
token=pgofetch-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "::stop-commands::$token"
# (user:password@ in a URL is not shown)
printf 'pgofetch %s\n' "${args[*]}" | sed -E 's#://[^/@ ]*@#://REDACTED@#g'
set +e
"$bin" "${args[@]}" 2>&1 >/dev/null | tee "$log"
code=${PIPESTATUS[0]}
set -e
echo "::$token::"

# ---- what it said ----------------------------------------------------------------

us=$'\037'
status=skipped # wrote, unchanged, failed or skipped (e.g. -max-age)
error=""
out_path="" out_samples="" out_bytes="" out_changed="" out_query=""
# The profiles merged: kinds[i] is id (a Datadog profile id) or source
# (an -in source), names[i] the id or source, with CPU cores and age (ns).
kinds=() names=() cores=() ages=()
while IFS="$us" read -r level msg path samples bytes changed query pid src pcores page; do
	case $msg in
	"wrote PGO file")
		status=wrote
		out_path=$path out_samples=$samples out_bytes=$bytes out_changed=$changed out_query=$query
		;;
	"PGO file unchanged"*)
		status=unchanged
		out_path=$path out_samples=$samples out_bytes=$bytes out_changed=$changed out_query=$query
		;;
	esac
	if [[ $level == ERROR ]]; then
		error=$msg
	fi
	# Profiles: "extracted profile" lines (and, on the list path,
	# "downloading profile" lines) name them with their CPU cores and age;
	# "read profile" lines do for -in sources. (Ids come from the API: they
	# are compared, never used as an array subscript or in arithmetic,
	# where bash would evaluate them.)
	kind=id name=$pid
	if [[ -z $name && $msg == "read profile" ]]; then
		kind=source name=$src
	fi
	if [[ -n $name ]]; then
		found=-1
		for i in "${!names[@]}"; do
			if [[ ${kinds[i]} == "$kind" && ${names[i]} == "$name" ]]; then
				found=$i
			fi
		done
		if ((found < 0)); then
			kinds+=("$kind")
			names+=("$name")
			cores+=("$pcores")
			ages+=("$page")
		else
			[[ -n ${cores[found]} ]] || cores[found]=$pcores
			[[ -n ${ages[found]} ]] || ages[found]=$page
		fi
	fi
done < <(jsonl_fields level msg path samples bytes changed debug-query profile-id source cpu-cores age <"$log")
if [[ $status == skipped ]] && { [[ -n $error ]] || ((code != 0)); }; then
	status=failed
	if [[ -z $error ]]; then
		# a usage error is a plain line: "pgofetch: <what>"
		error=$(sed -n 's/^pgofetch: //p' "$log" | head -n 1)
	fi
	if [[ -z $error ]]; then
		error="pgofetch exited with code $code"
	fi
fi

# ---- the outcome ---------------------------------------------------------------

fallback=false
save=false
note=""
meta() { # meta KEY: a value of the cached profile's meta file
	[[ -f $cached_meta ]] || return 0
	awk -F '\t' -v k="$1" '$1 == k { sub(/^[^\t]*\t/, ""); print; exit }' "$cached_meta"
}
from_cache() { # the outputs and profiles of the cached profile
	out_samples=$(meta samples)
	out_query=$(meta debug-query)
	kinds=() names=() cores=() ages=()
	local fetched now k n c a
	fetched=$(meta fetched-at)
	now=$(date +%s)
	if [[ -f $cached_profiles ]]; then
		while IFS="$us" read -r k n c a; do
			kinds+=("$k")
			names+=("$n")
			cores+=("$c")
			# the age then, plus the time since
			if [[ $a =~ ^[0-9]+$ && $fetched =~ ^[0-9]+$ ]]; then
				a=$((a + (now - fetched) * 1000000000))
			fi
			ages+=("$a")
		done <"$cached_profiles"
	fi
}

case $status in
wrote | unchanged)
	if [[ $have_cache == false ]] || ! cmp -s "$dest" "$cached"; then
		# A new last good profile, for the pgo-save step.
		mkdir -p "$pgo_dir"
		cp -p "$dest" "$cached.tmp"
		mv -f "$cached.tmp" "$cached"
		{
			printf 'samples\t%s\n' "$out_samples"
			printf 'debug-query\t%s\n' "$out_query"
			printf 'fetched-at\t%s\n' "$(date +%s)"
			printf 'run\t%s\n' "${GITHUB_RUN_ID:-}"
		} >"$cached_meta"
		: >"$cached_profiles"
		for i in "${!names[@]}"; do
			printf '%s\037%s\037%s\037%s\n' "${kinds[i]}" "${names[i]}" "${cores[i]}" "${ages[i]}" >>"$cached_profiles"
		done
		save=true
	fi
	;;
failed)
	if [[ $fail == true || $code == 2 ]]; then
		: # asked to fail (or a usage error): no fallback
	elif [[ $have_cache == true ]]; then
		if ! cmp -s "$cached" "$dest"; then
			mkdir -p "$(dirname "$dest")"
			cp -p "$cached" "$dest.pgofetch-tmp"
			mv -f "$dest.pgofetch-tmp" "$dest"
		fi
		fallback=true
		from_cache
		out_path=$dest
		run=$(meta run)
		note="pgofetch failed ($error); using the last good profile from the Actions cache${run:+ (saved by run $run)}"
		annotate warning "$note"
	elif [[ -f $dest ]]; then
		out_path=$dest
		note="pgofetch failed ($error); $dest is left as it was, and no last good profile is in the Actions cache"
		annotate warning "$note"
	else
		note="pgofetch failed ($error) and no last good profile is in the Actions cache: the build goes on without PGO"
		annotate warning "$note"
	fi
	;;
skipped)
	# Nothing fetched (e.g. DEST younger than max-age): DEST stays.
	if [[ -f $dest ]]; then
		out_path=$dest
		if [[ $have_cache == true ]] && cmp -s "$cached" "$dest"; then
			from_cache
		fi
	fi
	;;
esac

after=$(file_sum "$dest")
if [[ -z $out_changed || $status == failed || $status == skipped ]]; then
	out_changed=false
	if [[ $before != "$after" ]]; then
		out_changed=true
	fi
fi
if [[ -n $out_path && -f $out_path ]]; then
	out_bytes=$(file_size "$out_path")
fi

set_output path "$out_path"
set_output samples "$out_samples"
set_output bytes "$out_bytes"
ids=()
for i in "${!names[@]}"; do
	if [[ ${kinds[i]} == id ]]; then
		ids+=("${names[i]}")
	fi
done
set_output profile-ids "${ids[*]}"
set_output debug-query "$out_query"
set_output changed "$out_changed"
set_output fallback "$fallback"
set_output error "$error"
set_output save-cache "$save"

# ---- the job summary ---------------------------------------------------------

if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then
	case $status in
	wrote) result="wrote a new profile" ;;
	unchanged) result="unchanged: the profile is the same as before" ;;
	skipped) result="nothing fetched; the profile in place is kept" ;;
	failed)
		if [[ $fail == true || $code == 2 ]]; then
			result="**fetch failed; the step fails** (exit code $code)"
		elif [[ $fallback == true ]]; then
			result="**fetch failed; fell back to the last good profile from the Actions cache**"
		elif [[ -n $out_path ]]; then
			result="**fetch failed; the profile in place is kept**"
		else
			result="**fetch failed; building without PGO**"
		fi
		;;
	esac
	# shellcheck disable=SC2016 # the backquotes are Markdown code spans
	{
		printf '### pgofetch: `%s`\n\n' "$(md_cell "$dest")"
		printf '| | |\n| --- | --- |\n'
		printf '| result | %s |\n' "$result"
		if [[ -n $error ]]; then
			printf '| error | `%s` |\n' "$(md_cell "$error")"
		fi
		if [[ -n $out_samples ]]; then
			printf '| samples | %s |\n' "$(md_cell "$out_samples")"
		fi
		if [[ -n $out_bytes ]]; then
			printf '| size | %s |\n' "$(fmt_bytes "$out_bytes")"
		fi
		printf '| changed | %s |\n' "$out_changed"
		if [[ -n $out_query ]]; then
			printf '| debug query | `%s` |\n' "$(md_cell "$out_query")"
		fi
		if ((${#names[@]} > 0)); then
			printf '\n| profile | CPU cores | age |\n| --- | --- | --- |\n'
			for i in "${!names[@]}"; do
				printf '| %s `%s` | %s | %s |\n' "${kinds[i]}" "$(md_cell "${names[i]}")" \
					"$(md_cell "${cores[i]:-–}")" "$(md_cell "$(fmt_age "${ages[i]:-–}")")"
			done
		fi
		printf '\n'
	} >>"$GITHUB_STEP_SUMMARY"
fi

# ---- the exit code -------------------------------------------------------------

if [[ $status == failed && ($fail == true || $code == 2) ]]; then
	annotate error "pgofetch failed: $error"
	exit $((code != 0 ? code : 1))
fi
exit 0
