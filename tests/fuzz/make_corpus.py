#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""make_corpus.py - writes the seed corpus of the fuzz targets into
tests/fuzz/corpus/<target>/ from the request vectors in tests/data and
hand-made inputs. Deterministic: rerunning it rewrites the same files (named
by the SHA-1 of their content, like libFuzzer's own corpus files); files
that are not seeds (saved crash reproducers, crash-*) are left alone.

Usage: tests/fuzz/make_corpus.py
"""

import base64
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
CORPUS = os.path.join(HERE, "corpus")
SEP = b"\xde\xad"


def write_all(target, inputs):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    for name in os.listdir(d):
        if name.startswith("seed-"):
            os.remove(os.path.join(d, name))
    for data in inputs:
        if isinstance(data, str):
            data = data.encode("utf-8")
        name = "seed-" + hashlib.sha1(data).hexdigest()
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print("%s: %d seeds" % (target, len(inputs)))


def envelope(params, method="ProcessWorkOrder", inner_id="1", as_string=True):
    inner = {"jsonrpc": "2.0", "method": "WorkOrderSubmit", "id": inner_id,
             "params": params}
    return json.dumps({"jsonrpc": "2.0", "id": 42, "method": method,
                       "params": json.dumps(inner) if as_string else inner})


def frame_seeds():
    vectors = json.load(open(os.path.join(DATA, "workorders.json")))
    out = ['{"jsonrpc": "2.0", "id": 1, "method": "ProcessWorkerSignup", "params": null}']
    for v in vectors["requests"]:
        p = v["request_params"]
        out.append(envelope(p))
        # In libFuzzer builds a modulus-sized "tcw-fuzz" || key || zeros
        # is taken as the raw key (lib/keys.c), so this variant reaches the
        # workload without RSA.
        size = 256  # the fuzz worker key is keys.json's RSA-2048 key
        raw_key = b"tcw-fuzz" + bytes.fromhex(v["session_key_hex"])
        raw = dict(p, encryptedSessionKey=raw_key.ljust(size, b"\0").hex())
        out.append(envelope(raw))
        out.append(envelope(raw, inner_id=7, as_string=False))
    p = vectors["requests"][0]["request_params"]
    broken = [
        "", " ", "{}", "[]", "null", "1", '"x"', "{", '{"method":1,"params":2}',
        '{"method":"ProcessWorkOrder"}', '{"method":"Nope","params":null}',
        '{"method":"ProcessWorkOrder","params":5}',
        '{"method":"ProcessWorkOrder","params":"[1]"}',
        '{"method":"ProcessWorkOrder","params":"{\\"id\\":3,\\"method\\":\\"X\\"}"}',
        '{"method":"ProcessWorkOrder","params":"{\\"id\\":3}"}',
        '{"method":"ProcessWorkOrder","params":"{\\"params\\":{}}"}',
        "[" * 100 + "]" * 100, '{"a":' * 70 + "1" + "}" * 70,
        '{"method":"ProcessWorkerSignup","params":null} x',
        '{"method":"ProcessWorkerSignup","params":NaN}',
        '{"method":"Process\\u0000WorkerSignup","params":null}',
        envelope(dict(p, inData=[])), envelope(dict(p, inData={})),
        envelope(dict(p, workOrderId="xyz")), envelope(dict(p, sessionKeyIv="00")),
        envelope(dict(p, payloadFormat="XML")), envelope(dict(p, index=1.5)),
        envelope(dict(p, inData=[dict(p["inData"][0], index=-3, iv="zz")])),
        envelope(dict(p, inData=[dict(p["inData"][0], data="!!!")])),
        envelope(dict(p, inData=[dict(p["inData"][0], encryptedDataEncryptionKey="-")])),
        envelope(dict(p, requesterSignature="AAAA")),
        envelope(dict(p, outData=[{"index": 0, "encryptedDataEncryptionKey": "-"}])),
    ]
    out += broken
    out.append(b'{"method":"ProcessWorkerSignup","params":"\xff\xfe"}')
    out.append(b'{"method":"ProcessWorkerSignup","params":"\xc0\xaf"}')
    out.append(b'{"method":"ProcessWorkerSignup","params":"\xed\xa0\x80"}')
    return out


def item(ctl, index, plain=b""):
    return bytes([ctl, index]) + plain


def wo(flags, wl, items, wo_id=b"\x01\x02\x03", nonce=b"nonce", name=b""):
    return bytes([flags, wl]) + SEP.join([wo_id, nonce, name] + items)


def workorder_seeds():
    out = []
    # every key mode as inData, with and without dataHash, and as template
    for mode in range(8):
        out.append(wo(0, 0, [item(mode, 0, b"alpha")]))
        out.append(wo(0, 0, [item(mode | 0x10, 0, b"beta"), item(mode | 0x08, 3)]))
        out.append(wo(0x01, 1, [item(mode, 1, b"gamma"), item(0, 0, b"delta")]))
    # each request flag on its own, then a few combinations
    for flag in range(8):
        out.append(wo(1 << flag, 0, [item(0, 0, b"Krsna"), item(4 | 0x08, 0)]))
    out.append(wo(0x02 | 0x40, 4, [item(2, 0, b"Rama")]))
    out.append(wo(0x02 | 0x04, 4, [item(2, 0, b"Rama")]))
    out.append(wo(0x81, 0, [item(6, 5, b"x"), item(5, 2, b"y"), item(6 | 0x08, 9)]))
    # workloads: echo, concat, none, fail, hello, fib, named, echo
    for wl in range(8):
        out.append(wo(0, wl, [item(0, 0, b"15"), item(3, 1, b"plain")], name=b"echo"))
    out.append(wo(0, 5, [item(4, 0, b"90")]))
    out.append(wo(0, 5, [item(0, 0, b"99999999999999999999")]))
    out.append(wo(0, 6, [item(0, 0, b"x")], name=b"no-such-workload"))
    # integrity failures: wrong dataHash, flipped ciphertext, empty data
    out.append(wo(0, 0, [item(0x20, 0, b"tampered")]))
    out.append(wo(0, 0, [item(0x40 | 4, 0, b"tampered")]))
    out.append(wo(0, 0, [item(0x80 | 4, 0, b"ignored"), item(0x90, 1)]))
    # many items, many templates, unsorted indices
    out.append(wo(0, 0, [item(i % 8, 20 - i, bytes([65 + i])) for i in range(20)]))
    out.append(wo(0, 0, [item(0, 0, b"a")] + [item(0x08 | (i % 8), i) for i in range(10)]))
    return out


def codec_seeds():
    vectors = json.load(open(os.path.join(DATA, "workorders.json")))
    out = ["", "00", "0x", "0xAbCd", "0X00ff", "abc", "zz", "Zm9v", "Zm8=", "Zg==",
           "Zh==", "Zm9=", "====", "A===", "AB=C", "Zm9vYmFy", "Zm9vYg", "+/+/",
           "-_-_", "Zm 9v", "\u00e9t\u00e9", "\U0001f600"]
    out += [b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe0\x80\x80",
            b"\xf0\x80\x80\x80", b"\xef\xbf\xbf", b"\xf4\x8f\xbf\xbf", b"\xc2", bytes(range(256))]
    p = vectors["requests"][0]["request_params"]
    out += [p["encryptedRequestHash"], p["inData"][0]["data"], p["workOrderId"].upper()]
    out.append(base64.b64encode(bytes(range(100))).decode())
    # JSON texts for the simdjson/json-c comparison (512 bytes and up take
    # the fast path)
    out += [f for f in frame_seeds() if isinstance(f, str) and f.startswith("{")][:12]
    out += ['{"a":"' + "x" * 600 + '","b":[1,2.5,-0.0,1e3,"\\u00e9"],"c":null}',
            '[' + ",".join(["1.0"] * 200) + ']', '"' + "\\ud83d\\ude00" * 60 + '"']
    return out


# fuzz_gateway (fuzz_gateway.c): the body of one HTTP request to tcgateway;
# a leading "@" sends it over the admin socket. The template store holds
# the vectors' worker (SIGNUP), an admin-registered one (ADMIN) and two
# final orders of SIGNUP with the request hash FINAL_RH: DONE (the result of
# the response vector hello_result) and FAILED.
SIGNUP = "6beafc7f045eef7a93d80ffe02b4cb98aeb7cc18609e369acdd4a3fd670dbad4"
DONE = "43d930dd073379dcecfd040377ec0221940ba2e28213472822fc3bea9e71ccbd"
FAILED = "fa11ed" * 10 + "fa11"
FINAL_RH = "d0" * 32
ADMIN = "5e" * 32
RULES = "SHA-256/SECP256K1"


def rpc(method, params=None, rid=1, admin=False):
    r = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        r["params"] = params
    return ("@" if admin else "") + json.dumps(r)


def call(method, params, rid=1):
    return {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}


def gateway_seeds():
    # the receipt signatures need secp256k1 (Debian's python3-ecdsa; run
    # this script with /usr/bin/python3)
    from ecdsa import SECP256k1, SigningKey
    from ecdsa.util import sigencode_der

    keys = json.load(open(os.path.join(DATA, "keys.json")))
    sk = SigningKey.from_string(bytes.fromhex(keys["requester_ecdsa_private_hex"]),
                                curve=SECP256k1)
    pem = sk.get_verifying_key().to_pem().decode()

    def sign(text):
        digest = hashlib.sha256(text.encode()).digest()
        return base64.b64encode(sk.sign_digest_deterministic(
            digest, hashfunc=hashlib.sha256, sigencode=sigencode_der)).decode()

    def receipt_create(v, rh, status=0):
        p = v["request_params"] if "request_params" in v else v
        c = {"workOrderId": p["workOrderId"], "workerServiceId": SIGNUP, "workerId": SIGNUP,
             "requesterId": p["requesterId"], "receiptCreateStatus": status,
             "workOrderRequestHash": rh, "requesterGeneratedNonce": "77",
             "signatureRules": RULES, "receiptVerificationKey": pem}
        c["requesterSignature"] = sign("".join(str(c[k]) for k in (
            "workOrderId", "workerServiceId", "workerId", "requesterId", "receiptCreateStatus",
            "workOrderRequestHash", "requesterGeneratedNonce")))
        return c

    def receipt_update(wo_id, utype, data, updater="ab" * 32):
        u = {"workOrderId": wo_id, "updateType": utype, "updateData": data,
             "updateSignature": sign(wo_id + str(utype) + data), "signatureRules": RULES}
        if updater is not None:
            u["updaterId"] = updater
        return u

    vectors = json.load(open(os.path.join(DATA, "workorders.json")))["requests"]
    out = []
    # ---- the envelope (JSON-RPC 2.0) ----
    out += ["", " ", "{}", "[]", "null", "1", '"x"', "{", "[1]", "[{}]", "{\"jsonrpc\":\"2.0\"}",
            '{"jsonrpc":"2.0","method":1}', '{"jsonrpc":"2.0","id":1,"method":"Nope"}',
            '{"jsonrpc":"2.0","method":"NoSuchMethod"}',
            '{"jsonrpc":"1.0","id":2,"method":"WorkerLookUp","params":{}}',
            '{"id":"k","method":"WorkerLookUp","params":{}}',
            '{"jsonrpc":"2.0","id":3,"method":"WorkerLookUp","params":[1]}',
            '{"jsonrpc":"2.0","id":3,"method":"WorkerLookUp","params":5}',
            '{"jsonrpc":"2.0","id":3,"method":"WorkerLookUp","params":null}',
            '{"jsonrpc":"2.0","id":3,"method":"WorkerLookUp","params":{}} \r\n',
            '{"jsonrpc":"2.0","id":3,"method":"WorkerLookUp","params":{}} x',
            '{"jsonrpc":"2.0","id":3,"id":4,"method":"WorkerLookUp"}',
            '{"jsonrpc":"2.0","id":"\\u00e9\\ud83d\\ude00","method":"WorkerLookUp"}',
            '{"jsonrpc":"2.0","id":"\\u0000","method":"WorkerLookUp"}',
            '{"jsonrpc":"2.0","id":"a\\u0000b","method":"WorkerRetrieve",'
            '"params":{"workerId":"a\\u0000b"}}',
            '{"jsonrpc":"2.0","method":"Worker\\u0000LookUp","id":1}',
            "[" * 70 + "]" * 70, '{"a":' * 70 + "1" + "}" * 70]
    for rid in ("1.5", "-0", "1e400", "12345678901234567890", '""', "null", "true", "[1]",
                "{}", "-9223372036854775808"):
        out.append('{"jsonrpc":"2.0","id":%s,"method":"WorkerLookUp","params":{}}' % rid)
    out += [b'{"jsonrpc":"2.0","id":"\xff","method":"WorkerLookUp"}',
            b'{"jsonrpc":"2.0","id":"\xc0\xaf","method":"WorkerLookUp"}',
            b'{"jsonrpc":"2.0","id":"\xed\xa0\x80","method":"WorkerLookUp"}',
            b'{"jsonrpc":"2.0","id":1,"method":"WorkerLookUp"}\x00']
    # batches: mixed, notifications only, too many, admin over HTTP and the admin socket
    out.append(json.dumps([call("WorkerLookUp", {}, 1), {"jsonrpc": "2.0", "method": "WorkerLookUp"},
                           5, {"jsonrpc": "2.0", "id": [1], "method": "X"},
                           call("WorkerRetrieve", {"workerId": ADMIN}, "r")]))
    out.append(json.dumps([{"jsonrpc": "2.0", "method": "WorkerLookUp"}] * 3))
    out.append(json.dumps([call("WorkerLookUp", {}, i) for i in range(101)]))
    out.append(json.dumps([call("WorkerSetStatus", {"workerId": ADMIN, "status": 2}, 8)]))
    out.append("@" + json.dumps([call("WorkerSetStatus", {"workerId": ADMIN, "status": 2}, 8),
                                 call("WorkerRetrieve", {"workerId": ADMIN}, 9)]))
    # ---- the worker registry ----
    for wid in (SIGNUP, ADMIN, "00", "", 5, None, "x" * 300):
        out.append(rpc("WorkerRetrieve", {"workerId": wid}))
        out.append(rpc("EncryptionKeyGet", {"workerId": wid}))
    out.append(rpc("WorkerRetrieve"))
    out.append(rpc("EncryptionKeySet", {"workerId": SIGNUP, "encryptionKey": "x"}))
    for p in ({}, {"workerType": 1}, {"workerType": "1"}, {"organizationId": "0f0f0f0f"},
              {"applicationTypeId": "a1a1"}, {"applicationTypeId": ["a1a1", "cc"]},
              {"applicationTypeId": []}, {"applicationTypeId": 7}, {"applicationTypeId": [1]},
              {"workerType": 1, "organizationId": "0f0f0f0f", "applicationTypeId": ["b2b2"]}):
        out.append(rpc("WorkerLookUp", p))
    for p in ({"lookupTag": ""}, {"lookUpTag": ADMIN}, {"lookupTag": "00"}, {},
              {"lookupTag": 3}, {"workerType": 1, "lookupTag": "00"}):
        out.append(rpc("WorkerLookUpNext", p))
    reg = {"workerId": "6e" * 32, "workerType": 1, "organizationId": "0f" * 4,
           "applicationTypeId": ["a1" * 16, "b2" * 16],
           "details": json.dumps({"workOrderSyncUri": "http://worker-order:8008".encode().hex()})}
    out.append(rpc("WorkerRegister", reg, 12, admin=True))
    out.append(rpc("WorkerRegister", reg, 12))
    for field, value in (("workerType", 4), ("workerType", "1"), ("applicationTypeId", 5),
                         ("applicationTypeId", [1]), ("organizationId", 5),
                         ("details", "[1]"), ("details", "not json"), ("details", {}),
                         ("workerId", ADMIN), ("workerId", SIGNUP)):
        out.append(rpc("WorkerRegister", dict(reg, **{field: value}), 14, admin=True))
    for p in ({"workerId": ADMIN, "workerType": 2, "organizationId": "aa", "details": {"x": 1}},
              {"workerId": ADMIN, "workerType": 1, "details": "{\"y\":2}"},
              {"workerId": SIGNUP, "workerType": 1, "details": {}},
              {"workerId": "00", "workerType": 1, "details": {}},
              {"workerId": ADMIN, "workerType": 9}):
        out.append(rpc("WorkerUpdate", p, 15, admin=True))
    for wid, status in ((ADMIN, 1), (ADMIN, 2), (ADMIN, 3), (ADMIN, 4), (ADMIN, 5), (ADMIN, 0),
                        (SIGNUP, 2), ("00", 1), (ADMIN, "2")):
        out.append(rpc("WorkerSetStatus", {"workerId": wid, "status": status}, 16, admin=True))
    # ---- orders: every request vector, for its worker and for others ----
    for v in vectors:
        p = v["request_params"]
        out.append(rpc("WorkOrderSubmit", p, 20))
        out.append(json.dumps([call("WorkOrderSubmit", p, 21),
                               call("WorkOrderSubmit", p, 22),
                               call("WorkOrderGetResult", {"workOrderId": p["workOrderId"]}, 23)]))
    p = vectors[0]["request_params"]
    for change in ({"workerId": ADMIN}, {"workerId": "00"}, {"workOrderId": "xyz"},
                   {"encryptedSessionKey": "00" * 384}, {"inData": []}, {"sessionKeyIv": "00"},
                   {"requesterSignature": "AAAA"}, {"payloadFormat": "XML"},
                   {"outData": [{"index": 0, "encryptedDataEncryptionKey": "-"}]},
                   {"resultUri": "x", "notifyUri": "y", "workerEncryptionKey": "z"}):
        out.append(rpc("WorkOrderSubmit", dict(p, **change), 24))
    del_params = dict(p)
    del del_params["requesterId"]
    out.append(rpc("WorkOrderSubmit", del_params, 25))
    out.append('{"jsonrpc":"2.0","method":"WorkOrderSubmit","params":%s}' % json.dumps(p))
    out.append("@" + json.dumps([call("WorkerSetStatus", {"workerId": ADMIN, "status": 3}, 1),
                                 call("WorkOrderSubmit", dict(p, workerId=ADMIN), 2)]))
    for wid in (p["workOrderId"], "00", "", 5):
        out.append(rpc("WorkOrderGetResult", {"workOrderId": wid}, 26))
    out.append('{"jsonrpc":"2.0","method":"WorkOrderGetResult","params":{"workOrderId":"00"}}')
    # ---- receipts: create, update, retrieve and look up after a submit ----
    for v in vectors[:3]:
        p = v["request_params"]
        rh = v["expected_request_hash_hex"]
        wo_id = p["workOrderId"]
        rh_b64 = base64.b64encode(bytes.fromhex(rh)).decode()
        out.append(json.dumps([
            call("WorkOrderSubmit", p, 1),
            call("WorkOrderReceiptCreate", receipt_create(v, rh_b64), 2),
            call("WorkOrderReceiptUpdate", receipt_update(wo_id, 2, "processing"), 3),
            call("WorkOrderReceiptUpdate", receipt_update(wo_id, 1000, "ack", None), 4),
            call("WorkOrderReceiptUpdate", receipt_update(wo_id, 1, "done"), 5),
            call("WorkOrderReceiptUpdate", receipt_update(wo_id, 2, "again"), 6),
            call("WorkOrderReceiptRetrieve", {"workOrderId": wo_id}, 7),
            call("WorkOrderReceiptUpdateRetrieve",
                 {"workOrderId": wo_id, "updaterId": None, "updateIndex": 0xFFFFFFFF}, 8),
            call("WorkOrderReceiptUpdateRetrieve",
                 {"workOrderId": wo_id, "updaterId": "ab" * 32, "updateIndex": 1}, 9),
            call("WorkOrderReceiptUpdateRetrieve",
                 {"workOrderId": wo_id, "updaterId": "", "updateIndex": 2}, 10),
            call("WorkOrderReceiptUpdateRetrieve",
                 {"workOrderId": wo_id, "updaterId": "cd" * 32, "updateIndex": 0}, 11),
            call("WorkOrderReceiptLookUp", {"requesterId": p["requesterId"], "receiptStatus": 1},
                 12),
            call("WorkOrderReceiptLookUp", {"workerServiceId": SIGNUP, "workerId": SIGNUP,
                                            "receiptStatus": "0x2"}, 13),
            call("WorkOrderReceiptLookUpNext", {"lastLookUpTag": ""}, 14),
            call("WorkOrderGetResult", {"workOrderId": wo_id}, 15)]))
        out.append(json.dumps([
            call("WorkOrderSubmit", p, 1),
            call("WorkOrderReceiptCreate", receipt_create(v, rh.upper()), 2),
            call("WorkOrderReceiptCreate", receipt_create(v, rh), 3),
            call("WorkOrderReceiptCreate", receipt_create(v, rh, 7), 4),
            call("WorkOrderReceiptCreate", dict(receipt_create(v, rh), requesterId="x"), 5)]))
    v = vectors[0]
    wo_id = v["request_params"]["workOrderId"]
    good = receipt_create(v, v["expected_request_hash_hex"])
    out.append(rpc("WorkOrderReceiptCreate", good, 30))
    for change in ({"workOrderRequestHash": hashlib.sha256(b"x").hexdigest()},
                   {"requesterSignature": "AAAA"}, {"signatureRules": "SHA-1/RSA"},
                   {"receiptVerificationKey": "not a key"}, {"workerId": ADMIN},
                   {"receiptCreateStatus": "0"}):
        out.append(json.dumps([call("WorkOrderSubmit", v["request_params"], 1),
                               call("WorkOrderReceiptCreate", dict(good, **change), 2)]))
    # the final orders: results, receipts with the gateway's completion update
    for fid in (DONE, FAILED):
        final = {"workOrderId": fid, "requesterId": v["request_params"]["requesterId"]}
        rh_b64 = base64.b64encode(bytes.fromhex(FINAL_RH)).decode()
        out.append(rpc("WorkOrderGetResult", {"workOrderId": fid}, 40))
        out.append(json.dumps([
            call("WorkOrderReceiptCreate", receipt_create(final, rh_b64), 1),
            call("WorkOrderReceiptRetrieve", {"workOrderId": fid}, 2),
            call("WorkOrderReceiptUpdateRetrieve",
                 {"workOrderId": fid, "updaterId": None, "updateIndex": 1}, 3),
            call("WorkOrderReceiptUpdate", receipt_update(fid, 3, "late"), 4),
            call("WorkOrderReceiptUpdate", receipt_update(fid, 300, "app"), 5),
            call("WorkOrderReceiptUpdateRetrieve",
                 {"workOrderId": fid, "updaterId": "", "updateIndex": 0xFFFFFFFF}, 6),
            call("WorkOrderReceiptLookUp", {"receiptStatus": 1}, 7),
            call("WorkOrderReceiptLookUp", {"receiptStatus": 2}, 8),
            call("WorkOrderGetResult", {"workOrderId": fid}, 9)]))
        out.append(json.dumps([
            call("WorkOrderReceiptCreate", receipt_create(final, FINAL_RH.upper()), 1),
            call("WorkOrderReceiptCreate", receipt_create(final, FINAL_RH), 2)]))
        out.append(rpc("WorkOrderSubmit", dict(v["request_params"], workOrderId=fid), 41))
    out.append(rpc("WorkOrderReceiptUpdate", receipt_update(wo_id, 2, "x"), 31))
    out.append(rpc("WorkOrderReceiptRetrieve", {"workOrderId": wo_id}, 32))
    out.append(rpc("WorkOrderReceiptUpdateRetrieve",
                   {"workOrderId": wo_id, "updaterId": None, "updateIndex": 1}, 33))
    for st in (1, "1", "0x1", 0, 255, "255", "x", "1x", -1, "-1", 1.5):
        out.append(rpc("WorkOrderReceiptLookUp", {"receiptStatus": st}, 34))
    out.append(rpc("WorkOrderReceiptLookUp", {"requestCreateStatus": 1}, 35))
    for p in ({"lastLookUpTag": ""}, {"lastLookUpTag": "00"}, {"lookupTag": "00"}, {}):
        out.append(rpc("WorkOrderReceiptLookUpNext", p, 36))
    return out


def main():
    write_all("fuzz_frame", frame_seeds())
    write_all("fuzz_workorder", workorder_seeds())
    write_all("fuzz_codec", codec_seeds())
    write_all("fuzz_gateway", gateway_seeds())
    return 0


if __name__ == "__main__":
    sys.exit(main())
