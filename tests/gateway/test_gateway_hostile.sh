#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_gateway_hostile.sh - hostile HTTP and JSON-RPC input (hostile.py):
# malformed requests, huge bodies and headers, slow clients, too many
# connections, wrong types, unknown methods and ids, forged receipts and
# receipt updates, admin methods over HTTP. Each gets its exact error,
# nothing changes, and the gateway keeps serving.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

W=w1
start_worker --rsa-bits 2048 --threads 2
start_gw --worker "$W=$ENDPOINT" --db "sqlite:$TEST_TMP/gw.db" --max-body-bytes 100000 \
	--max-header-bytes 8192 --idle-timeout-s 2 --max-connections 8
"$PYTHON" "$GW_DIR/hostile.py" "$GW_URL" "$W" >"$TEST_TMP/hostile.out" 2>&1 ||
	{ cat "$TEST_TMP/hostile.out" >&2; fail "hostile.py"; }
cat "$TEST_TMP/hostile.out" >&2
kill -0 "$GW_PID" || fail "gateway died"
[ "$(sqlite3 "$TEST_TMP/gw.db" 'SELECT count(*) FROM orders')" = 3 ] ||
	fail "stored orders: $(sqlite3 "$TEST_TMP/gw.db" 'SELECT count(*) FROM orders'), expected 3"
[ "$(sqlite3 "$TEST_TMP/gw.db" 'SELECT count(*) FROM receipts')" = 1 ] || fail "receipts stored"
stop_gw
note "ok"
