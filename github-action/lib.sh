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

# bool NAME VALUE: sets BOOL to true or false (empty is false); anything
# else is a usage error. Not printed for $(...), which would swallow the
# annotation.
bool() {
	local v
	v=$(trim "$2")
	case ${v,,} in
	true) BOOL=true ;;
	false | '') BOOL=false ;;
	*)
		annotate error "input $1 must be true or false, got: $v"
		exit 2
		;;
	esac
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

# md_cell TEXT: TEXT safe inside a Markdown table cell and a code span.
md_cell() {
	local s=$1
	s=${s//'|'/'\|'}
	s=${s//'`'/"'"}
	s=${s//$'\n'/ }
	printf '%s' "$s"
}

# give_up STRICT NOTE: the end of a step that could not do its job: a
# warning annotation and summary line, exit 0; with STRICT true an error
# and exit 1. The caller defines summary TEXT (its own heading).
give_up() {
	if [[ $1 == true ]]; then
		annotate error "$2"
		summary "**failed: $2**"
		exit 1
	fi
	annotate warning "$2"
	summary "**$2**"
	exit 0
}

# commands_off: what pgofetch prints may echo an input (a bad flag value,
# say): no line of it may be taken for a workflow command, so commands are
# off until commands_on.
commands_off() {
	COMMANDS_TOKEN=pgofetch-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
	echo "::stop-commands::$COMMANDS_TOKEN"
}

commands_on() {
	echo "::$COMMANDS_TOKEN::"
}

# show_command ARGS...: the pgofetch command line, with no user:password@
# of a URL.
show_command() {
	printf 'pgofetch %s\n' "$*" | sed -E 's#://[^/@ ]*@#://REDACTED@#g'
}
