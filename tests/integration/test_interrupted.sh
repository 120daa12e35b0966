#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_interrupted.sh - an order whose worker was killed with -9 while it was
# being computed (accepted, workload running, no reply yet) runs again, once,
# when it is resubmitted byte for byte after a restart with the same
# --keys-file: a verified result, kept for later resubmissions; a changed
# request with that id stays "Duplicate work order"; three copies sent at once
# run it once and all get the same reply; an order interrupted twice; a clean
# stop keeps an interrupted order (replay file version 2 while one is pending,
# 1 when none is); with --response-store-bytes 0 it stays a duplicate.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SLEEP_SO="$TCW_BUILD_DIR/workloads/sleep.so"
[ -f "$SLEEP_SO" ] || fail "test plugin $SLEEP_SO not built"
MARK="$TEST_TMP/mark"
WL="$TEST_TMP/interrupted.json"
cat >"$WL" <<EOF
{"sleep": {"library": "$SLEEP_SO", "config": {"marker": "$MARK"}},
 "python-hello": {"library": "$TCW_BUILD_DIR/workloads/hello.so"}}
EOF
KEYS="$TEST_TMP/worker.keys"
D="$TEST_TMP/orders"
mkdir -p "$D"
HERE=$(cd "$(dirname "$0")" && pwd -P)
RERUN='exact resubmission of an order accepted before the worker last stopped and never answered: it runs again'
peer() {
	"$PYTHON" "$HERE/resubmit_peer.py" "$1" "$ENDPOINT" "$D" "${@:2}" >"$TEST_TMP/peer.out" \
		2>&1 || { cat "$TEST_TMP/peer.out" >&2; fail "resubmit_peer.py $*"; }
}
start() {
	start_worker --rsa-bits 2048 --keys-file "$KEYS" --workload "$WL" --threads 2 "$@"
}
# Kills the worker with -9 once the sleep workload of MS milliseconds runs
# (its marker file), then the client PID waiting for it.
# Usage: kill_while_running MS PID
kill_while_running() {
	local i
	for ((i = 0; i < 300; i++)); do
		[ -e "$MARK.$1" ] && break
		sleep 0.1
	done
	[ -e "$MARK.$1" ] || fail "the $1 ms order never started"
	kill -KILL "$WORKER_PID"
	wait "$WORKER_PID" || true
	WORKER_PID=""
	kill "$2" 2>/dev/null || true
	wait "$2" 2>/dev/null || true
}
# Sends order NAME (sleep MS) and kills the worker while it runs.
# Usage: interrupt NAME MS
interrupt() {
	rm -f "$MARK.$2"
	"$PYTHON" "$HERE/resubmit_peer.py" send "$ENDPOINT" "$D" "$1" sleep "$2" \
		>"$TEST_TMP/bg.out" 2>&1 &
	kill_while_running "$2" $!
	[ ! -e "$D/$1.reply" ] || fail "$1 was answered before the kill"
}
reruns() { grep -c -- "$RERUN" "$WORKER_LOG" || true; }
file_version() { od -An -tu1 -j8 -N1 "$KEYS.replay" | tr -d ' '; }

# 1. Killed while computing; after the restart a changed request with the
# id is a duplicate, the exact one gets a verified result (run again), and
# a second exact resubmission gets that result byte for byte.
start
interrupt a 3000
start
expect_grep "$WORKER_LOG" "replay journal: 1 records read from 1 files\$" "journal read back"
expect_grep "$WORKER_LOG" "replay state: interrupted work orders \\(accepted, not answered when the worker last stopped\\): 1; an exact resubmission runs each again, once\$" \
	"interrupted order reported"
[ "$(file_version)" = 2 ] || fail "replay file version $(file_version) with an order pending"
peer changed a
peer exact a
echo "duplicate=0 result=1 same=0" | expect_file "$TEST_TMP/peer.out" "interrupted order resubmitted"
[ "$(reruns)" = 1 ] || fail "$(reruns) reruns logged for one interrupted order"
peer changed a

# 2. Three copies of an interrupted order at once (two processing threads):
# it runs once, the other copies wait for its reply, all three replies are
# the same bytes.
interrupt b 2000
start
peer copies b 3
[ "$(reruns)" = 1 ] || fail "three copies: $(reruns) reruns logged"
peer exact b
echo "duplicate=0 result=1 same=0" | expect_file "$TEST_TMP/peer.out" "kept after the copies"

# 3. Killed again while it runs again: still interrupted after the second
# restart, and the next exact resubmission completes it.
interrupt c 2500
start
rm -f "$MARK.2500"
"$PYTHON" "$HERE/resubmit_peer.py" exact "$ENDPOINT" "$D" c >"$TEST_TMP/bg.out" 2>&1 &
kill_while_running 2500 $!
start
expect_grep "$WORKER_LOG" "replay state: interrupted work orders \\(.*\\): 1;" \
	"interrupted twice"
peer exact c
echo "duplicate=0 result=1 same=0" | expect_file "$TEST_TMP/peer.out" "interrupted twice"

# 4. A clean stop keeps an interrupted order that was not resubmitted: the
# replay file says version 2 while it is pending, 1 once it is answered.
interrupt d 1500
start
stop_worker
[ "$(file_version)" = 2 ] || fail "replay file version $(file_version) after a clean stop, order pending"
start
expect_grep "$WORKER_LOG" "replay state: interrupted work orders \\(.*\\): 1;" \
	"kept across a clean stop"
peer exact d
echo "duplicate=0 result=1 same=0" | expect_file "$TEST_TMP/peer.out" "after a clean stop"
stop_worker
[ "$(file_version)" = 1 ] || fail "replay file version $(file_version) with no order pending"
[ -z "$(find "$TEST_TMP" -maxdepth 1 -name 'worker.keys.replay.journal.*')" ] ||
	fail "journal files after a clean stop"
# every order above still gets its result (from the response store file)
start
peer exact a b c d
echo "duplicate=0 result=4 same=0" | expect_file "$TEST_TMP/peer.out" "kept across a clean restart"
[ "$(reruns)" = 0 ] || fail "a kept result computed again"
stop_worker

# 5. Without a response store (--response-store-bytes 0) nothing runs again:
# the interrupted order stays "Duplicate work order".
start --response-store-bytes 0
interrupt e 1500
start --response-store-bytes 0
expect_no_grep "$WORKER_LOG" "replay state:" "store off"
peer exact e
echo "duplicate=1 result=0 same=0" | expect_file "$TEST_TMP/peer.out" "store off"
[ "$(reruns)" = 0 ] || fail "a rerun without a response store"
stop_worker
note "ok"
