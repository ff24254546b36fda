#!/usr/bin/env bash
# refresh.sh: the refresh input: `pgofetch refresh` of every package of a
# pgofetch.list in one run, and its report of what changed for the compiler
# (a `## PKG` heading and `pgofetch diff` per changed package), the body of
# a pull request. fetch.sh runs it with the flags a run and a refresh
# share (-fail, -trim, -from, -timeout, -max-age, -api-url, -go).
#
#   outputs: outcome (written: some profile changed; unchanged; failed),
#            changed (how many profiles changed), diff (the report's path,
#            or empty when none changed), error (why some or all failed);
#            the other outputs of a run, empty
set -eo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

list=$(trim "${INPUT_REFRESH:-}")
# What a run takes for dest belongs to each package's line of the list.
for input in query in profiles noinline-func query-weight normalize check compare; do
	var=INPUT_${input//-/_}
	var=${var^^}
	if [[ -n $(trim "${!var:-}") ]]; then
		annotate error "the $input input applies to dest; with refresh, each line of $list holds its package's arguments"
		exit 2
	fi
done
bool fail "${INPUT_FAIL:-}"
fail=$BOOL
report=${RUNNER_TEMP:?}/pgofetch-refresh.md
result=$RUNNER_TEMP/pgofetch-refresh.json
log=$RUNNER_TEMP/pgofetch-refresh.log

summary() {
	[[ -n ${GITHUB_STEP_SUMMARY:-} ]] || return 0
	# shellcheck disable=SC2016 # the backquotes are Markdown code spans
	printf '### pgofetch refresh: `%s`\n\n%s\n\n' "$(md_cell "$list")" "$1" >>"$GITHUB_STEP_SUMMARY"
}

# finish OUTCOME CHANGED DIFF ERROR: the outputs.
finish() {
	local key
	for key in path samples bytes profile-ids debug-query; do
		set_output "$key" ""
	done
	set_output outcome "$1"
	set_output changed "$2"
	set_output diff "$3"
	set_output error "$4"
	set_output fallback false
	set_output save-cache false
}

if [[ -z ${PGOFETCH_BIN:-} ]]; then
	why=${PGOFETCH_BUILD_ERROR:-pgofetch is not available}
	finish failed 0 "" "$why"
	give_up "$fail" "no refresh: $why; the profiles stay as they are"
fi

args=(refresh -list "$list" -diff "$report" -result "$result" "$@")
rm -f "$report" "$result"
commands_off
show_command "${args[@]}"
set +e
"$PGOFETCH_BIN" "${args[@]}" >/dev/null 2>"$log"
code=$?
set -e
cat "$log"
commands_on

# count NAME: the number NAME holds in the result's top level, after the
# packages (whose own "changed" is true or false).
count() {
	{ grep -oE "\"$1\":[[:space:]]*[0-9]+" "$result" 2>/dev/null || echo 0; } | tail -n 1 | grep -oE '[0-9]+$'
}
changed=$(count changed)
failed=$(count failed)
diff=""
if [[ -s $report ]]; then
	diff=$report
fi

if ((code != 0)); then
	# The refresh's own error (a bad list line, say), else the first
	# package's failure (-fail), else the last line.
	reason=$(grep -m 1 -E '^pgofetch refresh: |: failed: ' "$log" || tail -n 1 "$log")
	reason=${reason#pgofetch refresh: }
	why="pgofetch refresh exited with code $code: ${reason#pgofetch: }"
	finish failed "$changed" "$diff" "$why"
	annotate error "$why"
	summary "**failed: $why**"
	exit "$code"
fi
error=""
if ((failed > 0)); then
	first=$(grep -m 1 ': failed: ' "$log" || true)
	error="$failed of the listed packages failed and keep their profiles as they are; ${first#pgofetch: }"
	annotate warning "$error"
fi
if ((changed > 0)); then
	outcome=written
elif ((failed > 0)); then
	outcome=failed
else
	outcome=unchanged
fi
finish "$outcome" "$changed" "$diff" "$error"
if [[ -n $diff ]]; then
	summary "$(cat "$diff")${error:+$'\n\n'**$error**}"
else
	summary "no profile changed${error:+; **$error**}"
fi
