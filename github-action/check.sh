#!/usr/bin/env bash
# check.sh: does the profile still match the code? Runs `pgofetch check
# -json` on the profile in place and the check input (a main package's
# directory or a built binary, relative to the workspace) and reports the
# share of the profile's call-edge weight that names functions of that
# build, and the hottest function that does not.
#
#   outputs: matched (0 to 1), top-missing (a function name, or empty)
#
# A check that cannot run warns; it fails the step with fail: true, or when
# check-fail-below is set (a gate must not pass unchecked). Less matched
# than check-fail-below fails the step with pgofetch's exit code 8.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

target=$(trim "${INPUT_CHECK:-}")
[[ -n $target ]] || exit 0
bool fail "${INPUT_FAIL:-}"
fail=$BOOL
below=$(trim "${INPUT_CHECK_FAIL_BELOW:-}")
dest=$(trim "${INPUT_DEST:-}")
profile=$(trim "${PGOFETCH_PATH:-}")
bin=${PGOFETCH_BIN:-}
set_output matched ""
set_output top-missing ""

# summary TEXT: the line under the check's heading.
summary() {
	[[ -n ${GITHUB_STEP_SUMMARY:-} ]] || return 0
	# shellcheck disable=SC2016 # the backquotes are Markdown code spans
	printf '### pgofetch check: `%s`\n\n%s\n\n' "$(md_cell "$target")" "$1" >>"$GITHUB_STEP_SUMMARY"
}

# cannot WHY: no check; a warning, or an error and exit 1 with fail: true
# or a threshold (a gate never passes unchecked).
cannot() {
	local strict=$fail
	[[ -z $below ]] || strict=true
	give_up "$strict" "no profile check: $1"
}

if [[ -z $profile || ! -f $profile ]]; then
	cannot "there is no profile at ${dest:-dest}"
fi
if [[ -z $bin ]]; then
	cannot "pgofetch is not available"
fi
args=(check -json)
if [[ -n $below ]]; then
	args+=("-fail-below=$below")
fi
args+=(-- "$profile" "$target")

json=${RUNNER_TEMP:?}/pgofetch-check.json
log=${RUNNER_TEMP}/pgofetch-check.log
echo "pgofetch ${args[*]}"
set +e
"$bin" "${args[@]}" >"$json" 2>"$log"
code=$?
set -e
# Its messages may echo an input: shown as text, never as commands.
token=pgofetch-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "::stop-commands::$token"
cat "$log" "$json"
echo "::$token::"
# Its one-line error comes first (a usage error's help text after it).
why=$(grep -m 1 '^pgofetch' "$log" || grep -v '^\s*$' "$log" | tail -n 1 || true)
why=${why#pgofetch check: }
if ((code == 2)); then
	annotate error "check-fail-below or check: $why"
	summary "**failed: $why**"
	exit 2
fi
if ((code != 0 && code != 8)); then
	cannot "pgofetch check exited with code $code: ${why:-no message}"
fi

# One line of cJSON, in pgofetch's own key order: matched is a number, the
# first of missing the hottest; a function name is a JSON string.
line=$(<"$json")
str='"((\\.|[^"\\])*)"'
num='(-?[0-9.]+([eE][-+]?[0-9]+)?)'
if ! [[ $line =~ \"matched\":$num ]]; then
	cannot "pgofetch check printed no matched share"
fi
matched=${BASH_REMATCH[1]}
top="" share=""
if [[ $line =~ \"missing\":\[\{\"function\":$str,\"share\":$num ]]; then
	top=${BASH_REMATCH[1]} share=${BASH_REMATCH[3]}
	top=${top//\\\"/\"}
	top=${top//\\\\/\\}
fi
set_output matched "$matched"
set_output top-missing "$top"

pct() { awk -v x="$1" 'BEGIN { printf "%.1f %%", 100 * x }'; }
text="matched: $(pct "$matched") of the profile's call-edge weight names functions in the build"
if [[ -n $top ]]; then
	# shellcheck disable=SC2016 # a Markdown code span
	text+="; the hottest missing: \`$(md_cell "$top")\` ($(pct "$share"))"
else
	text+="; none missing"
fi
if ((code == 8)); then
	note="only $(pct "$matched") of the profile's weight matches $target, below check-fail-below $below %: fetch a fresh profile"
	annotate error "$note"
	summary "**failed: $text**"
	exit 8
fi
summary "$text"
