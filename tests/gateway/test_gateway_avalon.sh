#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_gateway_avalon.sh - Avalon's real generic client (../shared/peers/
# avalon-generic-client, set up into the build tree at run time) against
# tcgateway + tcworker: hello, fib, several --in_data, -p, -rs and -r, each
# matched on its exact output line (the client exits 0 even when decryption
# fails).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

avalon_bundle "Avalon's generic client"
RUN="$CLIENT_DIR/run-generic-client"

W=graphene-worker-1
start_worker --threads 2
start_gw --worker "$W=$ENDPOINT" --db "sqlite:$TEST_TMP/gw.db" --keys-file "$TEST_TMP/gw.keys"

# Runs the client with OPTS and requires each REGEX line in its output.
# Usage: avalon 'OPTS' REGEX...
avalon() {
	local opts=$1 out="$TEST_TMP/avalon.out" rc=0 re
	shift
	# shellcheck disable=SC2086 # OPTS is a word list
	timeout 120 "$RUN" --uri "$GW_URL" -w "$W" $opts >"$out" 2>&1 || rc=$?
	[ $rc -eq 0 ] || { cat "$out" >&2; fail "generic client $opts: exit $rc"; }
	for re in "$@"; do
		grep -Eq -- "$re" "$out" || { cat "$out" >&2; fail "generic client $opts: no line /$re/"; }
	done
	expect_no_grep "$out" ' - ERROR - ' "generic client $opts: errors logged"
	note "generic client $opts: ok"
}

avalon "--workload_id python-hello --in_data Krsna -o" \
	' - INFO - Decryption result at client - Hello Krsna$'
avalon "--workload_id python-fib --in_data 10 -o" \
	' - INFO - Decryption result at client - Fibonacci number at position 10 = 55$'
# several inData items: the hello workload reads the first one
avalon "--workload_id python-hello --in_data Rama Shiva Ganesha -o" \
	' - INFO - Decryption result at client - Hello Rama$'
avalon "--workload_id python-fib --in_data 15 -o -p" \
	' - INFO - Decryption result at client - Fibonacci number at position 15 = 610$'
avalon "--workload_id python-hello --in_data Lakshmi -o -rs" \
	' - INFO - Decryption result at client - Hello Lakshmi$'
avalon "--workload_id python-hello --in_data Parvathy -o -p -rs -r" \
	' - INFO - Decryption result at client - Hello Parvathy$' \
	' - INFO - Work order create receipt response : .*Receipt created successfully' \
	' - INFO - Work order receipt retrieve signature verification successful$'
# every first WorkOrderGetResult had the result (the long poll): the only
# pending answers were the six submissions', so the client never slept 2 s
curl -sS --noproxy '*' "$GW_URL/metrics" >"$TEST_TMP/metrics"
expect_grep "$TEST_TMP/metrics" '^tcgw_orders_submitted_total 6$' "six orders"
expect_grep "$TEST_TMP/metrics" '^tcgw_rpc_errors_total\{code="5"\} 6$' "no pending GetResult"
note "ok"
