#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_client_modes.sh - tcclient's request modes against the real worker,
# with every request recorded on the way (recorder.py) and checked by an
# independent Python peer (check_requests.py): the nonce-safe default (per-item
# data keys, fresh IVs, outData templates; no nonce-reuse warning from the
# worker), --compat (the reference client's layout, and the worker's warning),
# --sign and --signing-key (signatures verified with python-ecdsa), and the
# option errors.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

HERE=$(dirname "$0")
ORDERS="$TCW_SOURCE_DIR/tests/test_work_orders.json"
NOWHERE="ipc://$TEST_TMP/nobody-listens.sock"

# ---- option errors: exit 2 before connecting ----
opt_error() {
	local what=$1
	shift
	RC=0
	"$TCCLIENT" --connect "$NOWHERE" --workload python-hello --in-data x "$@" \
		>"$TEST_TMP/opt.out" 2>"$TEST_TMP/opt.err" || RC=$?
	OUT="$TEST_TMP/opt.out"
	ERR="$TEST_TMP/opt.err"
	expect_rc 2 "$what"
	[ ! -s "$OUT" ] || fail "$what: unexpected stdout"
}
opt_error "--out-items 0" --out-items 0
opt_error "--out-items 17" --out-items 17
opt_error "--out-items abc" --out-items abc
opt_error "--compat with --out-items" --compat --out-items 2
expect_grep "$ERR" 'nonce-safe' "--compat with --out-items says why"
opt_error "--signing-key missing file" --signing-key "$TEST_TMP/none.key"
expect_grep "$ERR" 'none\.key' "missing key file is named"
printf 'xyz\n' >"$TEST_TMP/bad.key"
opt_error "--signing-key not hex" --signing-key "$TEST_TMP/bad.key"
expect_grep "$ERR" '64 hex digits' "bad key file says why"
printf '%064d\n' 0 >"$TEST_TMP/zero.key"
opt_error "--signing-key zero" --signing-key "$TEST_TMP/zero.key"
expect_grep "$ERR" 'not a valid secp256k1' "zero key is refused"
printf 'ff%.0s' {1..32} >"$TEST_TMP/big.key"
opt_error "--signing-key above the group order" --signing-key "$TEST_TMP/big.key"

# ---- against the worker, through the recorder ----
start_worker --rsa-bits 2048
LOG_BEFORE=0
REC_PID=""
REC_LOG=""
# Starts recorder.py in front of the worker; sets ENDPOINT and REC_LOG.
start_recorder() {
	local f="$TEST_TMP/rec-$1.endpoint" i
	REC_LOG="$TEST_TMP/rec-$1.jsonl"
	"$PYTHON" "$HERE/recorder.py" "$WORKER_ENDPOINT" "$f" "$REC_LOG" \
		2>"$TEST_TMP/rec-$1.log" &
	REC_PID=$!
	ALL_WORKER_PIDS+=("$REC_PID")
	for ((i = 0; i < 600; i++)); do
		[ -s "$f" ] && break
		kill -0 "$REC_PID" 2>/dev/null || fail "recorder $1 died"
		sleep 0.1
	done
	ENDPOINT=$(cat "$f")
}
stop_recorder() {
	kill -TERM "$REC_PID" 2>/dev/null || true
	wait "$REC_PID" 2>/dev/null || true
	ENDPOINT=$WORKER_ENDPOINT
}
# Nonce-reuse warnings the worker logged since the last call.
new_warnings() {
	local n
	n=$(grep -c 'nonce reuse' "$WORKER_LOG" || true)
	echo $((n - LOG_BEFORE))
	LOG_BEFORE=$n
}
check() {
	"$PYTHON" "$HERE/check_requests.py" "$REC_LOG" "$@" >"$TEST_TMP/check.out" \
		2>"$TEST_TMP/check.err" || {
		cat "$TEST_TMP/check.err" >&2
		fail "check_requests.py $*"
	}
	note "$(cat "$TEST_TMP/check.out")"
}
WORKER_ENDPOINT=$ENDPOINT

# The default: nonce-safe; the nine reference orders give the same lines.
start_recorder default
run_client --file "$ORDERS"
expect_rc 0 "nonce-safe default"
expected_reference_lines | expect_file "$OUT" "nonce-safe default"
expect_grep "$ERR" '^work order requests: nonce-safe' "mode line"
stop_recorder
check nonce-safe --count 9
[ "$(new_warnings)" -eq 0 ] || fail "the worker reused the session IV for nonce-safe orders"

# Several inputs are not possible from the command line; several outputs are.
start_recorder templates
run_client --out-items 4 --workload python-fib --in-data 20
expect_rc 0 "--out-items 4"
echo "Work order result : Fibonacci number at position 20 = 6765" | expect_file "$OUT" "--out-items 4"
stop_recorder
check nonce-safe --count 1 --templates 4

# --compat: exactly the reference client's requests, and the worker answers
# the same way (logging the nonce reuse it has to commit).
start_recorder compat
run_client --compat --file "$ORDERS"
expect_rc 0 "--compat"
expected_reference_lines | expect_file "$OUT" "--compat"
expect_grep "$ERR" '^work order requests: reference client layout' "--compat mode line"
stop_recorder
check compat --count 9
# logged once per spell (60 s): one line, the rest counted
[ "$(new_warnings)" -eq 1 ] || fail "expected 1 nonce-reuse warning line for 9 --compat orders"
# the checker tells the layouts apart
if "$PYTHON" "$HERE/check_requests.py" "$REC_LOG" nonce-safe >/dev/null 2>&1; then
	fail "check_requests.py accepts reference requests as nonce-safe"
fi
if "$PYTHON" "$HERE/check_requests.py" "$TEST_TMP/rec-default.jsonl" compat >/dev/null 2>&1; then
	fail "check_requests.py accepts nonce-safe requests as reference ones"
fi

# --sign: a fresh key for the run, the same for every order.
start_recorder sign
run_client --sign --file "$ORDERS"
expect_rc 0 "--sign"
expected_reference_lines | expect_file "$OUT" "--sign"
stop_recorder
check nonce-safe --count 9 --signed
start_recorder sign-compat
run_client --sign --compat --workload python-hello --in-data Rama
expect_rc 0 "--sign --compat"
stop_recorder
check compat --count 1 --signed

# --signing-key FILE (whitespace around the hex is fine).
printf '  %s\n\n' "1111111111111111111111111111111111111111111111111111111111111111" \
	>"$TEST_TMP/requester.key"
start_recorder keyfile
run_client --signing-key "$TEST_TMP/requester.key" --json --file "$ORDERS"
expect_rc 0 "--signing-key"
[ "$(grep -c '"ok":true' "$OUT")" -eq 9 ] || fail "--signing-key: expected 9 ok lines"
stop_recorder
check nonce-safe --count 9 --signed --key-file "$TEST_TMP/requester.key"

expect_worker_alive "after the client mode tests"
stop_worker
# 10 reference-layout orders: the warning lines plus the counts logged at
# the next spell or at shutdown
logged=$(grep -c 'work order [0-9a-f]*: result encrypted with the session key and sessionKeyIv (AES-GCM nonce reuse' "$WORKER_LOG" || true)
counted=0
while read -r n; do
	counted=$((counted + n))
done < <(sed -n 's/.* \([0-9]*\) more work orders answered with AES-GCM nonce reuse were not logged since the last warning$/\1/p' "$WORKER_LOG")
[ $((logged + counted)) -eq 10 ] ||
	fail "nonce-reuse warnings: $logged lines + $counted counted, expected 10 orders"
note "ok"
