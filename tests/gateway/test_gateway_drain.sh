#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_gateway_drain.sh - SIGTERM drains: orders already at the worker are
# waited for and stored, /healthz says draining, new connections are refused,
# the gateway exits 0, and after a restart every order is final.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

W=w1
DB="$TEST_TMP/gw.db"
printf '{"sleep": {"library": "%s"}}\n' "$TCW_BUILD_DIR/workloads/sleep.so" >"$TEST_TMP/sleep.json"
start_worker --rsa-bits 2048 --threads 4 --workload "$TEST_TMP/sleep.json"
start_gw --worker "$W=$ENDPOINT" --db "sqlite:$DB"
"$PYTHON" - "$GW_URL" "$W" "$TEST_TMP/ids" <<'PY' || fail "submissions"
import sys
from gwclient import Gateway, Worker, new_order, submit
gw = Gateway(sys.argv[1]); w = Worker(gw, sys.argv[2])
ids = []
for _ in range(4):
    o = new_order(w, "sleep", ["1500"])
    assert submit(gw, o)["error"]["code"] == 5
    ids.append(o.params["workOrderId"])
open(sys.argv[3], "w").write("\n".join(ids))
PY
for ((i = 0; i < 100; i++)); do
	curl -sS --noproxy '*' "$GW_URL/metrics" | grep -q "^tcgw_worker_in_flight{worker=\"$W\"} 4$" && break
	sleep 0.05
done
[ "$(sqlite3 "$DB" 'SELECT count(*) FROM orders WHERE state = 0')" = 4 ] || fail "four orders at the worker"
kill -TERM "$GW_PID"
sleep 0.3
code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "$GW_URL/healthz" || true)
[ "$code" = 000 ] || [ "$code" = 503 ] || fail "/healthz while draining: $code"
for ((i = 0; i < 300; i++)); do
	kill -0 "$GW_PID" 2>/dev/null || break
	sleep 0.1
done
RC=0
wait "$GW_PID" || RC=$?
[ "$RC" -eq 0 ] || fail "gateway exit status $RC after SIGTERM"
expect_grep "$GW_LOG" "stopping: no new connections; draining orders in flight" "drain logged"
[ "$(sqlite3 "$DB" 'SELECT count(*) FROM orders WHERE state = 1')" = 4 ] ||
	fail "orders stored during the drain: $(sqlite3 "$DB" 'SELECT state, count(*) FROM orders GROUP BY state')"
start_gw --worker "$W=$ENDPOINT" --db "sqlite:$DB"
while read -r id; do
	rpc "$GW_URL" WorkOrderGetResult "{\"workOrderId\":\"$id\"}" | grep -q '"result":' ||
		fail "order $id not final after the restart"
done <"$TEST_TMP/ids"
stop_gw
note "ok"
