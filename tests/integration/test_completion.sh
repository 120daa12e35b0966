#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_completion.sh - the bash completion of tcworker and tcclient
# (deploy/completion/) offers the options, values and subcommands of the
# built programs, as bash-completion would call it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BC=/usr/share/bash-completion/bash_completion
[ -f "$BC" ] || fail "$BC missing (make deps installs bash-completion)"

# Prints what completing the words "$@" (the last one being completed) offers.
complete_words() {
	local fn=$1
	shift
	bash -c '
		. "$1"; shift
		. "$TCW_SOURCE_DIR/deploy/completion/tcworker"
		. "$TCW_SOURCE_DIR/deploy/completion/tcclient"
		fn=$1; shift
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
		"$fn" "${COMP_WORDS[0]}" "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"
		[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ "$BC" "$fn" "$@"
}

# expect "OFFERED" FUNCTION WORDS...
expect() {
	local want=$1 got
	shift
	got=$(PATH="$(dirname "$TCWORKER"):$PATH" complete_words "$@")
	[ "$got" = "$want" ] || fail "completing '${*:2}': got '$got', expected '$want'"
}

expect "--log-format --log-level " _tcworker tcworker --log-
expect "json text " _tcworker tcworker --log-format ''
expect "debug error info warn " _tcworker tcworker --log-level ''
expect "3072 " _tcworker tcworker --rsa-bits 3
expect "--replay-cache --replay-file --replay-ttl " _tcworker tcworker --rep
expect "" _tcworker tcworker --threads ''
expect "bench quote submit " _tcclient tcclient ''
expect "bench " _tcclient tcclient b
expect "--concurrency " _tcclient tcclient bench --conc
expect "" _tcclient tcclient bench -n ''
expect "--expect-mrenclave --expect-mrsigner " _tcclient tcclient quote --exp
expect "--out-dir --out-items " _tcclient tcclient --out-
expect "--out-dir --out-items " _tcclient tcclient submit --out-
expect "python-fib python-hello " _tcclient tcclient --workload py
# every option of --help is offered for a bare "--"
n=$(PATH="$(dirname "$TCWORKER"):$PATH" complete_words _tcworker tcworker -- | wc -w)
h=$("$TCWORKER" --help | grep -cE '^ +--')
[ "$n" -ge "$h" ] || fail "tcworker --<TAB> offers $n options, --help lists $h"
note "tcworker and tcclient completion offer options, values and subcommands ($n options)"
