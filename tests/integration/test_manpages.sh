#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_manpages.sh - every page in man/ renders with `man -l` without a
# warning, every flag a program's --help lists appears in its man page, and
# every option a page documents (its .TP items) is one --help lists.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

MAN="$TCW_SOURCE_DIR/man"
TCDETECT=${TCDETECT:-$TCW_BUILD_DIR/bin/tcdetect}
TCGATEWAY=${TCGATEWAY:-$TCW_BUILD_DIR/bin/tcgateway}
command -v man >/dev/null || fail "man is not installed (make deps installs man-db)"

# 1. Every page renders, without warnings.
pages=0
for page in "$MAN"/*.[1-8]; do
	LC_ALL=C.UTF-8 MANWIDTH=100 man --warnings -l "$page" >"$TEST_TMP/page.txt" \
		2>"$TEST_TMP/warn.txt" || fail "man -l $page failed: $(cat "$TEST_TMP/warn.txt")"
	[ ! -s "$TEST_TMP/warn.txt" ] || fail "man -l $page warns: $(cat "$TEST_TMP/warn.txt")"
	grep -q '^NAME' "$TEST_TMP/page.txt" || fail "man -l $page: no NAME section"
	pages=$((pages + 1))
done
[ "$pages" -ge 4 ] || fail "only $pages man pages in $MAN"

# The flags (--long and -x) in a text on stdin, one per line, sorted.
flags_of() {
	grep -oE -- '(^|[^A-Za-z0-9-])--?[A-Za-z][A-Za-z0-9-]*' | sed -E 's/^[^-]+//' | sort -u
}

# The options a --help text on stdin lists: the leading flags of the lines
# that start with one ("  -n, --orders N   ..."), not flags named in prose.
options_of_help() {
	awk '$1 ~ /^-/ { for (i = 1; i <= NF; i++) { t = $i; sub(/,$/, "", t)
		if (t !~ /^--?[A-Za-z]/) break; sub(/=.*/, "", t); print t } }' | sort -u
}

# check PAGE COMMAND...: every flag in the output of each COMMAND (a --help
# command line) must appear in the rendered PAGE, and every option PAGE
# documents must appear in one of those outputs.
missing=()
check() {
	local page=$1 cmd f n=0 all="$TEST_TMP/help-all.txt" rendered="$TEST_TMP/rendered.txt"
	shift
	LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$MAN/$page" | col -bx >"$rendered"
	: >"$all"
	for cmd in "$@"; do
		# shellcheck disable=SC2086 # a command line with its arguments
		$cmd >"$TEST_TMP/help.txt" 2>&1 || fail "'$cmd' failed"
		cat "$TEST_TMP/help.txt" >>"$all"
		while IFS= read -r f; do
			n=$((n + 1))
			grep -qE -- "(^|[^A-Za-z0-9-])$f([^A-Za-z0-9-]|$)" "$rendered" ||
				missing+=("$f is in '${cmd##*/}' but not in man/$page")
		done < <(options_of_help <"$TEST_TMP/help.txt")
	done
	[ "$n" -ge 3 ] || fail "only $n flags found in the --help output for man/$page"
	# the options the page documents: the first word after each .TP
	while IFS= read -r f; do
		grep -qxF -- "$f" <(options_of_help <"$all") ||
			missing+=("$f is documented in man/$page but in no --help output")
	done < <(awk 'tp { print; tp = 0 } /^\.TP/ { tp = 1 }' "$MAN/$page" |
		sed 's/\\-/-/g; s/\\f[BIRP]//g' | awk '{ print $2 }' | flags_of)
	note "man/$page: the $n flags of $# --help outputs are documented"
}

check tcworker.1 "$TCWORKER --help"
check tcclient.1 "$TCCLIENT --help" "$TCCLIENT bench --help" "$TCCLIENT quote --help"
if [ -x "$TCDETECT" ]; then
	check tcdetect.1 "$TCDETECT --help"
else
	note "tcdetect not built (no OpenCV): its flags not compared"
fi
if [ -x "$TCGATEWAY" ]; then
	check tcgateway.1 "$TCGATEWAY --help"
else
	note "tcgateway not built: its flags not compared"
fi

if [ "${#missing[@]}" -gt 0 ]; then
	printf 'FAIL [%s]: %s\n' "$TEST_NAME" "${missing[@]}" >&2
	exit 1
fi
note "$pages pages render; the flag lists match"
