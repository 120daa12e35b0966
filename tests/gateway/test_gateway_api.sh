#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_gateway_api.sh - tcgateway's EEA API with a real tcworker: tcclient
# --gateway, the WorkerRetrieve record, lookups, submit/result shapes, admin
# methods only on the 0600 socket, /healthz, /metrics, the --insecure-http
# rule, HTTPS, the INI file, schema migrations, SIGTERM.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

W=graphene-worker-1
WID=$(worker_id "$W")
DB="$TEST_TMP/gw.db"
ADMIN="$TEST_TMP/admin.sock"

start_worker --rsa-bits 2048 --threads 2
WORKER_EP=$ENDPOINT
start_gw --worker "$W=$WORKER_EP" --db "sqlite:$DB" --keys-file "$TEST_TMP/gw.keys" \
	--admin-socket "$ADMIN"
expect_grep "$GW_LOG" "worker $W = $WORKER_EP, workerId $WID" "workerId = SHA-256(name)"
expect_grep "$GW_LOG" "store $DB: schema migrated to version 3" "schema created"

# 1. tcclient through the gateway: the reference orders, verified.
OUT="$TEST_TMP/client.out" ERR="$TEST_TMP/client.err" RC=0
"$TCCLIENT" --gateway "$GW_URL" --worker-name "$W" --file "$TCW_SOURCE_DIR/tests/test_work_orders.json" \
	>"$OUT" 2>"$ERR" || RC=$?
expect_rc 0 "tcclient --gateway"
expected_reference_lines | expect_file "$OUT" "tcclient --gateway results"
expect_grep "$ERR" "^worker $WID via $GW_URL: RSA 2048-bit encryption key, signature verified$" \
	"keys from WorkerRetrieve"

# 2. Record, shapes, lookups, errors (independent Python peer).
"$PYTHON" - "$GW_URL" "$W" <<'PY' || fail "API shapes"
import json, sys
from gwclient import Gateway, Worker, new_order, submit, get_result
gw = Gateway(sys.argv[1])
w = Worker(gw, sys.argv[2])
rec = w.record
assert rec["status"] == 1 and rec["workerType"] == 1, rec
d = rec["details"]
assert d["hashingAlgorithm"] == "SHA-256" and d["signingAlgorithm"] == "SECP256K1", d
assert d["keyEncryptionAlgorithm"] == "RSA-OAEP-2048", d["keyEncryptionAlgorithm"]
assert d["dataEncryptionAlgorithm"] == "AES-GCM-256", d
td = d["workerTypeData"]
assert td["proofData"] == "" and td["sgxQuote"] == "", td
int(td["encryptionKeySignature"], 16)
# unknown worker: Avalon's answer
r = gw.call("WorkerRetrieve", {"workerId": "00" * 32}, 5)
assert r == {"jsonrpc": "2.0", "id": 5, "error": {"code": 2, "message":
             "Worker Id not found in the database. Hence invalid parameter"}}, r
r = gw.call("WorkerLookUp", {"workerType": 1})
assert r["result"] == {"totalCount": 1, "lookupTag": "", "ids": [w.worker_id]}, r
r = gw.call("WorkerLookUp", {"workerType": 2})
assert r["result"] == {"totalCount": 0, "lookupTag": "", "ids": []}, r
r = gw.call("WorkerLookUpNext", {"lookUpTag": w.worker_id})
assert r["result"]["ids"] == [], r
# submit: pending (5) with the order id; the result verifies
o = new_order(w, "python-hello", ["gateway"], sdk=True)
r = submit(gw, o, "abc")
wo = o.params["workOrderId"]
assert r == {"jsonrpc": "2.0", "id": "abc", "error": {"code": 5, "message":
             "Work order is computing. Please query for WorkOrderGetResult to view the result",
             "data": {"workOrderId": wo}}}, r
assert o.check_result(get_result(gw, o)) == [b"Hello gateway"]
# the same id again: refused, nothing changes
r = submit(gw, o, 9)
assert r["error"] == {"code": 2, "message": "Duplicate work order", "data": {"workOrderId": wo}}, r
assert o.check_result(get_result(gw, o)) == [b"Hello gateway"]
# a worker error is stored and returned as the worker sent it
bad = new_order(w, "no-such-workload", ["x"])
submit(gw, bad)
r = get_result(gw, bad, 3)
assert r == {"jsonrpc": "2.0", "id": 3, "error": {"code": 2, "message":
             "Error processing work load", "data": {"workOrderId": bad.params["workOrderId"]}}}, r
# unknown order, unknown method
r = gw.call("WorkOrderGetResult", {"workOrderId": "ab" * 32}, 4)
assert r["error"]["code"] == 2 and r["error"]["message"] == "Work order not found", r
r = gw.call("NoSuchMethod", {}, 4)
assert r["error"] == {"code": -32601, "message": "Method not found"}, r
print("api shapes ok")
PY

# 3. Admin methods: never over HTTP; on the socket (mode 0600) only.
[ "$(stat -c %a "$ADMIN")" = 600 ] || fail "admin socket mode $(stat -c %a "$ADMIN")"
REG='{"workerId":"aa01","workerType":1,"organizationId":"org","applicationTypeId":["app"],"details":{"hashingAlgorithm":"SHA-256"}}'
for m in WorkerRegister WorkerUpdate WorkerSetStatus; do
	got=$(rpc "$GW_URL" "$m" "$REG")
	expect_json "$got" '{"jsonrpc":"2.0","id":7,"error":{"code":3,"message":"Access denied: administrative methods are served only on the admin socket"}}' "$m over HTTP"
done
got=$(rpc "$GW_URL" WorkerRetrieve '{"workerId":"aa01"}')
expect_grep <(echo "$got") '"code":2' "nothing registered over HTTP"
got=$(admin_rpc "$ADMIN" WorkerRegister "$REG")
expect_json "$got" '{"jsonrpc":"2.0","id":7,"error":{"code":0,"message":"Successfully Registered"}}' "register"
got=$(admin_rpc "$ADMIN" WorkerRegister "$REG")
expect_grep <(echo "$got") '"code":2,"message":"Worker Id already exists' "register twice"
got=$(admin_rpc "$ADMIN" WorkerUpdate '{"workerId":"aa01","details":{"workOrderSyncUri":"x"}}')
expect_json "$got" '{"jsonrpc":"2.0","id":7,"error":{"code":0,"message":"Successfully Updated"}}' "update"
got=$(admin_rpc "$ADMIN" WorkerSetStatus '{"workerId":"aa01","status":3}')
expect_json "$got" '{"jsonrpc":"2.0","id":7,"error":{"code":0,"message":"Successfully Set Status"}}' "set status"
got=$(rpc "$GW_URL" WorkerRetrieve '{"workerId":"aa01"}')
expect_json "$got" '{"jsonrpc":"2.0","id":7,"result":{"workerType":1,"organizationId":"org","applicationTypeId":["app"],"details":{"hashingAlgorithm":"SHA-256","workOrderSyncUri":"x"},"status":3}}' "admin record"
got=$(rpc "$GW_URL" WorkerLookUp '{"organizationId":"org","applicationTypeId":"app"}')
expect_json "$got" '{"jsonrpc":"2.0","id":7,"result":{"totalCount":1,"lookupTag":"","ids":["aa01"]}}' "lookup filters"
for m in WorkerRegister WorkerUpdate; do
	got=$(admin_rpc "$ADMIN" "$m" "{\"workerId\":\"$WID\",\"workerType\":1,\"details\":{\"workerTypeData\":{\"encryptionKey\":\"x\"}}}")
	expect_grep <(echo "$got") '"code":3,"message":"Access denied: this worker is a --worker' "$m on a --worker"
done
got=$(rpc "$GW_URL" WorkerRetrieve "{\"workerId\":\"$WID\"}")
expect_grep <(echo "$got") '"status":1' "--worker record unchanged"
expect_no_grep <(echo "$got") '"encryptionKey":"x"' "--worker keys unchanged"

# 4. /healthz and /metrics.
[ "$(curl -sS --noproxy '*' "$GW_URL/healthz")" = ok ] || fail "/healthz"
curl -sS --noproxy '*' "$GW_URL/metrics" >"$TEST_TMP/metrics"
expect_grep "$TEST_TMP/metrics" '^tcgw_orders\{state="done"\} 10$' "orders done"
expect_grep "$TEST_TMP/metrics" '^tcgw_orders\{state="failed"\} 1$' "orders failed"
expect_grep "$TEST_TMP/metrics" "^tcgw_worker_up\\{worker=\"$W\"\\} 1$" "worker up"
expect_grep "$TEST_TMP/metrics" "^tcgw_worker_latency_seconds_count\\{worker=\"$W\"\\} 11$" "latency histogram"
expect_grep "$TEST_TMP/metrics" '^tcgw_rpc_errors_total\{code="3"\} 5$' "errors by code"
expect_grep "$TEST_TMP/metrics" '^tcgw_store_commit_seconds_count [1-9]' "commit latency"
code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "$GW_URL/nothing")
[ "$code" = 404 ] || fail "GET /nothing: $code"
stop_gw

# 5. Plain HTTP off loopback needs --insecure-http; HTTPS does not.
run_gw_fg --listen 0.0.0.0:0 --db "sqlite:$DB"
[ "$RC" -eq 2 ] || fail "non-loopback plain HTTP: exit $RC"
expect_grep "$ERR" "--listen 0.0.0.0:0 is not a loopback address: serve HTTPS \(--tls-cert, --tls-key\) or accept plain HTTP with --insecure-http" "refusal"
start_gw --listen 0.0.0.0:0 --insecure-http --db "sqlite:$DB"
expect_grep "$GW_LOG" "WARN --insecure-http: plain HTTP on 0.0.0.0:" "warning"
stop_gw
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TEST_TMP/tls.key" -out "$TEST_TMP/tls.crt" \
	-days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
start_gw --listen 127.0.0.1:0 --tls-cert "$TEST_TMP/tls.crt" --tls-key "$TEST_TMP/tls.key" \
	--worker "$W=$WORKER_EP" --db "sqlite:$DB" --keys-file "$TEST_TMP/gw.keys"
case "$GW_URL" in https://127.0.0.1:*) ;; *) fail "TLS URL $GW_URL" ;; esac
got=$(curl -sS --cacert "$TEST_TMP/tls.crt" -X POST -H 'Content-Type: application/json' \
	--data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"WorkerRetrieve\",\"params\":{\"workerId\":\"$WID\"}}" "$GW_URL")
expect_grep <(echo "$got") '"status":1' "WorkerRetrieve over HTTPS"
stop_gw

# 6. INI file: the long option names as keys; errors name file and line.
cat >"$TEST_TMP/gw.ini" <<INI
[tcgateway]
listen = 127.0.0.1:0
worker = $W=$WORKER_EP
db = sqlite:$DB
keys-file = $TEST_TMP/gw.keys
result-wait-ms = 500
INI
start_gw --config "$TEST_TMP/gw.ini"
expect_grep "$GW_LOG" "loaded the gateway keys from $TEST_TMP/gw.keys" "same receipt key"
expect_no_grep "$GW_LOG" "schema migrated" "no migration on a current schema"
stop_gw
printf '[tcgateway]\nlisten = 127.0.0.1:0\nno-such-key = 1\n' >"$TEST_TMP/bad.ini"
run_gw_fg --config "$TEST_TMP/bad.ini"
[ "$RC" -eq 2 ] || fail "bad INI: exit $RC"
expect_grep "$ERR" "^tcgateway: $TEST_TMP/bad.ini:3: no-such-key: unknown key$" "INI error"
run_gw_fg --max-in-flight 0
[ "$RC" -eq 2 ] || fail "bad flag: exit $RC"
expect_grep "$ERR" "^tcgateway: --max-in-flight: invalid value '0' \(expected an integer from 1 to 4096\)$" "flag error"

# 7. Migrations: a version-1 file (results in the orders' rows, as versions
# 1 and 2 kept them) is migrated to 2 and 3 and keeps its results; a newer
# file is refused.
final=$(sqlite3 "$DB" 'SELECT count(*) FROM orders WHERE state != 0')
done_id=$(sqlite3 "$DB" 'SELECT id FROM orders WHERE state = 1 LIMIT 1')
if [ "$final" -le 0 ] || [ -z "$done_id" ]; then fail "final orders before the migration"; fi
sqlite3 "$DB" "UPDATE orders SET result = (SELECT result FROM results WHERE rid = orders.rowid);
	DROP TABLE results; DROP INDEX receipts_requester; DROP INDEX receipts_worker;
	DELETE FROM schema_version WHERE version >= 2"
start_gw --db "sqlite:$DB"
expect_grep "$GW_LOG" "store $DB: schema migrated to version 2" "v1 -> v2"
expect_grep "$GW_LOG" "store $DB: schema migrated to version 3" "v2 -> v3"
expect_no_grep "$GW_LOG" "migrated to version 1" "v1 kept"
rpc "$GW_URL" WorkOrderGetResult "{\"workOrderId\":\"$done_id\"}" | grep -q '"result":{' ||
	fail "a result kept across the migration"
stop_gw
[ "$(sqlite3 "$DB" 'SELECT count(*) FROM orders')" = 11 ] || fail "orders kept across the migration"
[ "$(sqlite3 "$DB" 'SELECT count(*) FROM results')" = "$final" ] || fail "results moved to their table"
[ "$(sqlite3 "$DB" 'SELECT count(*) FROM orders WHERE result IS NOT NULL')" = 0 ] ||
	fail "results left in the orders' rows"
sqlite3 "$DB" "INSERT INTO schema_version VALUES (99)"
run_gw_fg --db "sqlite:$DB"
[ "$RC" -eq 2 ] || fail "newer schema: exit $RC"
expect_grep "$ERR" "schema version 99 is newer than this tcgateway \(3\); refusing to use it" "newer schema"
note "ok"
