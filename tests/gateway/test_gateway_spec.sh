#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_gateway_spec.sh - tcgateway against the JSON-RPC 2.0 envelope rules and
# the EEA Off-Chain Trusted Compute API 1.1 where Avalon's listener differs or
# leaves it open (tests/gateway/spec.py; docs/gateway.md, "Conformance"), with
# the SQLite and the PostgreSQL store.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

W=graphene-worker-1
ADMIN="$TEST_TMP/admin.sock"
start_worker --threads 2
start_gw --worker "$W=$ENDPOINT" --db "sqlite:$TEST_TMP/gw.db" --keys-file "$TEST_TMP/gw.keys" \
	--admin-socket "$ADMIN" --result-wait-ms 30000
"$PYTHON" "$GW_DIR/spec.py" "$GW_URL" "$W" "$ADMIN" || fail "conformance checks"
# every notification ran, none was answered; the gateway still serves
curl -sS --noproxy '*' "$GW_URL/metrics" >"$TEST_TMP/metrics"
expect_grep "$TEST_TMP/metrics" '^tcgw_rpc_errors_total\{code="-32602"\} 1$' "by-position params counted"
stop_gw
# the same against the PostgreSQL back end (receipts, lookups and paging are its own SQL)
pg_start
start_gw --worker "$W=$ENDPOINT" --db "$PG_URL" --keys-file "$TEST_TMP/gw.keys" \
	--admin-socket "$ADMIN" --result-wait-ms 30000
"$PYTHON" "$GW_DIR/spec.py" "$GW_URL" "$W" "$ADMIN" || fail "conformance checks (PostgreSQL)"
stop_gw
note "ok"
