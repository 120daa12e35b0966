# SPDX-License-Identifier: Apache-2.0
"""hostile.py URL WORKER_NAME - hostile HTTP and JSON-RPC input against
tcgateway (started with --max-body-bytes 100000 --max-header-bytes 8192
--idle-timeout-s 2 --max-connections 8): every case gets its exact error,
nothing in the store changes, and the gateway keeps serving a valid order.
"""

import base64
import hashlib
import json
import socket
import sys
import time
import urllib.parse

from ecdsa import SECP256k1, SigningKey
from ecdsa.util import sigencode_der

from gwclient import Gateway, Worker, new_order, submit, get_result

URL, NAME = sys.argv[1], sys.argv[2]
U = urllib.parse.urlsplit(URL)
gw = Gateway(URL)
w = Worker(gw, NAME)
cases = 0


def raw(data, read_timeout=10):
    """Sends raw bytes on a fresh connection; returns the status code (None
    when the server closed without an answer) and the reply bytes."""
    s = socket.create_connection((U.hostname, U.port), timeout=read_timeout)
    buf = b""
    try:
        try:
            s.sendall(data)
        except (ConnectionResetError, BrokenPipeError):
            pass  # the server may answer before reading everything
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            head, sep, body = buf.partition(b"\r\n\r\n")
            if sep:
                n = [int(v) for k, _, v in (h.partition(b":") for h in head.split(b"\r\n"))
                     if k.lower() == b"content-length"]
                if n and len(body) >= n[0]:
                    break
    except (ConnectionResetError, BrokenPipeError, socket.timeout):
        pass
    finally:
        s.close()
    if not buf.startswith(b"HTTP/1."):
        return None, buf
    return int(buf.split(b" ", 2)[1]), buf


def post(body, extra=b""):
    if isinstance(body, str):
        body = body.encode()
    return raw(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + extra +
               b"Content-Length: %d\r\n\r\n" % len(body) + body)


def alive():
    """The gateway still answers, and a valid order still completes."""
    o = new_order(w, "python-hello", ["still alive"])
    assert submit(gw, o)["error"]["code"] == 5
    assert o.check_result(get_result(gw, o)) == [b"Hello still alive"]


def case(name, got, want):
    global cases
    assert got == want, "%s: got %r, want %r" % (name, got, want)
    cases += 1


def rpc_error(body, code, message, rid=None, data=None):
    status, reply = post(body)
    assert status == 200, (body[:80], status, reply[:200])
    head, _, text = reply.partition(b"\r\n\r\n")
    assert b"\r\nContent-Type: application/json\r\n" in head + b"\r\n", head
    r = json.loads(text)
    err = {"code": code, "message": message}
    if data:
        err["data"] = data
    case(str(body)[:60], r, {"jsonrpc": "2.0", "id": rid, "error": err})


# ---- HTTP ----
st, _ = raw(b"POST / HTTP/1.1\r\nHost: x\r\nBadheader\r\nContent-Length: 2\r\n\r\n{}")
case("header line without a colon", st, 400)
st, _ = raw(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}")
case("bad Content-Length", st, 400)
st, _ = raw(b"POST / HTTP/9.9\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
case("unknown HTTP version", st, 505)
# no HTTP version at all: libmicrohttpd closes the connection without an answer
st, _ = raw(b"GARBAGE\r\n\r\n")
case("request line without a version", st, None)
st, _ = raw(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
case("PUT", st, 405)
st, _ = post("x" * 100001)
case("body over --max-body-bytes", st, 413)
st, _ = raw(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
            b"".join(b"%x\r\n%s\r\n" % (50000, b"y" * 50000) for _ in range(3)) + b"0\r\n\r\n")
case("chunked body over --max-body-bytes", st, 413)
st, _ = post("{}", b"X-Big: " + b"h" * 10000 + b"\r\n")
case("headers over --max-header-bytes", st, 431)
# a slow client is dropped after --idle-timeout-s; others are served meanwhile
slow = socket.create_connection((U.hostname, U.port))
slow.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
alive()
time.sleep(4)
slow.settimeout(5)
try:
    case("slow client closed", slow.recv(100), b"")
except ConnectionResetError:
    case("slow client reset", True, True)
slow.close()
# connections beyond --max-connections get 503
idle = [socket.create_connection((U.hostname, U.port)) for _ in range(8)]
time.sleep(0.3)
st, reply = post("{}")
case("over --max-connections", st, 503)
for s in idle:
    s.close()
time.sleep(0.3)

# ---- JSON-RPC envelope ----
rpc_error("not json", -32700, "Parse error")
rpc_error(b'{"jsonrpc":"2.0","id":1,"method":"WorkerLookUp","params":{"a":"\xff"}}', -32700,
          "Parse error")
rpc_error("[" * 100000, -32700, "Parse error")
rpc_error('{"a":' * 70 + "1" + "}" * 70, -32700, "Parse error")
status, reply = post("[1,2]")
case("batch of non-requests", json.loads(reply.partition(b"\r\n\r\n")[2]),
     [{"jsonrpc": "2.0", "id": None,
       "error": {"code": -32600, "message": "Invalid Request: not a JSON-RPC object"}}] * 2)
rpc_error('{"jsonrpc":"2.0","id":3}', -32600, "Invalid Request: method", 3)
rpc_error('{"jsonrpc":"2.0","id":"x","method":7}', -32600, "Invalid Request: method", "x")
rpc_error('{"jsonrpc":"2.0","id":4,"method":"WorkerLookUp","params":[1]}', -32602,
          "Invalid params: params must be an object (by name)", 4)
rpc_error('{"jsonrpc":"2.0","id":4,"method":"WorkerLookUp","params":"x"}', -32600,
          "Invalid Request: params must be an object", 4)
rpc_error('{"jsonrpc":"2.0","id":{"a":1},"method":"Nope","params":{}}', -32600,
          "Invalid Request: id must be a string, a number or null")
rpc_error('{"jsonrpc":"2.0","id":5,"method":"WorkerRegister","params":{"workerId":"aa"}}', 3,
          "Access denied: administrative methods are served only on the admin socket", 5)
rpc_error('{"jsonrpc":"2.0","id":5,"method":"WorkerSetStatus","params":{"workerId":"%s","status":4}}'
          % w.worker_id, 3,
          "Access denied: administrative methods are served only on the admin socket", 5)

# ---- wrong types and values ----
good = new_order(w, "python-hello", ["typed"])


def submit_with(change, field, rid=6):
    p = dict(good.params)
    change(p)
    body = json.dumps({"jsonrpc": "2.0", "id": rid, "method": "WorkOrderSubmit", "params": p})
    rpc_error(body, 2, "Invalid parameter: " + field, rid)


submit_with(lambda p: p.update(workOrderId=12), "workOrderId")
submit_with(lambda p: p.update(workOrderId="zz"), "workOrderId")
submit_with(lambda p: p.update(workerId="00" * 32), "workerId")
submit_with(lambda p: p.update(workloadId="00"), "workloadId")
submit_with(lambda p: p.update(inData="x"), "inData")
submit_with(lambda p: p.update(inData=[]), "inData")
submit_with(lambda p: p.update(inData=[{"index": "0", "data": ""}]), "inData[0].index")
submit_with(lambda p: p.update(encryptedSessionKey="ab" * 100), "encryptedSessionKey")
submit_with(lambda p: p.update(encryptedSessionKey="ab" * 384), "encryptedSessionKey")
submit_with(lambda p: p.update(encryptedRequestHash="ab"), "encryptedRequestHash")
submit_with(lambda p: p.update(sessionKeyIv="abcd"), "sessionKeyIv")
submit_with(lambda p: p.update(payloadFormat="XML"), "payloadFormat")
submit_with(lambda p: p.update(responseTimeoutMSecs=-1), "responseTimeoutMSecs")
submit_with(lambda p: p.pop("requesterNonce"), "requesterNonce")
rpc_error('{"jsonrpc":"2.0","id":8,"method":"WorkOrderGetResult","params":{}}', 2,
          "Invalid parameter: workOrderId", 8)
rpc_error('{"jsonrpc":"2.0","id":8,"method":"WorkOrderGetResult","params":{"workOrderId":1}}', 2,
          "Invalid parameter: workOrderId", 8)
rpc_error('{"jsonrpc":"2.0","id":8,"method":"WorkOrderGetResult","params":{"workOrderId":"%s"}}'
          % ("cd" * 32), 2, "Work order not found", 8, {"workOrderId": "cd" * 32})
rpc_error('{"jsonrpc":"2.0","id":9,"method":"WorkerRetrieve","params":{"workerId":["x"]}}', 2,
          "Invalid parameter: workerId", 9)
rpc_error('{"jsonrpc":"2.0","id":9,"method":"WorkerLookUp","params":{"workerType":"1"}}', 2,
          "Invalid parameter: workerType", 9)

# ---- forged receipts and receipt updates ----
o = new_order(w, "python-hello", ["receipts"])
assert submit(gw, o)["error"]["code"] == 5
assert o.check_result(get_result(gw, o)) == [b"Hello receipts"]
wo = o.params["workOrderId"]
sk = SigningKey.generate(curve=SECP256k1)


def receipt(**over):
    p = {"workOrderId": wo, "workerServiceId": w.worker_id, "workerId": w.worker_id,
         "requesterId": o.params["requesterId"], "receiptCreateStatus": 0,
         "workOrderRequestHash": base64.b64encode(o.rh).decode(),
         "requesterGeneratedNonce": "12345", "signatureRules": "SHA-256/SECP256K1",
         "receiptVerificationKey": sk.get_verifying_key().to_pem().decode()}
    p.update(over)
    text = (p["workOrderId"] + p["workerServiceId"] + p["workerId"] + p["requesterId"] +
            str(p["receiptCreateStatus"]) + p["workOrderRequestHash"] +
            p["requesterGeneratedNonce"])
    signer = over.pop("_signer", sk)
    p.pop("_signer", None)
    p["requesterSignature"] = base64.b64encode(signer.sign_digest(
        hashlib.sha256(text.encode()).digest(), sigencode=sigencode_der)).decode()
    return json.dumps({"jsonrpc": "2.0", "id": 10, "method": "WorkOrderReceiptCreate",
                       "params": p})


rpc_error(receipt(workOrderRequestHash=base64.b64encode(b"\0" * 32).decode()), 2,
          "Work order request hash does not match", 10, {"workOrderId": wo})
rpc_error(receipt(requesterId="ab" * 32), 2, "requesterId does not match the work order", 10,
          {"workOrderId": wo})
rpc_error(receipt(workOrderId="ef" * 32), 2,
          "Work order id does not exist, hence invalid request", 10, {"workOrderId": "ef" * 32})
rpc_error(receipt(_signer=SigningKey.generate(curve=SECP256k1)), 4,
          "Receipt create requester signature does not verify", 10, {"workOrderId": wo})
rpc_error(receipt(receiptCreateStatus=7), 2, "Invalid parameter: receiptCreateStatus", 10)
rpc_error(receipt(signatureRules="MD5/RSA"), 2,
          "Unsupported signatureRules (expected SHA-256/SECP256K1)", 10)
r = gw.call("WorkOrderReceiptRetrieve", {"workOrderId": wo}, 11)
case("no receipt stored by forgeries", r["error"]["code"], 2)
status, reply = post(receipt())
case("genuine receipt", json.loads(reply.partition(b"\r\n\r\n")[2])["error"],
     {"code": 0, "message": "Receipt created successfully"})
rpc_error(receipt(), 2, "Work order receipt already exists. Hence invalid parameter", 10,
          {"workOrderId": wo})


def update(signer, utype=2, data="progress"):
    digest = hashlib.sha256((wo + str(utype) + data).encode()).digest()
    return json.dumps({"jsonrpc": "2.0", "id": 12, "method": "WorkOrderReceiptUpdate", "params": {
        "workOrderId": wo, "updaterId": "ab", "updateType": utype, "updateData": data,
        "updateSignature": base64.b64encode(signer.sign_digest(digest, sigencode=sigencode_der)).decode(),
        "signatureRules": "SHA-256/SECP256K1"}})


rpc_error(update(SigningKey.generate(curve=SECP256k1)), 4,
          "Receipt update signature does not verify with the receipt's key", 12,
          {"workOrderId": wo})
rpc_error(update(sk, utype=9), 2, "Invalid parameter: updateType", 12)
r = gw.call("WorkOrderReceiptUpdateRetrieve",
            {"workOrderId": wo, "updaterId": None, "updateIndex": 1 << 32}, 13)
res = r["result"]
case("only the gateway's completion", (res["updateCount"], res["updateType"]), (1, 1))
# the receipt key may not update after the completion
rpc_error(update(sk), 2, "Receipt update status is set to completed, No further update allowed",
          12, {"workOrderId": wo})
r = gw.call("WorkOrderReceiptUpdateRetrieve",
            {"workOrderId": wo, "updaterId": None, "updateIndex": 2}, 13)
case("no second update", r["error"]["code"], 2)
r = gw.call("WorkOrderReceiptLookUp", {"requesterId": o.params["requesterId"]}, 14)
case("lookup", r["result"], {"totalCount": 1, "lookupTag": "", "ids": [wo]})

alive()
print("%d hostile cases answered exactly; the gateway kept serving" % cases)
