# SPDX-License-Identifier: Apache-2.0
"""spec.py URL WORKER_NAME ADMIN_SOCKET - tcgateway against the JSON-RPC 2.0
envelope rules and the EEA Off-Chain Trusted Compute API 1.1 where Avalon's
listener differs or leaves it open: notifications, batches, id echo, the
jsonrpc member, by-position params, worker lookups (applicationTypeId lists,
paging with lookupTag and totalCount), WorkerRegister's details as JSON text,
receipt update types above 255, the completion update's response hash,
update retrieval by updater, receipt status filters. Every answer is
compared exactly.
"""

import base64
import hashlib
import http.client
import json
import socket
import sys
import time
import urllib.parse

from ecdsa import SECP256k1, SigningKey, VerifyingKey
from ecdsa.util import sigdecode_der, sigencode_der

from gwclient import Gateway, Worker, new_order, submit, get_result
from woclient import items_digest, sha256

URL, NAME, ADMIN = sys.argv[1], sys.argv[2], sys.argv[3]
U = urllib.parse.urlsplit(URL)
gw = Gateway(URL)
w = Worker(gw, NAME)
checks = 0


def check(name, got, want):
    global checks
    assert got == want, "%s:\n got  %r\n want %r" % (name, got, want)
    checks += 1


def http_post(body, path="/", ctype="application/json", conn_class=None):
    """One POST on a fresh connection: (status, content type, body text)."""
    conn = (conn_class or http.client.HTTPConnection)(U.hostname, U.port, timeout=60)
    conn.request("POST", path, body=body if isinstance(body, bytes) else body.encode(),
                 headers={"Content-Type": ctype})
    r = conn.getresponse()
    out = r.status, r.getheader("Content-Type"), r.read().decode()
    conn.close()
    return out


class AdminConnection(http.client.HTTPConnection):
    """HTTP over the admin unix socket."""

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(ADMIN)


def admin(method, params, rid=1):
    st, ctype, text = http_post(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method,
                                            "params": params}), conn_class=AdminConnection)
    assert st == 200 and ctype == "application/json", (st, ctype, text)
    return json.loads(text)


def answer(body, path="/", ctype="application/json"):
    """The parsed JSON-RPC answer to body (HTTP 200, application/json)."""
    st, rtype, text = http_post(body, path, ctype)
    assert st == 200 and rtype == "application/json", (body[:80], st, rtype, text)
    return json.loads(text)


def req(method, params=None, rid=1, **extra):
    r = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        r["params"] = params
    r.update(extra)
    return r


def err(code, message, rid=None, data=None):
    e = {"code": code, "message": message}
    if data is not None:
        e["data"] = data
    return {"jsonrpc": "2.0", "id": rid, "error": e}


ONE = {"totalCount": 1, "lookupTag": "", "ids": [w.worker_id]}

# ---- JSON-RPC 2.0 envelope ----------------------------------------------------------------
# a notification (no "id") is executed and answered with nothing: 204, no body
st, _, text = http_post(json.dumps({"jsonrpc": "2.0", "method": "WorkerLookUp", "params": {}}))
check("notification: 204, no body", (st, text), (204, ""))
st, _, text = http_post('{"jsonrpc":"2.0","method":"NoSuchMethod"}')
check("notification of an unknown method: no error answer", (st, text), (204, ""))
o = new_order(w, "python-hello", ["notified"], sdk=True)
st, _, text = http_post(json.dumps({"jsonrpc": "2.0", "method": "WorkOrderSubmit",
                                    "params": o.params}))
check("WorkOrderSubmit as a notification", (st, text), (204, ""))
check("... the order was stored and ran", o.check_result(get_result(gw, o)), [b"Hello notified"])
# errors found before the id is known are answered, with id null
check("invalid request without id", answer('{"jsonrpc":"2.0","method":1}'),
      err(-32600, "Invalid Request: method"))
check("jsonrpc 1.0", answer(json.dumps(req("WorkerLookUp", {}, 3, jsonrpc="1.0"))),
      err(-32600, 'Invalid Request: jsonrpc must be "2.0"', 3))
check("jsonrpc missing", answer('{"id":"k","method":"WorkerLookUp","params":{}}'),
      err(-32600, 'Invalid Request: jsonrpc must be "2.0"', "k"))
# ids: strings, numbers (also fractional) and null are echoed as sent
for raw_id, want in (('"a-b"', '"a-b"'), ("1.5", "1.5"), ("-7", "-7"), ("null", "null"),
                     ("12345678901234567", "12345678901234567")):
    st, _, text = http_post('{"jsonrpc":"2.0","id":%s,"method":"WorkerLookUp","params":{}}' % raw_id)
    check("id %s echoed" % raw_id, (st, text),
          (200, '{"jsonrpc":"2.0","id":%s,"result":%s}' % (want, json.dumps(ONE, separators=(",", ":")))))
for bad_id in ("true", "[1]", '{"a":1}'):
    check("id %s refused" % bad_id,
          answer('{"jsonrpc":"2.0","id":%s,"method":"WorkerLookUp","params":{}}' % bad_id),
          err(-32600, "Invalid Request: id must be a string, a number or null"))
# params: by name only; omitted = none
check("by-position params", answer(json.dumps(req("WorkerLookUp", [1], 4))),
      err(-32602, "Invalid params: params must be an object (by name)", 4))
check("params omitted", answer(json.dumps(req("WorkerLookUp", None, 5))),
      {"jsonrpc": "2.0", "id": 5, "result": ONE})
# batches: one answer per request that is not a notification, in order
batch = [req("WorkerLookUp", {}, 1), {"jsonrpc": "2.0", "method": "WorkerLookUp"},
         req("NoSuchMethod", {}, 2), 7, req("WorkerLookUp", {"workerType": 3}, "z")]
check("batch", answer(json.dumps(batch)), [
    {"jsonrpc": "2.0", "id": 1, "result": ONE},
    err(-32601, "Method not found", 2),
    err(-32600, "Invalid Request: not a JSON-RPC object"),
    {"jsonrpc": "2.0", "id": "z", "result": {"totalCount": 0, "lookupTag": "", "ids": []}}])
st, _, text = http_post(json.dumps([{"jsonrpc": "2.0", "method": "WorkerLookUp"}] * 3))
check("batch of notifications: 204", (st, text), (204, ""))
check("empty batch", answer("[]"), err(-32600, "Invalid Request: empty batch"))
check("batch over 100", answer(json.dumps([req("WorkerLookUp", {}, i) for i in range(101)])),
      err(-32600, "Invalid Request: a batch holds at most 100 requests"))
check("admin method in a batch over HTTP",
      answer(json.dumps([req("WorkerSetStatus", {"workerId": w.worker_id, "status": 4}, 8)])),
      [err(3, "Access denied: administrative methods are served only on the admin socket", 8)])
# like Avalon's listener: any path, any request content type; the answer is application/json
check("other path and content type",
      answer(json.dumps(req("WorkerLookUp", {}, 6)), "/any/path", "text/plain"),
      {"jsonrpc": "2.0", "id": 6, "result": ONE})

# ---- worker registry ----------------------------------------------------------------------
APPS = ["a1" * 16, "b2" * 16]
details = json.dumps({"workOrderSyncUri": "http://worker-order:8008".encode().hex()})
r = admin("WorkerRegister", {"workerId": "5e" * 32, "workerType": 1, "organizationId": "0f" * 4,
                             "applicationTypeId": APPS, "details": details}, 12)
check("WorkerRegister with details as JSON text", r,
      {"jsonrpc": "2.0", "id": 12, "error": {"code": 0, "message": "Successfully Registered"}})
r = gw.call("WorkerRetrieve", {"workerId": "5e" * 32}, 13)
check("... retrieved as an object", r["result"],
      {"workerType": 1, "organizationId": "0f" * 4, "applicationTypeId": APPS,
       "details": json.loads(details), "status": 1})
for field, value in (("workerType", 4), ("workerType", "1"), ("applicationTypeId", 5),
                     ("applicationTypeId", [1]), ("organizationId", 5), ("details", "[1]"),
                     ("details", "not json")):
    p = {"workerId": "6e" * 32, "workerType": 1, "details": {}}
    p[field] = value
    check("WorkerRegister %s=%r" % (field, value), admin("WorkerRegister", p, 14),
          err(2, "Invalid parameter: " + field, 14))
for apps, ids in ((APPS, ["5e" * 32]), (APPS[1], ["5e" * 32]), ([APPS[0], "cc"], []),
                  ([], ["5e" * 32])):
    r = gw.call("WorkerLookUp", {"workerType": 1, "organizationId": "0f" * 4,
                                 "applicationTypeId": apps}, 15)
    check("WorkerLookUp applicationTypeId=%r" % (apps,), r["result"],
          {"totalCount": len(ids), "lookupTag": "", "ids": ids})
check("WorkerLookUp applicationTypeId=7",
      gw.call("WorkerLookUp", {"applicationTypeId": 7}, 16),
      err(2, "Invalid parameter: applicationTypeId", 16))
check("WorkerLookUpNext after the empty tag of a complete answer",
      gw.call("WorkerLookUpNext", {"lookupTag": ""}, 17)["result"],
      {"totalCount": 0, "lookupTag": "", "ids": []})
check("EncryptionKeyGet of a worker without keys",
      gw.call("EncryptionKeyGet", {"workerId": "5e" * 32}, 20),
      err(2, "This worker has no encryption key", 20))
check("EncryptionKeyGet of an unknown worker", gw.call("EncryptionKeyGet", {"workerId": "00"}, 21),
      err(2, "Worker Id not found in the database. Hence invalid parameter", 21))
check("EncryptionKeySet", gw.call("EncryptionKeySet", {"workerId": w.worker_id,
                                                       "encryptionKey": "x"}, 22),
      err(2, "Operation is not supported: a worker's keys come only from its own signup", 22))
# paging: 1001 workers; 1000 per answer, lookupTag set while more remain
page = ["%064x" % (0x7a << 248 | i) for i in range(1001)]
for i in range(0, len(page), 100):
    st, _, text = http_post(json.dumps([
        {"jsonrpc": "2.0", "method": "WorkerRegister",
         "params": {"workerId": wid, "workerType": 2, "organizationId": "pg", "details": {}}}
        for wid in page[i:i + 100]]), conn_class=AdminConnection)
    assert (st, text) == (204, ""), (st, text)
r = gw.call("WorkerLookUp", {"organizationId": "pg"}, 18)["result"]
check("first page", (r["totalCount"], r["ids"], r["lookupTag"]), (1001, page[:1000], page[999]))
for key in ("lookupTag", "lookUpTag"):  # the spec's name and Avalon's SDK's
    r = gw.call("WorkerLookUpNext", {"organizationId": "pg", key: page[999]}, 19)["result"]
    check("next page (%s)" % key, r, {"totalCount": 1, "lookupTag": "", "ids": page[1000:]})

# no long poll (the gateway runs with --result-wait-ms 30000) in a batch, whose calls run in
# turn, or for a notification: an order for 5e.. (no dispatcher) stays pending
stuck = new_order(w, "python-hello", ["stuck"])
stuck.params["workerId"] = "5e" * 32
stuck.reseal()
check("order for an unattached worker", submit(gw, stuck)["error"]["code"], 5)
t0 = time.monotonic()
r = answer(json.dumps([req("WorkOrderGetResult", {"workOrderId": stuck.params["workOrderId"]}, 9)]))
check("pending at once in a batch", [x["error"]["code"] for x in r], [5])
st, _, text = http_post(json.dumps({"jsonrpc": "2.0", "method": "WorkOrderGetResult",
                                    "params": {"workOrderId": stuck.params["workOrderId"]}}))
check("GetResult notification", (st, text), (204, ""))
check("no long poll (%.1f s)" % (time.monotonic() - t0), time.monotonic() - t0 < 10, True)

# ---- receipts -----------------------------------------------------------------------------
sk = SigningKey.generate(curve=SECP256k1)
pem = sk.get_verifying_key().to_pem().decode()


def create_receipt(order, request_hash):
    p = {"workOrderId": order.params["workOrderId"], "workerServiceId": w.worker_id,
         "workerId": w.worker_id, "requesterId": order.params["requesterId"],
         "receiptCreateStatus": 0, "workOrderRequestHash": request_hash,
         "requesterGeneratedNonce": "77", "signatureRules": "SHA-256/SECP256K1",
         "receiptVerificationKey": pem}
    text = "".join(p[k] if k != "receiptCreateStatus" else "0" for k in
                   ("workOrderId", "workerServiceId", "workerId", "requesterId",
                    "receiptCreateStatus", "workOrderRequestHash", "requesterGeneratedNonce"))
    p["requesterSignature"] = base64.b64encode(
        sk.sign_digest(sha256(text.encode()), sigencode=sigencode_der)).decode()
    return gw.call("WorkOrderReceiptCreate", p, 20)


o = new_order(w, "python-hello", ["receipt"], sdk=True)
submit(gw, o)
res = get_result(gw, o)
check("order", o.check_result(res), [b"Hello receipt"])
wo, res = o.params["workOrderId"], res["result"]
check("receipt created (request hash in base64)",
      create_receipt(o, base64.b64encode(o.rh).decode())["error"],
      {"code": 0, "message": "Receipt created successfully"})
o2 = new_order(w, "python-hello", ["receipt 2"])
submit(gw, o2)
check("wrong hex request hash", create_receipt(o2, sha256(b"x").hex())["error"],
      {"code": 2, "message": "Work order request hash does not match",
       "data": {"workOrderId": o2.params["workOrderId"]}})
check("receipt created (request hash in hex)", create_receipt(o2, o2.rh.hex().upper())["error"],
      {"code": 0, "message": "Receipt created successfully"})
# the completion update: COMPLETED, updateData = the response hash workerSignature covers (hex
# in uppercase, as Avalon's SDK writes it)
r1 = sha256((res["workerNonce"] + res["workOrderId"] + res["workerId"] + res["workloadId"] +
             res["requesterId"]).encode())
response_hash = sha256(r1 + items_digest(res["outData"])).hex().upper()
c = gw.call("WorkOrderReceiptUpdateRetrieve",
            {"workOrderId": wo, "updaterId": None, "updateIndex": 0xFFFFFFFF}, 21)["result"]
check("completion update", (c["updateType"], c["updateData"], c["workerSignature"],
                            c["updateIndex"], c["updateCount"]),
      (1, response_hash, res["workerSignature"], 1, 1))
gateway_key = VerifyingKey.from_pem(c["receiptVerificationKey"])
gateway_key.verify_digest(base64.b64decode(c["updateSignature"]),
                          sha256((wo + "1" + c["updateData"]).encode()), sigdecode=sigdecode_der)
w.vk.verify_digest(base64.b64decode(c["workerSignature"]), bytes.fromhex(c["updateData"]),
                   sigdecode=sigdecode_der)
check("gateway updaterId", c["updaterId"], hashlib.sha256(c["receiptVerificationKey"].encode()).hexdigest())


def update(utype, data, updater="ab" * 32):
    u = {"workOrderId": wo, "updateType": utype, "updateData": data,
         "updateSignature": base64.b64encode(sk.sign_digest(
             sha256((wo + str(utype) + data).encode()), sigencode=sigencode_der)).decode(),
         "signatureRules": "SHA-256/SECP256K1"}
    if updater is not None:
        u["updaterId"] = updater
    return gw.call("WorkOrderReceiptUpdate", u, 22)


# after COMPLETED: application updates (type > 255) are kept, status updates are not
check("status update after COMPLETED", update(2, "again"),
      err(2, "Receipt update status is set to completed, No further update allowed", 22,
          {"workOrderId": wo}))
check("application update (1000) after COMPLETED", update(1000, "ack")["error"],
      {"code": 0, "message": "Receipt updated successfully"})
check("updaterId is optional", update(1001, "ack 2", updater=None)["error"],
      {"code": 0, "message": "Receipt updated successfully"})
r = gw.call("WorkOrderReceiptRetrieve", {"workOrderId": wo}, 23)["result"]
check("status unchanged by application updates", (r["receiptCreateStatus"],
                                                  r["receiptCurrentStatus"]), (0, 1))


def upd(updater, index):
    r = gw.call("WorkOrderReceiptUpdateRetrieve",
                {"workOrderId": wo, "updaterId": updater, "updateIndex": index}, 24)
    if "error" in r:
        return r["error"]["message"]
    r = r["result"]
    return r["updateType"], r["updateData"], r["updaterId"], r["updateIndex"], r["updateCount"]


key_id = hashlib.sha256(pem.encode()).hexdigest()
check("any updater, index 2", upd(None, 2), (1000, "ack", "ab" * 32, 2, 3))
check("any updater, last", upd("", 1 << 32), (1001, "ack 2", key_id, 3, 3))
check("updater ab.., its first", upd("ab" * 32, 1), (1000, "ack", "ab" * 32, 1, 1))
check("updater ab.., its last", upd("ab" * 32, 0xFFFFFFFF), (1000, "ack", "ab" * 32, 1, 1))
check("updater ab.., its second", upd("ab" * 32, 2),
      "No such update by this updater to this receipt")
check("gateway's updates", upd(c["updaterId"], 1), (1, response_hash, c["updaterId"], 1, 1))
check("unknown updater", upd("cd" * 32, 1), "No such update by this updater to this receipt")
check("index 0", upd(None, 0), "No such update to this receipt")
# lookups: receiptStatus as a number or a string holding one; 255 = any
for status, ids in ((1, [wo]), ("1", [wo]), ("0x1", [wo]), (0, []), (255, [wo]), ("255", [wo])):
    r = gw.call("WorkOrderReceiptLookUp", {"requesterId": o.params["requesterId"],
                                           "receiptStatus": status}, 25)
    check("receipt lookup status %r" % (status,), r["result"],
          {"totalCount": len(ids), "lookupTag": "", "ids": ids})
r = gw.call("WorkOrderReceiptLookUp", {"requestCreateStatus": 1,
                                       "requesterId": o.params["requesterId"]}, 25)
check("receipt lookup requestCreateStatus (Avalon's SDK)", r["result"]["ids"], [wo])
for bad in ("x", "1x", -1, "-1", 1.5):
    check("receipt lookup status %r" % (bad,),
          gw.call("WorkOrderReceiptLookUp", {"receiptStatus": bad}, 26),
          err(2, "Invalid parameter: receiptStatus", 26))
check("receipt lookup next after the empty tag",
      gw.call("WorkOrderReceiptLookUpNext", {"lastLookUpTag": ""}, 27)["result"],
      {"totalCount": 0, "lookupTag": "", "ids": []})

gw.close()
print("%d conformance checks passed" % checks)
