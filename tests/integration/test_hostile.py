#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""test_hostile.py - hostile input against a running tcworker.

Usage: test_hostile.py URL [--valid-only]
Every case sends one hostile request and asserts the exact reply (code,
message, id, data.workOrderId); after each case a valid work order must
still succeed and verify. The valid orders rotate through every request
shape the worker supports (item IVs, no sessionKeyIv, per-item keys, "-"
items, several items, outData templates, requester signatures), so those
paths are exercised against the real worker by an independent peer.
Prints "ok: <case>" per case and "cases: N" at the end; exits non-zero on
the first failure.
"""

import base64
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from woclient import Order, Peer, b64, error, gcm  # noqa: E402

from Cryptodome.Cipher import PKCS1_OAEP  # noqa: E402
from Cryptodome.PublicKey import RSA  # noqa: E402
from ecdsa import SECP256k1, SigningKey  # noqa: E402
from ecdsa.util import sigencode_der  # noqa: E402

IR = "Invalid request"
IP = "Invalid parameter: "
INTEGRITY = "Work order integrity check failed"
WORKLOAD = "Error processing work load"
SIGNATURE = "Invalid requester signature"
DUPLICATE = "Duplicate work order"
MIB8 = 8 * 1024 * 1024

VALID = [
    dict(mode="session", sdk=True),
    dict(mode="item-iv"),
    dict(mode="prefixed"),
    dict(mode="dek"),
    dict(mode="plain"),
    dict(mode="session", extra=True, shuffle=True),
    dict(mode="dek", template=True),
    dict(mode="session", sign="uncompressed"),
    dict(mode="item-iv", sign="compressed", extra=True),
    dict(mode="prefixed", template=True, sign="uncompressed"),
]

peer = Peer(sys.argv[1])
cases = []
valid_count = 0


def case(fn):
    cases.append(fn)
    return fn


def valid_order():
    """A valid order of the next shape; it must succeed and verify."""
    global valid_count
    v = dict(VALID[valid_count % len(VALID)])
    valid_count += 1
    name = "valid-%d-%s" % (valid_count, os.urandom(3).hex())
    texts = [name] + (["second item", "third"] if v.pop("extra", False) else [])
    o = Order(peer, "python-hello", texts, **v)
    out = o.check_result(o.submit())
    assert out == [b"Hello " + name.encode()], out


def expect(name, got, want):
    if isinstance(got, bytes):
        got = json.loads(got.decode("utf-8"))
    assert got == want, "%s:\n got  %r\n want %r" % (name, got, want)


def frame(obj):
    return json.dumps(obj).encode()


def env(method, params, rid=7):
    return frame({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})


def order(**kw):
    kw.setdefault("mode", "session")
    return Order(peer, kw.pop("workload", "python-hello"), kw.pop("texts", ["hostile"]), **kw)


def mutated(changes, reseal=False, rid="h", **kw):
    """Sends a valid order with params changed (None deletes a key);
    reseal recomputes the request hash (the requester itself is hostile)."""
    o = order(**kw)
    for k, v in changes.items():
        if v is None:
            del o.params[k]
        else:
            o.params[k] = v
    if reseal:
        o.reseal()
    return o, o.submit(rid)


def field_case(name, changes, message, with_wo=True, reseal=False, code=2):
    o, got = mutated(changes, reseal=reseal)
    expect(name, got, error(code, message, "h", o.params.get("workOrderId") if with_wo else None))


def item_case(name, array, mutate, message, reseal=True, **kw):
    o = order(**kw)
    mutate(o.params[array])
    if reseal:
        o.reseal()
    expect(name, o.submit("h"), error(2, message, "h", o.params["workOrderId"]))


# ---- frames and envelopes ---------------------------------------------------

@case
def invalid_utf8():
    expect("invalid utf-8", peer.send_raw(b'{"method":"\xff\xfe","params":null}'), error(2, IR))


@case
def overlong_utf8():
    expect("overlong", peer.send_raw(b'{"method":"\xc0\xaf","params":null}'), error(2, IR))


@case
def surrogate_utf8():
    expect("surrogate", peer.send_raw(b'{"method":"\xed\xa0\x80","params":null}'), error(2, IR))


@case
def above_unicode():
    expect("> U+10FFFF", peer.send_raw(b'{"method":"\xf4\x90\x80\x80","params":1}'),
           error(2, IR))


@case
def truncated_utf8():
    expect("truncated utf-8", peer.send_raw(b'{"method":"ProcessWorkerSignup\xe2\x82'),
           error(2, IR))


@case
def empty_frame():
    expect("empty frame", peer.send_raw(b""), error(2, IR))


@case
def two_parts():
    expect("two parts", peer.send_raw([env("ProcessWorkerSignup", None), b"x"]), error(2, IR))


@case
def three_empty_parts():
    expect("three empty parts", peer.send_raw([b"", b"", b""]), error(2, IR))


@case
def deep_arrays():
    expect("100000-deep arrays", peer.send_raw(b"[" * 100000 + b"]" * 100000), error(2, IR))


@case
def deep_objects():
    expect("100000-deep objects",
           peer.send_raw(b'{"a":' * 100000 + b"1" + b"}" * 100000), error(2, IR))


@case
def deep_inner():
    expect("100000-deep inner request",
           peer.send_raw(env("ProcessWorkOrder", "[" * 100000 + "]" * 100000)), error(2, IR))


@case
def deep_params():
    o = order()
    inner = json.dumps(o.inner("h"))
    inner = inner.replace('"params": {', '"params": {"x": ' + "[" * 100000 +
                          "]" * 100000 + ', ', 1)
    expect("100000-deep member of params", peer.send_raw(env("ProcessWorkOrder", inner)),
           error(2, IR))


@case
def huge_garbage():
    expect("8 MiB of non-JSON", peer.send_raw(b"A" * MIB8), error(2, IR))


@case
def huge_method():
    expect("8 MiB method name", peer.send_raw(env("M" * MIB8, None)),
           error(2, "Unsupported method"))


@case
def nul_byte():
    expect("NUL byte", peer.send_raw(b'{"method":"ProcessWorkerSignup",\x00"params":null}'),
           error(2, IR))


@case
def trailing_garbage():
    expect("trailing garbage", peer.send_raw(env("ProcessWorkerSignup", None) + b"}"),
           error(2, IR))


@case
def envelope_array():
    expect("envelope array", peer.send_raw(b'["ProcessWorkOrder"]'), error(2, IR))


@case
def method_missing():
    expect("method missing", peer.send_raw(frame({"id": 1, "params": None})), error(2, IR))


@case
def method_number():
    expect("method number", peer.send_raw(env(12, None)), error(2, IR))


@case
def params_missing():
    expect("params missing", peer.send_raw(frame({"id": 1, "method": "ProcessWorkOrder"})),
           error(2, IR))


@case
def unknown_method():
    expect("unknown method", peer.send_raw(env("WorkOrderGetResult", None)),
           error(2, "Unsupported method"))


@case
def inner_not_json():
    expect("inner not JSON", peer.send_raw(env("ProcessWorkOrder", "{'a': 1}x")),
           error(2, IR))


@case
def inner_array():
    expect("inner array", peer.send_raw(env("ProcessWorkOrder", "[1, 2]")), error(2, IR))


@case
def inner_params_missing():
    inner = json.dumps({"jsonrpc": "2.0", "method": "WorkOrderSubmit", "id": 77})
    expect("inner params missing", peer.send_raw(env("ProcessWorkOrder", inner)),
           error(2, IR, 77))


@case
def inner_wrong_method():
    o = order()
    inner = o.inner(["a", 1])
    inner["method"] = "WorkOrderGetResult"
    expect("inner method", peer.send_raw(env("ProcessWorkOrder", json.dumps(inner))),
           error(2, "Unsupported method", ["a", 1]))


# ---- WorkOrderSubmit fields -------------------------------------------------

@case
def wo_id_missing():
    field_case("workOrderId missing", {"workOrderId": None}, IP + "workOrderId", False)


@case
def wo_id_number():
    field_case("workOrderId number", {"workOrderId": 1234}, IP + "workOrderId", False)


@case
def wo_id_huge():
    field_case("workOrderId 8 MiB", {"workOrderId": "ab" * (MIB8 // 2)}, IP + "workOrderId",
               False)


@case
def wo_id_nul():
    field_case("workOrderId with NUL", {"workOrderId": "ab\u0000cd"}, IP + "workOrderId", False)


@case
def wo_id_not_hex():
    field_case("workOrderId not hex", {"workOrderId": "x" * 64}, IP + "workOrderId", False)


@case
def worker_id_missing():
    field_case("workerId missing", {"workerId": None}, IP + "workerId")


@case
def workload_odd():
    field_case("workloadId odd length", {"workloadId": "abc"}, IP + "workloadId")


@case
def workload_bad_utf8():
    field_case("workloadId not UTF-8", {"workloadId": "fffe41"}, IP + "workloadId")


@case
def workload_nul():
    field_case("workloadId with NUL", {"workloadId": "610062"}, IP + "workloadId")


@case
def workload_long():
    field_case("workloadId 129 bytes", {"workloadId": "61" * 129}, IP + "workloadId")


@case
def requester_empty():
    field_case("requesterId empty", {"requesterId": ""}, IP + "requesterId")


@case
def nonce_array():
    field_case("requesterNonce array", {"requesterNonce": ["00"]}, IP + "requesterNonce")


@case
def esk_not_hex():
    field_case("encryptedSessionKey not hex", {"encryptedSessionKey": "g" * 512},
               IP + "encryptedSessionKey")


@case
def esk_short():
    field_case("encryptedSessionKey 128 bytes", {"encryptedSessionKey": "00" * 128},
               IP + "encryptedSessionKey")


@case
def esk_huge():
    field_case("encryptedSessionKey 8 MiB", {"encryptedSessionKey": "00" * (MIB8 // 2)},
               IP + "encryptedSessionKey")


@case
def erh_length():
    field_case("encryptedRequestHash 47 bytes", {"encryptedRequestHash": "00" * 47},
               IP + "encryptedRequestHash")


@case
def iv_short():
    field_case("sessionKeyIv 8 bytes", {"sessionKeyIv": "00" * 8}, IP + "sessionKeyIv")


@case
def iv_not_hex():
    field_case("sessionKeyIv not hex", {"sessionKeyIv": "zz" * 12}, IP + "sessionKeyIv")


@case
def payload_format():
    field_case("payloadFormat XML", {"payloadFormat": "XML"}, IP + "payloadFormat")


@case
def data_algorithm():
    field_case("dataEncryptionAlgorithm", {"dataEncryptionAlgorithm": "AES-CBC-256"},
               IP + "dataEncryptionAlgorithm")


@case
def timeout_string():
    field_case("responseTimeoutMSecs string", {"responseTimeoutMSecs": "6000"},
               IP + "responseTimeoutMSecs")


@case
def notify_uri_long():
    field_case("notifyUri 3000 characters", {"notifyUri": "http://x/" + "a" * 3000},
               IP + "notifyUri")


@case
def worker_key_number():
    field_case("workerEncryptionKey number", {"workerEncryptionKey": 7},
               IP + "workerEncryptionKey")


@case
def in_data_missing():
    field_case("inData missing", {"inData": None}, IP + "inData")


@case
def in_data_empty():
    field_case("inData empty", {"inData": []}, IP + "inData")


@case
def in_data_object():
    field_case("inData object", {"inData": {"index": 0}}, IP + "inData")


@case
def in_data_65():
    item_case("65 inData items", "inData", lambda a: a.extend([dict(a[0])] * 64), IP + "inData")


@case
def out_data_65():
    item_case("65 outData items", "outData",
              lambda a: a.extend([dict(a[0])] * 64), IP + "outData", template=True)


@case
def item_string():
    item_case("inData[0] a string", "inData", lambda a: a.__setitem__(0, "item"),
              IP + "inData[0]", reseal=False)


@case
def index_missing():
    item_case("index missing", "inData", lambda a: a[0].pop("index"), IP + "inData[0].index",
              reseal=False)


@case
def index_float():
    item_case("index 1.5", "inData", lambda a: a[0].__setitem__("index", 1.5),
              IP + "inData[0].index")


@case
def index_overflow():
    item_case("index 2^64", "inData", lambda a: a[0].__setitem__("index", 2 ** 64),
              IP + "inData[0].index", reseal=False)


@case
def item_iv_short():
    item_case("item iv 11 bytes", "inData", lambda a: a[0].__setitem__("iv", "00" * 11),
              IP + "inData[0].iv")


@case
def data_hash_short():
    item_case("dataHash 2 bytes", "inData", lambda a: a[0].__setitem__("dataHash", "abcd"),
              IP + "inData[0].dataHash")


@case
def dek_not_hex():
    item_case("encryptedDataEncryptionKey junk", "inData",
              lambda a: a[0].__setitem__("encryptedDataEncryptionKey", "key?"),
              IP + "inData[0].encryptedDataEncryptionKey")


@case
def data_not_base64():
    item_case("data not base64", "inData", lambda a: a[0].__setitem__("data", "QUJD\nRA=="),
              IP + "inData[0].data")


@case
def out_iv_bad():
    item_case("outData[0].iv junk", "outData", lambda a: a[0].__setitem__("iv", "nothex"),
              IP + "outData[0].iv", template=True)


# ---- integrity: one code and message for every crypto failure -----------------

@case
def rsa_vs_hash_failure():
    o = order()
    base = dict(o.params)
    key = bytearray(bytes.fromhex(base["encryptedSessionKey"]))
    key[5] ^= 1
    o.params["encryptedSessionKey"] = key.hex()
    rsa = o.submit("h")
    o.params = dict(base)
    erh = bytearray(bytes.fromhex(base["encryptedRequestHash"]))
    erh[5] ^= 1
    o.params["encryptedRequestHash"] = erh.hex()
    hashed = o.submit("h")
    want = error(2, INTEGRITY, "h", base["workOrderId"])
    expect("RSA failure", rsa, want)
    expect("request hash failure", hashed, want)


@case
def other_worker_key():
    other = RSA.generate(peer.rsa.size_in_bits())
    o = order()
    o.params["encryptedSessionKey"] = PKCS1_OAEP.new(other.publickey()).encrypt(o.key).hex()
    expect("session key for another worker", o.submit("h"),
           error(2, INTEGRITY, "h", o.params["workOrderId"]))


@case
def ciphertext_tampered():
    def flip(a):
        ct = bytearray(base64.b64decode(a[0]["data"]))
        ct[0] ^= 0x80
        a[0]["data"] = b64(bytes(ct))
    item_case("inData ciphertext tampered", "inData", flip, INTEGRITY)


@case
def data_hash_mismatch():
    item_case("dataHash mismatch", "inData",
              lambda a: a[0].__setitem__("dataHash", "00" * 32), INTEGRITY)


@case
def dek_garbage():
    o = order(mode="dek")
    o.params["inData"][0]["encryptedDataEncryptionKey"] = o.wrap(os.urandom(16))
    o.reseal()
    expect("16-byte data key", o.submit("h"), error(2, INTEGRITY, "h", o.params["workOrderId"]))


@case
def huge_data():
    item_case("8 MiB data item", "inData",
              lambda a: a[0].__setitem__("data", b64(os.urandom(6 * 1024 * 1024))), INTEGRITY)


# ---- requester signatures --------------------------------------------------------

@case
def sig_other_key():
    o = order(sign="uncompressed")
    o.params["verifyingKey"] = SigningKey.generate(curve=SECP256k1).get_verifying_key() \
        .to_pem().decode()
    expect("signature by another key", o.submit("h"),
           error(4, SIGNATURE, "h", o.params["workOrderId"]))


@case
def sig_key_missing():
    o = order(sign="compressed")
    del o.params["verifyingKey"]
    expect("verifyingKey missing", o.submit("h"),
           error(4, SIGNATURE, "h", o.params["workOrderId"]))


@case
def sig_key_garbage():
    o = order(sign="uncompressed")
    o.params["verifyingKey"] = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
    expect("verifyingKey garbage", o.submit("h"),
           error(4, SIGNATURE, "h", o.params["workOrderId"]))


@case
def sig_not_base64():
    o = order(sign="uncompressed")
    o.params["requesterSignature"] = "not base64!"
    expect("signature not base64", o.submit("h"),
           error(4, SIGNATURE, "h", o.params["workOrderId"]))


@case
def sig_wrong_digest():
    o = order(sign="uncompressed")
    sk = SigningKey.generate(curve=SECP256k1)
    o.params["requesterSignature"] = b64(sk.sign_digest(bytes(32), sigencode=sigencode_der))
    o.params["verifyingKey"] = sk.get_verifying_key().to_pem().decode()
    expect("signature over another digest", o.submit("h"),
           error(4, SIGNATURE, "h", o.params["workOrderId"]))


# ---- workloads -------------------------------------------------------------------

@case
def unknown_workload():
    o = order(workload="no-such-workload")
    expect("unknown workload", o.submit("h"), error(2, WORKLOAD, "h", o.params["workOrderId"]))


@case
def fib_huge():
    o = order(workload="python-fib", texts=["99999999999999999999999999"])
    expect("fib of 10^26", o.submit("h"), error(2, WORKLOAD, "h", o.params["workOrderId"]))


@case
def fib_negative():
    o = order(workload="python-fib", texts=["-5"])
    expect("fib of -5", o.submit("h"), error(2, WORKLOAD, "h", o.params["workOrderId"]))


@case
def fib_8mib():
    o = order(workload="python-fib", texts=["7" * MIB8])
    expect("fib of 8 MiB of digits", o.submit("h"),
           error(2, WORKLOAD, "h", o.params["workOrderId"]))


@case
def fib_words():
    o = order(workload="python-fib", texts=["ten"], mode="dek")
    expect("fib of a word", o.submit("h"), error(2, WORKLOAD, "h", o.params["workOrderId"]))


# ---- replays ---------------------------------------------------------------------

@case
def replay_same_order():
    o = order()
    o.check_result(o.submit("a"), "a")
    expect("replay", o.submit("b"), error(2, DUPLICATE, "b", o.params["workOrderId"]))


@case
def replay_other_envelope():
    o = order(mode="dek", sign="compressed")
    o.check_result(o.submit())
    env2 = o.envelope(99)
    env2["id"] = 1
    expect("replay in another envelope", peer.call(env2),
           error(2, DUPLICATE, 99, o.params["workOrderId"]))


@case
def replay_failed_order():
    o = order(workload="no-such-workload")
    expect("first", o.submit("h"), error(2, WORKLOAD, "h", o.params["workOrderId"]))
    # byte for byte the same request: the reply it got, kept by the worker
    expect("exact resubmission of a failed order", o.submit("h"),
           error(2, WORKLOAD, "h", o.params["workOrderId"]))
    expect("replay of a failed order", o.submit("i"),
           error(2, DUPLICATE, "i", o.params["workOrderId"]))


@case
def replay_id_other_case():
    o = order()
    o.check_result(o.submit())
    o2 = order(wo_id=o.params["workOrderId"].upper())
    expect("same id in upper case", o2.submit("h"),
           error(2, DUPLICATE, "h", o2.params["workOrderId"]))


@case
def cannot_block_by_hash():
    victim = order()
    bad = order(wo_id=victim.params["workOrderId"])
    bad.params["encryptedRequestHash"] = victim.params["encryptedRequestHash"]
    expect("blocking attempt (hash)", bad.submit("h"),
           error(2, INTEGRITY, "h", victim.params["workOrderId"]))
    victim.check_result(victim.submit())


@case
def cannot_block_by_signature():
    victim = order(sign="uncompressed")
    bad = order(wo_id=victim.params["workOrderId"], sign="uncompressed")
    bad.params["verifyingKey"] = victim.params["verifyingKey"]
    expect("blocking attempt (signature)", bad.submit("h"),
           error(4, SIGNATURE, "h", victim.params["workOrderId"]))
    victim.check_result(victim.submit())


if len(sys.argv) > 2 and sys.argv[2] == "--valid-only":
    # every request shape once, nothing hostile (e.g. against RSA-3072)
    for _ in VALID:
        valid_order()
    print("valid orders: %d" % valid_count)
else:
    for n, fn in enumerate(cases, 1):
        fn()
        valid_order()
        print("ok %d: %s" % (n, fn.__name__), flush=True)
    print("cases: %d, valid orders: %d" % (len(cases), valid_count))
peer.close()
