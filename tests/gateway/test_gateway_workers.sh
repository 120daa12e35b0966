#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_gateway_workers.sh - tcgateway and its workers: an unreachable worker
# is marked inactive and its orders fail after --order-timeout-ms; changed
# keys make a worker inactive until accepted (admin socket or
# --accept-new-keys) and orders sealed to the old keys fail; back-off on
# "Worker busy"; concurrent submissions share their fdatasync (group commit).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

W=w1
DB="$TEST_TMP/gw.db"
ADMIN="$TEST_TMP/admin.sock"
PORT=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
EP="tcp://127.0.0.1:$PORT"

# Runs a gwclient snippet: "$PYTHON" - GW_URL W ARGS... <<PY
peer() {
	"$PYTHON" - "$GW_URL" "$W" "$@" || fail "peer step failed"
}

# Waits until WorkerRetrieve reports status $1.
wait_status() {
	local i
	for ((i = 0; i < 300; i++)); do
		rpc "$GW_URL" WorkerRetrieve "{\"workerId\":\"$(worker_id $W)\"}" | grep -q "\"status\":$1}" && return 0
		sleep 0.1
	done
	fail "worker status never became $1"
}

# 1. Unreachable: inactive, orders wait, then fail after --order-timeout-ms.
start_worker --bind "$EP" --rsa-bits 2048
start_gw --worker "$W=$EP" --db "sqlite:$DB" --recheck-ms 200 --order-timeout-ms 2000
peer "$TEST_TMP/k1.pem" <<'PY'
import sys
from gwclient import Gateway, Worker, new_order, submit, get_result
gw = Gateway(sys.argv[1]); w = Worker(gw, sys.argv[2])
o = new_order(w, "python-hello", ["before"])
submit(gw, o)
assert o.check_result(get_result(gw, o)) == [b"Hello before"]
open(sys.argv[3], "w").write(w.signup["encryption_key"])
PY
stop_worker
wait_status 2
expect_grep "$GW_LOG" "WARN worker $W \($EP\) unreachable: .*marked inactive, its orders wait" "inactive"
peer <<'PY'
import sys, time
from gwclient import Gateway, new_order, submit, get_result
import gwclient
gw = Gateway(sys.argv[1])
# the keys as published (status 2 now): seal to them directly
r = gw.call("WorkerRetrieve", {"workerId": gwclient.hashlib.sha256(sys.argv[2].encode()).hexdigest()})
assert r["result"]["status"] == 2, r
class W: pass
w = W(); td = r["result"]["details"]["workerTypeData"]
w.worker_id = gwclient.hashlib.sha256(sys.argv[2].encode()).hexdigest()
w.rsa = gwclient.RSA.import_key(td["encryptionKey"]); w.signup = {"encryption_key": td["encryptionKey"]}
o = new_order(w, "python-hello", ["lost"])
assert submit(gw, o)["error"]["code"] == 5
r = get_result(gw, o)
assert r["error"] == {"code": 1, "message": "Work order timed out: the worker did not answer in time",
                      "data": {"workOrderId": o.params["workOrderId"]}}, r
print("timed out as expected")
PY
stop_gw

# 2. New keys (the worker restarted without a keys file): inactive until the
# operator accepts them; orders sealed to the old keys fail.
start_worker --bind "$EP" --rsa-bits 2048
start_gw --worker "$W=$EP" --db "sqlite:$DB" --recheck-ms 200 --admin-socket "$ADMIN"
expect_grep "$GW_LOG" "ERROR worker $W presents NEW keys that are not accepted: marked inactive. Accept them with --accept-new-keys $W or WorkerSetStatus status 1 on the admin socket" "loud refusal"
wait_status 2
peer "$TEST_TMP/old.json" <<'PY'
import json, sys, hashlib
from gwclient import Gateway, RSA, new_order, submit
gw = Gateway(sys.argv[1])
wid = hashlib.sha256(sys.argv[2].encode()).hexdigest()
td = gw.call("WorkerRetrieve", {"workerId": wid})["result"]["details"]["workerTypeData"]
class W: pass
w = W(); w.worker_id = wid; w.rsa = RSA.import_key(td["encryptionKey"]); w.signup = {"encryption_key": td["encryptionKey"]}
o = new_order(w, "python-hello", ["old keys"])
assert submit(gw, o)["error"]["code"] == 5
json.dump(o.params["workOrderId"], open(sys.argv[3], "w"))
PY
got=$(admin_rpc "$ADMIN" WorkerSetStatus "{\"workerId\":\"$(worker_id $W)\",\"status\":1}")
expect_json "$got" '{"jsonrpc":"2.0","id":7,"error":{"code":0,"message":"Worker keys accepted, status set"}}' "accept over the admin socket"
wait_status 1
OLD=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1])))' "$TEST_TMP/old.json")
for ((i = 0; i < 100; i++)); do
	got=$(rpc "$GW_URL" WorkOrderGetResult "{\"workOrderId\":\"$OLD\"}")
	echo "$got" | grep -q '"code":5' || break
done
expect_json "$got" "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":2,\"message\":\"Worker keys changed: the order was sealed to the worker's previous keys; submit it again with the new keys\",\"data\":{\"workOrderId\":\"$OLD\"}}}" "old-key order"
peer "$TEST_TMP/k1.pem" <<'PY'
import sys
from gwclient import Gateway, Worker, new_order, submit, get_result
gw = Gateway(sys.argv[1]); w = Worker(gw, sys.argv[2])
assert w.signup["encryption_key"] != open(sys.argv[3]).read(), "keys did not change"
o = new_order(w, "python-hello", ["new keys"])
submit(gw, o)
assert o.check_result(get_result(gw, o)) == [b"Hello new keys"]
PY
stop_gw
stop_worker

# 3. --accept-new-keys NAME takes the keys the worker presents at start.
start_worker --bind "$EP" --rsa-bits 2048
start_gw --worker "$W=$EP" --db "sqlite:$DB" --accept-new-keys "$W"
expect_grep "$GW_LOG" "WARN worker $W presents NEW keys; accepted \(--accept-new-keys\)" "accepted at start"
wait_status 1
stop_gw

# 4. "Worker busy": the gateway backs off and every order still completes.
cat >"$TEST_TMP/sleep.json" <<JSON
{"sleep": {"library": "$TCW_BUILD_DIR/workloads/sleep.so"}}
JSON
stop_worker
start_worker --bind "$EP" --rsa-bits 2048 --workload "$TEST_TMP/sleep.json" --threads 1 --queue 1
start_gw --worker "$W=$EP" --db "sqlite:$DB" --accept-new-keys "$W" --max-in-flight 6
peer <<'PY'
import sys, threading
from gwclient import Gateway, Worker, new_order, submit, get_result
w = Worker(Gateway(sys.argv[1]), sys.argv[2])
orders = [new_order(w, "sleep", ["30"]) for _ in range(12)]
def run(o):
    gw = Gateway(sys.argv[1])
    submit(gw, o)
    o.out = o.check_result(get_result(gw, o))
ts = [threading.Thread(target=run, args=(o,)) for o in orders]
[t.start() for t in ts]; [t.join() for t in ts]
assert all(o.out == [b"slept 30 ms"] for o in orders), [o.out for o in orders]
print("12 orders through a worker with one thread and a queue of one")
PY
curl -sS --noproxy '*' "$GW_URL/metrics" >"$TEST_TMP/metrics"
expect_grep "$TEST_TMP/metrics" '^tcgw_worker_busy_total [1-9]' "busy replies seen"

# 5. Group commit: N concurrent submissions share their fdatasync calls
# (at least one, at most N/4), counted with strace on the gateway.
stop_gw
start_gw --worker "$W=$EP" --db "sqlite:$DB" --accept-new-keys "$W" --admin-socket "$ADMIN"
admin_rpc "$ADMIN" WorkerSetStatus "{\"workerId\":\"$(worker_id $W)\",\"status\":2}" >/dev/null
N=64
"$PYTHON" - "$GW_URL" "$W" "$N" "$TEST_TMP/ready" "$TEST_TMP/go" <<'PY' &
import os, sys, threading, time, hashlib
from gwclient import Gateway, RSA, new_order, submit
url, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
gw = Gateway(url)
td = gw.call("WorkerRetrieve", {"workerId": hashlib.sha256(name.encode()).hexdigest()})["result"]["details"]["workerTypeData"]
class W: pass
w = W(); w.worker_id = hashlib.sha256(name.encode()).hexdigest()
w.rsa = RSA.import_key(td["encryptionKey"]); w.signup = {"encryption_key": td["encryptionKey"]}
orders = [new_order(w, "sleep", ["1"]) for _ in range(n)]
conns = [Gateway(url) for _ in range(n)]
for c in conns:
    c.call("WorkerLookUp", {})  # open the connections before the burst
open(sys.argv[4], "w").close()
while not os.path.exists(sys.argv[5]):
    time.sleep(0.01)
barrier = threading.Barrier(n)
res = [None] * n
def run(i):
    barrier.wait()
    res[i] = submit(conns[i], orders[i])["error"]["code"]
ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
[t.start() for t in ts]; [t.join() for t in ts]
assert res == [5] * n, res
PY
BURST=$!
for ((i = 0; i < 600; i++)); do
	[ -e "$TEST_TMP/ready" ] && break
	sleep 0.1
done
strace -f -qq -e trace=fdatasync,fsync -p "$GW_PID" -o "$TEST_TMP/sync.trace" &
STRACE=$!
for ((i = 0; i < 100; i++)); do
	[ "$(awk '/^TracerPid/{print $2}' /proc/"$GW_PID"/status)" != 0 ] && break
	sleep 0.05
done
sleep 0.5
touch "$TEST_TMP/go"
wait "$BURST" || fail "burst of $N submissions"
sleep 0.3
kill -INT "$STRACE"
wait "$STRACE" || true
syncs=$(grep -cE '(fdatasync|fsync)\(' "$TEST_TMP/sync.trace" || true)
note "$N concurrent submissions: $syncs fdatasync/fsync calls"
if [ "$syncs" -lt 1 ] || [ "$syncs" -gt $((N / 4)) ]; then
	fail "$syncs sync calls for $N submissions (want 1..$((N / 4)))"
fi
stop_gw
note "ok"
