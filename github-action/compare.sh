#!/usr/bin/env bash
# compare.sh: what the profile buys, measured. Runs the benchmarks of the
# compare input's packages as two test binaries (built with -pgo=off and
# with the profile in place) through integrations/pgo-compare, from the
# action's own checkout, and appends its report (benchstat's table, the
# payoff line, load, coverage) to the job summary, fenced.
#
#   outputs: payoff (pgo-compare's "PGO: ..." line, or empty)
#
# The packages are relative to the Go module that holds dest (the nearest
# go.mod at or above dest's directory). A comparison that cannot be made
# (no profile, no Go, no benchmark, benchstat not installable) warns and
# leaves the job green; with fail: true it fails the step.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

bool fail "${INPUT_FAIL:-}"
fail=$BOOL
dest=$(trim "${INPUT_DEST:-}")
profile=$(trim "${PGOFETCH_PATH:-}")
read -r -d '' -a patterns <<<"${INPUT_COMPARE:-}" || true
set_output payoff ""

# summary TEXT...: lines under the comparison's heading.
summary() {
	[[ -n ${GITHUB_STEP_SUMMARY:-} ]] || return 0
	# shellcheck disable=SC2016 # the backquotes are Markdown code spans
	{
		printf '### pgofetch: what PGO buys `%s`\n\n' "$(md_cell "${patterns[*]}")"
		printf '%s\n' "$@"
		printf '\n'
	} >>"$GITHUB_STEP_SUMMARY"
}

# cannot WHY: no comparison; a warning (an error and exit 1 with fail: true).
cannot() {
	give_up "$fail" "no PGO comparison: $1"
}

((${#patterns[@]} > 0)) || exit 0
if [[ -z $profile || ! -f $profile ]]; then
	cannot "there is no profile at ${dest:-dest}"
fi
tool=$here/../integrations/pgo-compare
if [[ ! -f $tool/go.mod ]]; then
	cannot "the action's checkout has no integrations/pgo-compare"
fi
if ! command -v go >/dev/null; then
	cannot "go is not on PATH (add actions/setup-go before this step)"
fi
mod=$(cd "$(dirname "$dest")" && pwd)
while [[ ! -f $mod/go.mod ]]; do
	if [[ $mod == / || $mod == "${GITHUB_WORKSPACE:-/}" ]]; then
		cannot "no go.mod at or above $(dirname "$dest")"
	fi
	mod=$(dirname "$mod")
done

args=(-dir "$mod" -profile "$(cd "$(dirname "$profile")" && pwd)/$(basename "$profile")" -build none)
for flag in bench benchtime count; do
	var=INPUT_COMPARE_${flag^^}
	value=$(trim "${!var:-}")
	if [[ -n $value ]]; then
		args+=("-$flag=$value")
	fi
done
args+=(-- "${patterns[@]}")

report=${RUNNER_TEMP:?}/pgo-compare-report
log=${RUNNER_TEMP}/pgo-compare-log
# Built, not go run: go run turns the tool's exit status into 1.
bin=${RUNNER_TEMP}/pgo-compare
if ! go -C "$tool" build -o "$bin" . 2>"$log"; then
	cat "$log" >&2
	cannot "building pgo-compare failed: $(grep -v '^\s*$' "$log" | tail -n 1)"
fi
# What the tool prints may echo an input: no line of it is a command.
token=pgofetch-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "::stop-commands::$token"
echo "pgo-compare ${args[*]}"
set +e
"$bin" "${args[@]}" >"$report" 2>"$log"
code=$?
set -e
cat "$log" "$report"
echo "::$token::"

if ((code != 0)); then
	why=$(grep -v '^\s*$' "$log" | tail -n 1)
	cannot "pgo-compare exited with code $code: ${why:-no message}"
fi
set_output payoff "$(grep -m 1 '^PGO: ' "$report" || true)"
fence='````'
summary "$fence" "$(cat "$report")" "$fence"
