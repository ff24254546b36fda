#!/usr/bin/env bash
# fetch.sh: runs pgofetch with the action's inputs (INPUT_* variables) and
# reports what it did: the step outputs, straight from pgofetch's result
# file (-result, as name=value lines), an annotation when there is no fresh
# profile, and the job summary. When there is no pgofetch (not Linux, or
# the build failed) it reports that, with the same outputs, and fails the
# step only with fail: true.
#
#   outputs: outcome, path, samples, bytes, profile-ids, debug-query,
#            changed, error (and the other fields of pgofetch's result),
#            fallback, save-cache (true: the next step stores a new last
#            good profile)
#
# Up to the Linux check this runs on macOS's bash 3.2 too.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

dest=$(trim "${INPUT_DEST:-}")
fail=false
case $(trim "${INPUT_FAIL:-}") in true | True | TRUE) fail=true ;; esac

# summary RESULT: the job summary's table, from the outputs in out_*.
summary() {
	[ -n "${GITHUB_STEP_SUMMARY:-}" ] || return 0
	# shellcheck disable=SC2016 # the backquotes are Markdown code spans
	{
		printf '### pgofetch: `%s`\n\n' "$(md_cell "$dest")"
		printf '| | |\n| --- | --- |\n'
		printf '| result | %s |\n' "$1"
		[ -z "$out_error" ] || printf '| error | `%s` |\n' "$(md_cell "$out_error")"
		[ -z "$out_path" ] || printf '| profile | `%s` |\n' "$(md_cell "$out_path")"
		[ -z "$out_samples" ] || [ "$out_samples" = 0 ] || printf '| samples | %s |\n' "$out_samples"
		[ -z "$out_bytes" ] || [ "$out_bytes" = 0 ] || printf '| size | %s |\n' "$(fmt_bytes "$out_bytes")"
		printf '| changed | %s |\n' "$out_changed"
		[ -z "$out_query" ] || printf '| debug query | `%s` |\n' "$(md_cell "$out_query")"
		[ -z "$out_sources" ] || [ "$out_sources" = 0 ] || printf '| profiles merged | %s |\n' "$out_sources"
		printf '\n'
	} >>"$GITHUB_STEP_SUMMARY"
}

# no_pgofetch WHY: the outputs, annotation and summary of a run without
# pgofetch; exits (1 with fail: true).
no_pgofetch() {
	out_error=$1 out_path="" out_bytes="" out_samples="" out_query="" out_changed=false out_sources=""
	if [ -n "$dest" ] && [ -f "$dest" ]; then
		out_path=$dest
		out_bytes=$(file_size "$dest")
	fi
	for kv in "outcome=failed" "dest=$dest" "path=$out_path" "samples=" "bytes=$out_bytes" "profile-ids=" \
		"debug-query=" "changed=false" "error=$out_error" "save-cache=false"; do
		set_output "${kv%%=*}" "${kv#*=}"
	done
	if [ -n "$out_path" ]; then
		set_output fallback true
		note="no fresh profile: $out_error; $dest is kept as it is"
	else
		set_output fallback false
		note="no profile: $out_error; the build goes on without PGO"
	fi
	if [ "$fail" = true ]; then
		annotate error "$note"
		summary "**failed: $note**"
		exit 1
	fi
	annotate warning "$note"
	summary "**$note**"
	exit 0
}

if [ "${PGOFETCH_SUPPORTED:-}" != true ]; then
	no_pgofetch "the pgofetch action runs on Linux runners only, not ${PGOFETCH_RUNNER_OS:-this one}"
fi

# ---- Linux, bash 4 or later from here ------------------------------------------
set -eo pipefail
bin=${PGOFETCH_BIN:-}
pgo_dir=${PGOFETCH_PGO_DIR:?}
cached=$pgo_dir/default.pgo # the last good profile, as the cache restored it

if [[ $dest == *$'\n'* ]]; then
	annotate error "the dest input holds a line break"
	exit 2
fi
refresh=$(trim "${INPUT_REFRESH:-}")
if [[ -z $dest && -z $refresh ]]; then
	annotate error "the dest input is required: the default.pgo to write, e.g. cmd/server/default.pgo (or refresh: a pgofetch.list)"
	exit 2
fi
if [[ -n $dest && -n $refresh ]]; then
	annotate error "set dest or refresh, not both: refresh writes the default.pgo of every package its list names"
	exit 2
fi
bool fail "${INPUT_FAIL:-}"
fail=$BOOL

# ---- the flags a run and a refresh share ----------------------------------------

flags=()
if [[ $fail == true ]]; then
	flags+=(-fail)
fi
if [[ -n $(trim "${INPUT_TRIM:-}") ]]; then
	bool trim "$INPUT_TRIM"
	flags+=("-trim=$BOOL")
fi
for flag in from timeout max-age api-url; do
	var=INPUT_${flag//-/_}
	var=${var^^}
	value=$(trim "${!var:-}")
	if [[ -n $value ]]; then
		flags+=("-$flag=$value")
	fi
done
# The go that builds: a newer one than -trim is proven for gets the full
# profile.
go_cmd=$(trim "${INPUT_GO:-}")
if [[ -z $go_cmd ]]; then
	go_cmd=$(command -v go || true)
fi
if [[ -n $go_cmd ]]; then
	flags+=("-go=$go_cmd")
fi
site=$(trim "${INPUT_SITE:-}")
if [[ -n $site ]]; then
	export DD_SITE="$site"
fi
if [[ -n $refresh ]]; then
	exec bash "$here/refresh.sh" "${flags[@]}"
fi

# ---- the command line of a run ---------------------------------------------------

result=${RUNNER_TEMP:?}/pgofetch-result
args=(-json -result "$result" -result-format github "${flags[@]}")
profiles=$(trim "${INPUT_PROFILES:-}")
if [[ -n $profiles ]]; then
	args+=("-profiles=$profiles")
fi
# One source per line, one query per line, one no-inline regexp per line.
while IFS= read -r line || [[ -n $line ]]; do
	line=$(trim "$line")
	if [[ -n $line ]]; then
		args+=("-noinline-func=$line")
	fi
done <<<"${INPUT_NOINLINE_FUNC:-}"
# A "-weight W" line weighs the sources on the lines after it, up to the
# next one, as -weight does on pgofetch's command line.
nsources=0
weighted=false
weighs=""
while IFS= read -r line || [[ -n $line ]]; do
	line=$(trim "$line")
	if [[ $line == -weight || $line == -weight[[:space:]=]* ]]; then
		weight=$(trim "${line#-weight}")
		args+=("-weight=$(trim "${weight#=}")")
		weighs=$line
		weighted=true
	elif [[ -n $line ]]; then
		args+=("-in=$line")
		nsources=$((nsources + 1))
		weighs=""
	fi
done <<<"${INPUT_IN:-}"
if [[ -n $weighs ]]; then
	annotate error "the in input ends with \"$weighs\": a -weight line weighs the sources on the lines after it"
	exit 2
fi
queries=()
while IFS= read -r line || [[ -n $line ]]; do
	line=$(trim "$line")
	if [[ -n $line ]]; then
		queries+=("$line")
	fi
done <<<"${INPUT_QUERY:-}"
if ((${#queries[@]} == 0 && nsources == 0)); then
	annotate error "set the query input (Datadog queries, one per line) or the in input (profile files or pprof URLs, one per line)"
	exit 2
fi
# The queries weigh query-weight (default 1), whatever in's last -weight.
query_weight=$(trim "${INPUT_QUERY_WEIGHT:-}")
if [[ -n $query_weight ]] && ((${#queries[@]} == 0)); then
	annotate error "query-weight is set but the query input is empty"
	exit 2
fi
if ((${#queries[@]})) && [[ -n $query_weight || $weighted == true ]]; then
	args+=("-weight=${query_weight:-1}")
fi
if [[ -n $(trim "${INPUT_NORMALIZE:-}") ]]; then
	bool normalize "$INPUT_NORMALIZE"
	args+=("-normalize=$BOOL")
fi
# After --, a query or DEST that starts with - is not taken for a flag.
args+=(-- "${queries[@]}" "$dest")

if [[ -z $bin ]]; then
	no_pgofetch "${PGOFETCH_BUILD_ERROR:-pgofetch is not available}"
fi

# ---- DEST before the run ---------------------------------------------------
# The last good profile of the Actions cache, when there is one, is the
# profile in place: a failed fetch leaves it, -max-age sees its age (the
# cache keeps modification times), and changed compares with it.
kept="as checked out"
if [[ -s $cached ]]; then
	if ! cmp -s "$cached" "$dest"; then
		mkdir -p "$(dirname "$dest")"
		cp -p "$cached" "$dest.pgofetch-tmp"
		mv -f "$dest.pgofetch-tmp" "$dest"
	fi
	echo "pgofetch: $dest starts from the last good profile of the Actions cache"
	kept="from the Actions cache (the last good profile)"
fi

# ---- the run -------------------------------------------------------------------

rm -f "$result"
commands_off
show_command "${args[@]}"
set +e
"$bin" "${args[@]}" >/dev/null
code=$?
set -e
commands_on

# ---- what it did ---------------------------------------------------------------

declare -A out=()
if [[ -s $result ]]; then
	while IFS= read -r line; do
		out[${line%%=*}]=${line#*=}
	done <"$result"
else
	out=([outcome]=failed [dest]=$dest [changed]=false
		[error]="pgofetch exited with code $code and wrote no result" [exit-code]=$code)
	if [[ -f $dest ]]; then
		out[path]=$dest
		out[bytes]=$(file_size "$dest")
	fi
fi
outcome=${out[outcome]}
out_path=${out[path]:-} out_error=${out[error]:-} out_samples=${out[samples]:-} out_bytes=${out[bytes]:-}
out_changed=${out[changed]:-false} out_query=${out[debug-query]:-} out_sources=${out[sources]:-}

fallback=false
save=false
case $outcome in
written | unchanged)
	if ! cmp -s "$dest" "$cached"; then
		# A new last good profile, for the next step to save.
		mkdir -p "$pgo_dir"
		cp -p "$dest" "$cached.tmp"
		mv -f "$cached.tmp" "$cached"
		save=true
	fi
	;;
failed)
	if [[ -n $out_path ]]; then
		fallback=true
	fi
	;;
esac
for key in "${!out[@]}"; do
	set_output "$key" "${out[$key]}"
done
for key in outcome dest path samples bytes profile-ids debug-query changed error; do
	[[ -v out[$key] ]] || set_output "$key" ""
done
set_output fallback "$fallback"
set_output save-cache "$save"

# ---- annotation and summary --------------------------------------------------------

case $outcome in
written) result_text="wrote a new profile" ;;
unchanged) result_text="fetched; the profile is unchanged" ;;
skipped) result_text="nothing fetched: the profile in place is younger than max-age" ;;
*)
	if ((code != 0)); then
		note="pgofetch failed: $out_error"
		annotate error "$note"
		result_text="**failed (exit code $code): $out_error**"
	else
		if [[ $fallback == true ]]; then
			note="no fresh profile: $out_error; using $dest $kept"
		else
			note="no profile: $out_error; the build goes on without PGO"
		fi
		annotate warning "$note"
		result_text="**$note**"
	fi
	;;
esac
summary "$result_text"
exit "$code"
