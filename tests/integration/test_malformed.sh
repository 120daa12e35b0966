#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_malformed.sh - malformed frames from a raw ZeroMQ peer each get one
# JSON error reply; the worker keeps serving afterwards.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_worker --rsa-bits 2048 --max-message-bytes 65536

"$PYTHON" - "$ENDPOINT" <<'EOF' || fail "malformed frame checks failed"
import json, sys, zmq

ctx = zmq.Context()

def req_socket(timeout_ms=120000):
    s = ctx.socket(zmq.REQ)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, timeout_ms)
    s.connect(sys.argv[1])
    return s

sock = req_socket()

def expect_error(name, parts, message, rid=0, wo_id=None):
    """Sends parts (one frame or a multi-part message), expects one JSON
    error reply with code 2, the exact message, the id and data."""
    sock.send_multipart(parts) if len(parts) > 1 else sock.send(parts[0])
    raw = sock.recv()
    assert not sock.getsockopt(zmq.RCVMORE), name + ": multi-part reply"
    reply = json.loads(raw.decode("utf-8"))
    err = {"code": 2, "message": message}
    if wo_id is not None:
        err["data"] = {"workOrderId": wo_id}
    want = {"jsonrpc": "2.0", "id": rid, "error": err}
    assert reply == want, "%s: got %r, want %r" % (name, reply, want)
    assert type(reply["id"]) is type(rid), name + ": id type"
    print("ok:", name)

def env(method, params, rid=7):
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": method,
                       "params": params}).encode()

IR = "Invalid request"
expect_error("garbage", [b"this is not json at all"], IR)
expect_error("invalid utf-8", [b'{"jsonrpc":"2.0","id":1,"method":"\xff\xfe",'
                               b'"params":null}'], IR)
expect_error("invalid utf-8 in a string", [b'{"jsonrpc":"2.0","id":1,'
             b'"method":"ProcessWorkerSignup","params":"\xc3\x28"}'], IR)
expect_error("empty frame", [b""], IR)
expect_error("deep nesting (arrays)", [b"[" * 60000], IR)
expect_error("deep nesting (objects)",
             [b'{"a":' * 5000 + b"1" + b"}" * 5000], IR)
expect_error("unknown method", [env("Frobnicate", None)], "Unsupported method")
expect_error("multi-part", [env("ProcessWorkerSignup", None), b"second part"], IR)
expect_error("multi-part, three parts", [b"a", b"b", b"c"], IR)
expect_error("envelope is an array", [b'["ProcessWorkerSignup"]'], IR)
expect_error("envelope is a string", [b'"ProcessWorkerSignup"'], IR)
expect_error("method missing", [b'{"jsonrpc":"2.0","id":3,"params":null}'], IR)
expect_error("method not a string", [env(42, None)], IR)
expect_error("params missing",
             [b'{"jsonrpc":"2.0","id":3,"method":"ProcessWorkOrder"}'], IR)
expect_error("trailing garbage", [env("ProcessWorkerSignup", None) + b" xyz"], IR)
expect_error("NUL byte", [b'{"jsonrpc":"2.0",\x00"id":1}'], IR)
expect_error("inner request not JSON", [env("ProcessWorkOrder", "{not json")], IR)

# Inner request errors carry the inner id (verbatim type) and, once known,
# data.workOrderId. The params are well-formed except for one field.
wo = "ab" * 32
params = {"workOrderId": wo, "workerId": "00" * 32,
          "workloadId": "707974686f6e2d68656c6c6f",
          "requesterId": "11" * 32, "requesterNonce": "22" * 32,
          "encryptedSessionKey": "44" * 256, "sessionKeyIv": "00" * 12,
          "encryptedRequestHash": "33" * 48,
          "inData": [{"index": 0, "dataHash": "",
                      "data": "QUFBQUFBQUFBQUFBQUFBQUFBQUE=",
                      "encryptedDataEncryptionKey": "null", "iv": ""}]}

def inner(rid, **changes):
    p = dict(params)
    for k, v in changes.items():
        if v is None:
            del p[k]
        else:
            p[k] = v
    return json.dumps({"jsonrpc": "2.0", "method": "WorkOrderSubmit",
                       "id": rid, "params": p})

expect_error("workOrderId missing",
             [env("ProcessWorkOrder", inner("1", workOrderId=None))],
             "Invalid parameter: workOrderId", rid="1")
expect_error("encryptedSessionKey not hex",
             [env("ProcessWorkOrder", inner(99, encryptedSessionKey="zz"))],
             "Invalid parameter: encryptedSessionKey", rid=99, wo_id=wo)
expect_error("sessionKeyIv of 8 bytes",
             [env("ProcessWorkOrder", inner("x", sessionKeyIv="00" * 8))],
             "Invalid parameter: sessionKeyIv", rid="x", wo_id=wo)
expect_error("payloadFormat XML",
             [env("ProcessWorkOrder", inner(5, payloadFormat="XML"))],
             "Invalid parameter: payloadFormat", rid=5, wo_id=wo)
expect_error("session key for another worker key",
             [env("ProcessWorkOrder", inner("1"))],
             "Work order integrity check failed", rid="1", wo_id=wo)

# After all that the same socket still gets a signup.
sock.send(env("ProcessWorkerSignup", None))
signup = json.loads(sock.recv().decode("utf-8"))
assert signup["verifying_key"].startswith("-----BEGIN PUBLIC KEY-----"), signup
print("ok: signup after malformed frames")

# Over --max-message-bytes: either one Invalid request reply or the
# connection is dropped without a reply; never a crash.
big = req_socket(timeout_ms=5000)
big.send(env("ProcessWorkerSignup", "x" * 100000))
try:
    reply = json.loads(big.recv().decode("utf-8"))
    assert reply == {"jsonrpc": "2.0", "id": 0,
                     "error": {"code": 2, "message": IR}}, reply
    print("ok: oversize frame answered with Invalid request")
except zmq.Again:
    print("ok: oversize frame dropped by the transport")
big.close()

sock.send(env("ProcessWorkerSignup", None))
json.loads(sock.recv().decode("utf-8"))["encryption_key"]
sock.close()
ctx.term()
EOF

expect_worker_alive "after malformed frames"
run_client --workload python-hello --in-data survivor
expect_rc 0 "valid order after malformed frames"
echo "Work order result : Hello survivor" | expect_file "$OUT" "valid order"
expect_worker_alive "after the valid order"
stop_worker
note "ok"
