#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_busy.sh - back-pressure and shutdown: with one processing thread and a
# queue of one, requests beyond that are answered at once with the exact
# "Worker busy" error (code 8) while the worker keeps serving; on SIGTERM the
# requests in hand are still answered and the worker exits 0.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SLEEP_SO="$TCW_BUILD_DIR/workloads/sleep.so"
[ -f "$SLEEP_SO" ] || fail "test plugin $SLEEP_SO not built"
MARK="$TEST_TMP/mark"
BUSY_WL="$TEST_TMP/busy.json"
cat >"$BUSY_WL" <<EOF
{"sleep": {"library": "$SLEEP_SO", "config": {"marker": "$MARK"}},
 "python-hello": {"library": "$TCW_BUILD_DIR/workloads/hello.so"}}
EOF

# Python helpers: signup, orders built by the independent peer.
cat >"$TEST_TMP/busy.py" <<'EOF'
import json, os, sys, threading, time
sys.path.insert(0, os.path.join(os.environ["TCW_SOURCE_DIR"], "tests", "interop"))
import zmq
from Cryptodome.PublicKey import RSA
from ecdsa import VerifyingKey
import peer

BUSY = {"jsonrpc": "2.0", "id": 0, "error": {"code": 8, "message": "Worker busy"}}
ctx = zmq.Context()

def sock():
    s = ctx.socket(zmq.REQ)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, 120000)
    s.connect(sys.argv[2])
    return s

def signup():
    s = sock()
    s.send_string(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ProcessWorkerSignup",
                              "params": None}))
    su = json.loads(s.recv())
    s.close()
    return RSA.import_key(su["encryption_key"]), VerifyingKey.from_pem(su["verifying_key"])

def wait_file(path):
    for _ in range(1800):
        if os.path.exists(path):
            return
        time.sleep(0.1)
    raise SystemExit("marker %s never appeared" % path)

def send_all(orders):
    """Sends each order on its own connection at once; returns the replies."""
    socks = [sock() for _ in orders]
    for s, o in zip(socks, orders):
        s.send_string(json.dumps(o.envelope()))
    replies = [json.loads(s.recv()) for s in socks]
    for s in socks:
        s.close()
    return replies

rsa, vk = signup()
mode = sys.argv[1]
if mode == "busy":
    # 3000 ms runs first, 3001 ms waits in the queue, the rest must be busy
    times = (3000, 3001, 3002, 3003, 3004)
    orders = [peer.Order(rsa, "sleep", str(ms)) for ms in times]
    first = sock()
    first.send_string(json.dumps(orders[0].envelope()))
    wait_file(sys.argv[3] + ".3000")
    rest = send_all(orders[1:])
    replies = [json.loads(first.recv())] + rest
    ok = busy = 0
    for ms, o, r in zip(times, orders, replies):
        if r == BUSY:
            busy += 1
            continue
        assert peer.check_result(o, r, vk) == [b"slept %d ms" % ms], r
        ok += 1
    print("ok=%d busy=%d" % (ok, busy))
    assert replies[0] != BUSY, "the running work order was refused"
    assert busy >= 1 and ok >= 2 and ok + busy == len(orders), (ok, busy)
elif mode == "stop":
    # one work order running, one waiting, then SIGTERM (sent by the shell)
    a, b = peer.Order(rsa, "sleep", "2500"), peer.Order(rsa, "sleep", "10")
    sa, sb = sock(), sock()
    sa.send_string(json.dumps(a.envelope()))
    wait_file(sys.argv[3] + ".2500")
    sb.send_string(json.dumps(b.envelope()))
    time.sleep(0.5)  # let the I/O thread queue it
    open(sys.argv[3] + ".sent", "w").close()
    ra, rb = json.loads(sa.recv()), json.loads(sb.recv())
    assert peer.check_result(a, ra, vk) == [b"slept 2500 ms"], ra
    assert peer.check_result(b, rb, vk) == [b"slept 10 ms"], rb
    print("both answered")
EOF

start_worker --rsa-bits 2048 --threads 1 --queue 1 --workload "$BUSY_WL"
note "five slow work orders against one thread and a queue of one"
"$PYTHON" "$TEST_TMP/busy.py" busy "$ENDPOINT" "$MARK" >"$TEST_TMP/busy.out" 2>&1 ||
	{ cat "$TEST_TMP/busy.out" >&2; fail "busy replies"; }
cat "$TEST_TMP/busy.out" >&2
expect_grep "$WORKER_LOG" "WARN request queue full \(1 waiting\): answering 'Worker busy'$" \
	"queue-full warning"

note "the worker still serves afterwards"
run_client --workload python-hello --in-data after-busy
expect_rc 0 "hello after the busy replies"
expect_file "$OUT" "hello after busy" <<EOF
Work order result : Hello after-busy
EOF
expect_grep "$WORKER_LOG" "INFO request queue has room again after [0-9]+ 'Worker busy' replies$" \
	"recovery logged"

note "SIGTERM with one work order running and one waiting"
"$PYTHON" "$TEST_TMP/busy.py" stop "$ENDPOINT" "$MARK" >"$TEST_TMP/stop.out" 2>&1 &
py=$!
for ((i = 0; i < START_TIMEOUT * 10; i++)); do
	[ -f "$MARK.sent" ] && break
	kill -0 "$py" 2>/dev/null || break
	sleep 0.1
done
[ -f "$MARK.sent" ] || { cat "$TEST_TMP/stop.out" >&2; fail "stop scenario did not start"; }
stop_worker TERM
wait "$py" || { cat "$TEST_TMP/stop.out" >&2; fail "requests in hand at SIGTERM not answered"; }
expect_grep "$WORKER_LOG" 'INFO stopping: answering the 2 requests in hand$' "in-hand count at stop"
note "ok"
