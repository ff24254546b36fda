# lib.sh: helpers shared by the action's scripts (sourced, not run).
# shellcheck shell=bash
# Every value reaches these scripts through the environment; nothing here
# evaluates a value as code.

# set_output NAME VALUE: a step output, in the multi-line form so that no
# value can end the entry early or add another one.
set_output() {
	local delim="pgofetch_${RANDOM}${RANDOM}${RANDOM}"
	while [[ $2 == *"$delim"* ]]; do
		delim="${delim}${RANDOM}"
	done
	printf '%s<<%s\n%s\n%s\n' "$1" "$delim" "$2" "$delim" >>"${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set: run this as a GitHub Actions step}"
}

# gh_escape TEXT: TEXT as the message of a workflow command (::warning::),
# so that it stays one annotation and starts no command of its own.
gh_escape() {
	local s=$1
	s=${s//'%'/'%25'}
	s=${s//$'\r'/'%0D'}
	s=${s//$'\n'/'%0A'}
	printf '%s' "$s"
}

# annotate LEVEL TEXT: a notice, warning or error annotation.
annotate() {
	printf '::%s title=pgofetch::%s\n' "$1" "$(gh_escape "$2")"
}

# trim TEXT: TEXT without leading and trailing blanks (and a CR).
trim() {
	local s=$1
	s=${s%$'\r'}
	s=${s#"${s%%[![:space:]]*}"}
	s=${s%"${s##*[![:space:]]}"}
	printf '%s' "$s"
}

# bool NAME VALUE: prints true or false; anything else is a usage error.
bool() {
	local v
	v=$(trim "$2")
	case ${v,,} in
	true) printf true ;;
	false | '') printf false ;;
	*)
		annotate error "input $1 must be true or false, got: $v"
		exit 2
		;;
	esac
}

# jsonl_fields KEY...: reads JSON lines (pgofetch -json logs) on stdin and
# prints, for each line that is a JSON object, the values of KEY... joined
# by the unit separator (\037): strings as they are, numbers and booleans
# as written, absent keys as empty; tabs, CRs and newlines in values become
# spaces. Other lines are skipped. jq when the runner has it, else an awk
# reader of flat JSON objects (what pgofetch writes); both print the same.
jsonl_fields() {
	if [[ ${PGOFETCH_JSON_READER:-} != awk ]] && command -v jq >/dev/null 2>&1; then
		jq -R -r --args '
			fromjson? | select(type == "object") | . as $o
			| [$ARGS.positional[] | $o[.]
			   | if . == null then "" elif type == "string" then . else tojson end
			   | gsub("[\t\r\n\u001f]"; " ")]
			| join("\u001f")' "$@"
	else
		LC_ALL=C awk -v keys="$*" -f "${BASH_SOURCE[0]%/*}/jsonl.awk"
	fi
}

# file_sum FILE: a SHA-256 of FILE's content, or nothing when it is absent.
file_sum() {
	if [[ -f $1 ]]; then
		sha256sum <"$1" | cut -d' ' -f1
	fi
}

# file_size FILE: its size in bytes.
file_size() {
	wc -c <"$1" | tr -d ' '
}

# fmt_bytes N: "N bytes (X.Y KiB)".
fmt_bytes() {
	local n=$1
	if [[ $n =~ ^[0-9]+$ ]] && ((n >= 1024)); then
		printf '%s bytes (%d.%d KiB)' "$n" $((n / 1024)) $((n * 10 / 1024 % 10))
	else
		printf '%s bytes' "$n"
	fi
}

# fmt_age NANOSECONDS: 2d3h, 3h12m, 5m3s, 42s; other text as it is.
fmt_age() {
	local ns=$1 s
	if ! [[ $ns =~ ^[0-9]+$ ]]; then
		printf '%s' "$ns"
		return
	fi
	s=$((ns / 1000000000))
	if ((s >= 86400)); then
		printf '%dd%dh' $((s / 86400)) $((s % 86400 / 3600))
	elif ((s >= 3600)); then
		printf '%dh%dm' $((s / 3600)) $((s % 3600 / 60))
	elif ((s >= 60)); then
		printf '%dm%ds' $((s / 60)) $((s % 60))
	else
		printf '%ds' "$s"
	fi
}

# md_cell TEXT: TEXT safe inside a Markdown table cell and a code span.
md_cell() {
	local s=$1
	s=${s//'|'/'\|'}
	s=${s//'`'/"'"}
	s=${s//$'\n'/ }
	printf '%s' "$s"
}
