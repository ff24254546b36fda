#!/usr/bin/env bash
# record.sh: what the create-pull-request stand-in was given, in
# $PGOFETCH_TEST_RECORD/create-pull-request/: each input in a file of its
# name, the body file's text in body.md, and in files the paths that
# add-paths selects among the workspace's changes (git status), as the
# real action's `git add -- PATHSPEC...` would commit them.
set -euo pipefail
out=${PGOFETCH_TEST_RECORD:?}/create-pull-request
mkdir -p "$out"
for name in branch title body body-path commit-message add-paths delete-branch; do
	var=INPUT_${name//-/_}
	var=${var^^}
	printf '%s' "${!var:-}" >"$out/$name"
done
if [[ -n ${INPUT_BODY_PATH:-} ]]; then
	cp "$INPUT_BODY_PATH" "$out/body.md"
fi
paths=()
while IFS= read -r p; do
	[[ -z $p ]] || paths+=("$p")
done < <(printf '%s\n' "${INPUT_ADD_PATHS:-}" | tr ',' '\n')
cd "${GITHUB_WORKSPACE:?}"
git status --porcelain -- "${paths[@]}" >"$out/files"
echo "create-pull-request stand-in: recorded in $out"
