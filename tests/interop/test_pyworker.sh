#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_pyworker.sh - tcclient against an independent Python worker in the
# reference worker's shape (pyworker.py): high-S signatures, Python-style
# workerNonce, Python error replies.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"

HERE=$(dirname "$0")
ORDERS="$TCW_SOURCE_DIR/tests/test_work_orders.json"

WORKER_LOG="$TEST_TMP/pyworker.log"
"$PYTHON" "$HERE/pyworker.py" 2>"$WORKER_LOG" &
WORKER_PID=$!
ALL_WORKER_PIDS+=("$WORKER_PID")
wait_listening "$WORKER_PID" "$WORKER_LOG"

# The test is only meaningful if the signatures really are high-S.
"$PYTHON" - "$ENDPOINT" <<'PY' || fail "pyworker does not produce high-S signatures"
import json, sys, zmq
from ecdsa import SECP256k1
from ecdsa.util import sigdecode_der
ctx = zmq.Context()
s = ctx.socket(zmq.REQ)
s.setsockopt(zmq.LINGER, 0)
s.setsockopt(zmq.RCVTIMEO, 120000)
s.connect(sys.argv[1])
s.send_string('{"jsonrpc":"2.0","id":1,"method":"ProcessWorkerSignup","params":null}')
su = json.loads(s.recv())
r, sv = sigdecode_der(bytes.fromhex(su["encryption_key_signature"]), SECP256k1.order)
assert sv > SECP256k1.order // 2, "low-S"
s.close()
ctx.term()
PY

# The independent peer accepts it (so failures below are tcclient's).
RC=0
"$PYTHON" "$HERE/peer.py" "$ENDPOINT" "$ORDERS" >"$TEST_TMP/peer.out" \
	2>"$TEST_TMP/peer.err" || RC=$?
OUT="$TEST_TMP/peer.out"
ERR="$TEST_TMP/peer.err"
expect_rc 0 "peer.py against pyworker"
expected_reference_lines | expect_file "$OUT" "peer.py against pyworker"

# The reference worker cannot open per-item keys: Avalon peers need --compat.
run_client --compat --file "$ORDERS"
expect_rc 0 "tcclient against pyworker"
expected_reference_lines | expect_file "$OUT" "tcclient against pyworker"
expect_grep "$ERR" '^worker signup: RSA 2048-bit encryption key, signature verified$' \
	"tcclient verifies a high-S encryption_key_signature"

run_client --compat --json --file "$ORDERS"
expect_rc 0 "tcclient --json against pyworker"
[ "$(grep -c '"ok":true' "$OUT")" -eq 9 ] || fail "expected 9 ok JSON lines"

# Python-shaped error replies (no error.data).
printf '%s' '{"workOrders": [{"workloadId": "python-fib", "params": "-5"},
 {"workloadId": "python-hello", "params": "again"}]}' >"$TEST_TMP/err.json"
run_client --compat --file "$TEST_TMP/err.json"
expect_rc 1 "error reply from pyworker"
expect_file "$OUT" "error reply from pyworker" <<'TXT'
Work order execution failed: 2 Error processing work load
Work order result : Hello again
TXT

# tcclient's default (nonce-safe) requests are beyond the reference worker.
run_client --workload python-hello --in-data nonce-safe
expect_rc 1 "nonce-safe request to pyworker"
expect_grep "$OUT" '^Work order execution failed: [12] ' "nonce-safe request to pyworker"

stop_worker
expect_grep "$WORKER_LOG" '^stopping$' "pyworker stopped cleanly"
note "ok"
