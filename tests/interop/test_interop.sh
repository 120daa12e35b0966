#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_interop.sh - the worker against an independent Python peer (peer.py:
# python3-zmq, pycryptodome, python-ecdsa; no libtcw) that follows the
# reference Avalon test client.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"

PEER="$(dirname "$0")/peer.py"
ORDERS="$TCW_SOURCE_DIR/tests/test_work_orders.json"

# Runs peer.py against $ENDPOINT; stdout in $OUT, stderr in $ERR, status in $RC.
run_peer() {
	OUT="$TEST_TMP/peer.out"
	ERR="$TEST_TMP/peer.err"
	RC=0
	"$PYTHON" "$PEER" "$@" "$ENDPOINT" "$ORDERS" >"$OUT" 2>"$ERR" || RC=$?
}

# Default key size (3072, what Avalon registers), then the Python
# reference worker's 2048.
for bits in default 2048; do
	if [ "$bits" = default ]; then
		start_worker
		want=3072
	else
		start_worker --rsa-bits "$bits"
		want=$bits
	fi
	run_peer
	expect_rc 0 "peer.py ($want-bit worker)"
	expected_reference_lines | expect_file "$OUT" "peer.py results ($want-bit worker)"
	expect_grep "$ERR" "^worker signup: RSA $want-bit encryption key, signature verified\$" \
		"peer.py signup check ($want-bit worker)"

	run_peer --extra
	expect_rc 0 "peer.py --extra ($want-bit worker)"
	expected_reference_lines | expect_file "$OUT" "peer.py --extra results"
	for c in 'integer inner id' 'IV-prefixed mode' 'uppercase hex workloadId' \
		'non-ASCII' 'unknown workload' 'tampered requests'; do
		expect_grep "$ERR" "^check ok: .*$c" "peer.py --extra: $c"
	done
	expect_worker_alive "after the interop run"
	stop_worker
done

note "ok"
