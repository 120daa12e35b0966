#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""peer.py - an independent Avalon-style work order client for interop tests.

Talks to a worker the way Avalon's Graphene test client does (protocol.md
§11) using only python3-zmq, pycryptodome and python-ecdsa -- never libtcw:
signup, encryption_key_signature check, then per work order a fresh session
key and IV, RSA-OAEP (SHA-1) key transport, AES-256-GCM data, the EEA request
hash, and on the reply the echoed ids, the worker signature over the response
hash and the decryption of outData.

Usage: peer.py [--extra] [--timeout MS] URL FILE
Prints "Work order result : <text>" per order of FILE (reference format) on
stdout, diagnostics on stderr; exits 0 only when everything checked out, 1 on
any failure, 2 on usage errors. --extra adds protocol checks beyond the
reference client (integer inner id, no sessionKeyIv, error replies, ...).
"""

import argparse
import base64
import hashlib
import json
import os
import random
import re
import sys

import zmq
from Cryptodome.Cipher import AES, PKCS1_OAEP
from Cryptodome.PublicKey import RSA
from ecdsa import SECP256k1, VerifyingKey
from ecdsa.util import sigdecode_der

WORKER_ID = hashlib.sha256(b"graphene-hello").hexdigest()
EC_SPKI_PREFIX = "MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAE"
PEM_BEGIN = "-----BEGIN PUBLIC KEY-----\n"
PEM_END = "-----END PUBLIC KEY-----"
ITEM_FIELDS = ("dataHash", "data", "encryptedDataEncryptionKey", "iv")


class CheckError(Exception):
    """A protocol check failed."""


def check(cond, what):
    if not cond:
        raise CheckError(what)


def sha256(data):
    return hashlib.sha256(data).digest()


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---- signup -------------------------------------------------------------

def check_pem_lines(pem, what):
    """SPKI PEM with 64-column base64 lines; returns the base64 body."""
    check(pem.startswith(PEM_BEGIN), what + ": PEM header")
    body = pem[len(PEM_BEGIN):].rstrip("\n")
    check(body.endswith("\n" + PEM_END), what + ": PEM footer")
    lines = body[:-len(PEM_END) - 1].split("\n")
    check(all(len(l) == 64 for l in lines[:-1]) and 0 < len(lines[-1]) <= 64,
          what + ": base64 lines are not 64 columns")
    return "".join(lines)


def check_signup(signup):
    """Checks the signup object shapes and its encryption_key_signature."""
    check(isinstance(signup, dict), "signup reply is not an object")
    for key in ("sealed_data", "verifying_key", "encryption_key",
                "encryption_key_signature", "mrenclave", "quote"):
        check(isinstance(signup.get(key), str), "signup: %s missing" % key)
    vk_pem = signup["verifying_key"]
    enc_pem = signup["encryption_key"]
    check(vk_pem.endswith(PEM_END + "\n"), "verifying_key: no trailing newline")
    check(len(vk_pem.encode()) == 174,
          "verifying_key is %d bytes, not 174" % len(vk_pem.encode()))
    check(check_pem_lines(vk_pem, "verifying_key").startswith(EC_SPKI_PREFIX),
          "verifying_key: not an uncompressed secp256k1 SPKI key")
    check(not enc_pem.endswith("\n"), "encryption_key has a trailing newline")
    check_pem_lines(enc_pem, "encryption_key")
    check(signup["sealed_data"] == "", "sealed_data is not empty")
    sig_hex = signup["encryption_key_signature"]
    check(re.fullmatch(r"(?:[0-9a-f]{2})+", sig_hex) is not None,
          "encryption_key_signature is not lowercase hex")
    vk = VerifyingKey.from_pem(vk_pem)
    check(vk.curve == SECP256k1, "verifying_key is not on secp256k1")
    try:
        vk.verify_digest(bytes.fromhex(sig_hex), sha256(enc_pem.encode()),
                         sigdecode=sigdecode_der)
    except Exception as exc:  # BadSignatureError, DER errors
        raise CheckError("encryption_key_signature does not verify: %r" % exc)
    rsa = RSA.import_key(enc_pem)
    check(rsa.e == 65537, "RSA public exponent is not 65537")
    return enc_pem, vk, rsa


# ---- requests -----------------------------------------------------------

def items_digest(items):
    """D(array): SHA-256 over the four text fields of each item, by index."""
    text = "".join("".join(it.get(f, "") for f in ITEM_FIELDS)
                   for it in sorted(items, key=lambda it: it["index"]))
    return sha256(text.encode("utf-8"))


def gcm_encrypt(key, iv, data):
    c = AES.new(key, AES.MODE_GCM, nonce=iv)
    ct, tag = c.encrypt_and_digest(data)
    return ct + tag


def gcm_decrypt(key, iv, blob):
    check(len(blob) >= 16, "ciphertext shorter than a GCM tag")
    c = AES.new(key, AES.MODE_GCM, nonce=iv)
    return c.decrypt_and_verify(blob[:-16], blob[-16:])


class Order:
    """One WorkOrderSubmit request, built like the reference test client.
    with_iv=False is the Python worker's IV-prefixed mode (no sessionKeyIv)."""

    def __init__(self, rsa, workload, text, inner_id="1", with_iv=True,
                 workload_hex=None):
        self.key = os.urandom(32)
        self.iv = os.urandom(12) if with_iv else None
        self.inner_id = inner_id
        self.workload = workload
        p = {
            "encryptedSessionKey": PKCS1_OAEP.new(rsa).encrypt(self.key).hex(),
            "workloadId": workload_hex or workload.encode("utf-8").hex(),
            "workOrderId": os.urandom(32).hex(),
            "workerId": WORKER_ID,
            "requesterId": os.urandom(32).hex(),
            "requesterNonce": os.urandom(32).hex(),
        }
        if with_iv:
            p["sessionKeyIv"] = self.iv.hex()
        p["inData"] = [{"index": 0, "dataHash": "",
                        "data": base64.b64encode(self.seal(text.encode("utf-8"))).decode(),
                        "encryptedDataEncryptionKey": "null", "iv": ""}]
        h1 = sha256((p["requesterNonce"] + p["workOrderId"] + p["workerId"] +
                     p["workloadId"] + p["requesterId"]).encode("utf-8"))
        rh = sha256(h1 + items_digest(p["inData"]))
        p["encryptedRequestHash"] = self.seal(rh).hex()
        self.params = p

    def seal(self, data):
        if self.iv is not None:
            return gcm_encrypt(self.key, self.iv, data)
        iv = os.urandom(12)
        return iv + gcm_encrypt(self.key, iv, data)

    def open(self, blob):
        if self.iv is not None:
            return gcm_decrypt(self.key, self.iv, blob)
        return gcm_decrypt(self.key, blob[:12], blob[12:])

    def envelope(self):
        inner = {"jsonrpc": "2.0", "method": "WorkOrderSubmit",
                 "id": self.inner_id, "params": self.params}
        return {"jsonrpc": "2.0", "id": random.randint(0, 100000),
                "method": "ProcessWorkOrder", "params": json.dumps(inner)}


def check_id(order, reply):
    rid = reply.get("id")
    check(type(rid) is type(order.inner_id) and rid == order.inner_id,
          "reply id %r is not the inner id %r" % (rid, order.inner_id))


def check_result(order, reply, vk):
    """Verifies a result reply; returns the decrypted outData plaintexts."""
    check(reply.get("jsonrpc") == "2.0", "reply jsonrpc is not 2.0")
    check_id(order, reply)
    check("error" not in reply, "reply has both result and error")
    res = reply["result"]
    for f in ("workOrderId", "workloadId", "workerId", "requesterId"):
        check(res.get(f) == order.params[f], "result.%s not echoed" % f)
    check(isinstance(res.get("workerNonce"), str) and res["workerNonce"],
          "result.workerNonce missing")
    out = res.get("outData")
    check(isinstance(out, list) and out, "result.outData missing or empty")
    for it in out:
        check(isinstance(it.get("index"), int), "outData item without index")
        for f in ITEM_FIELDS:
            check(f not in it or isinstance(it[f], str), "outData %s type" % f)
        check("encryptedDataEncryptionKey" in it and "iv" in it,
              "outData item lacks encryptedDataEncryptionKey or iv")
    r1 = sha256((res["workerNonce"] + res["workOrderId"] + res["workerId"] +
                 res["workloadId"] + res["requesterId"]).encode("utf-8"))
    wh = sha256(r1 + items_digest(out))
    try:
        sig = base64.b64decode(res["workerSignature"], validate=True)
        vk.verify_digest(sig, wh, sigdecode=sigdecode_der)
    except Exception as exc:
        raise CheckError("workerSignature does not verify: %r" % exc)
    plain = []
    for it in sorted(out, key=lambda it: it["index"]):
        check(it["encryptedDataEncryptionKey"] in ("null", ""),
              "unexpected per-item key in outData")
        check(it["iv"] == "", "default outData item has an iv")
        try:
            plain.append(order.open(base64.b64decode(it["data"], validate=True)))
        except ValueError as exc:
            raise CheckError("outData does not decrypt: %r" % exc)
    return plain


class Peer:
    def __init__(self, url, timeout_ms):
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.REQ)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.RCVTIMEO, timeout_ms)
        self.sock.connect(url)

    def call(self, obj):
        self.sock.send_string(json.dumps(obj))
        try:
            raw = self.sock.recv()
        except zmq.Again:
            raise CheckError("no reply from the worker")
        check(not self.sock.getsockopt(zmq.RCVMORE), "multi-part reply")
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError as exc:
            raise CheckError("reply is not UTF-8 JSON: %r" % exc)

    def close(self):
        self.sock.close()
        self.ctx.term()


def show(data):
    return data.decode("utf-8", errors="backslashreplace")


def run_file_orders(peer, rsa, vk, orders):
    ok = True
    for wl, text in orders:
        log("Send work order request via zmq (%s)" % wl)
        order = Order(rsa, wl, text)
        try:
            reply = peer.call(order.envelope())
            if "error" in reply:
                check_id(order, reply)
                e = reply["error"]
                print("Work order execution failed: %s %s" %
                      (e.get("code"), e.get("message")), flush=True)
                ok = False
                continue
            for p in check_result(order, reply, vk):
                print("Work order result : " + show(p), flush=True)
        except CheckError as exc:
            log("peer: %s" % exc)
            print("Work order result verification fail", flush=True)
            ok = False
    return ok


def expect_error(peer, order, code, message, what):
    reply = peer.call(order.envelope())
    check_id(order, reply)
    want = {"code": code, "message": message,
            "data": {"workOrderId": order.params["workOrderId"]}}
    check(reply.get("error") == want and "result" not in reply,
          "%s: got %r, want error %r" % (what, reply, want))


def run_extra(peer, rsa, vk):
    """Protocol checks beyond the reference test client."""
    order = Order(rsa, "python-hello", "integer id",
                  inner_id=random.randint(100001, 2**31 - 1))
    check(check_result(order, peer.call(order.envelope()), vk) ==
          [b"Hello integer id"], "integer inner id: wrong result")
    log("check ok: integer inner id echoed as an integer")

    order = Order(rsa, "python-fib", "20", with_iv=False)
    check(check_result(order, peer.call(order.envelope()), vk) ==
          [b"Fibonacci number at position 20 = 6765"], "no sessionKeyIv")
    log("check ok: IV-prefixed mode without sessionKeyIv")

    order = Order(rsa, "python-hello", "upper",
                  workload_hex="python-hello".encode().hex().upper())
    check(check_result(order, peer.call(order.envelope()), vk) ==
          [b"Hello upper"], "uppercase workloadId hex")
    log("check ok: uppercase hex workloadId decoded and echoed verbatim")

    order = Order(rsa, "python-hello", "\u0928\u092e\u0938\u094d\u0924\u0947 \U0001f600")
    check(check_result(order, peer.call(order.envelope()), vk) ==
          ["Hello \u0928\u092e\u0938\u094d\u0924\u0947 \U0001f600".encode()],
          "non-ASCII input")
    log("check ok: non-ASCII UTF-8 input")

    expect_error(peer, Order(rsa, "no-such-workload", "x"), 2,
                 "Error processing work load", "unknown workload")
    log("check ok: unknown workload error reply")

    order = Order(rsa, "python-hello", "tampered")
    erh = bytearray(bytes.fromhex(order.params["encryptedRequestHash"]))
    erh[0] ^= 1
    order.params["encryptedRequestHash"] = erh.hex()
    expect_error(peer, order, 2, "Work order integrity check failed",
                 "tampered encryptedRequestHash")
    order = Order(rsa, "python-hello", "tampered data")
    item = order.params["inData"][0]
    blob = bytearray(base64.b64decode(item["data"]))
    blob[0] ^= 1
    item["data"] = base64.b64encode(bytes(blob)).decode()
    expect_error(peer, order, 2, "Work order integrity check failed",
                 "tampered inData (request hash no longer matches)")
    log("check ok: tampered requests rejected with the integrity error")


def load_orders(path):
    """Reads the reference test file format; skips entries without
    workloadId like the reference client."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    orders = []
    for i, wo in enumerate(doc["workOrders"]):
        if "workloadId" not in wo:
            continue
        if not isinstance(wo.get("params"), str):
            raise ValueError("workOrders[%d]: params missing" % i)
        orders.append((wo["workloadId"], wo["params"]))
    return orders


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("file")
    ap.add_argument("--extra", action="store_true")
    ap.add_argument("--timeout", type=int, default=120000)
    args = ap.parse_args()
    try:
        orders = load_orders(args.file)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log("peer: %s: %s" % (args.file, exc))
        return 2
    peer = Peer(args.url, args.timeout)
    try:
        signup = peer.call({"jsonrpc": "2.0", "id": random.randint(0, 100000),
                            "method": "ProcessWorkerSignup", "params": None})
        _, vk, rsa = check_signup(signup)
        log("worker signup: RSA %d-bit encryption key, signature verified" %
            rsa.size_in_bits())
        log("work order json file : %s" % args.file)
        ok = run_file_orders(peer, rsa, vk, orders)
        if args.extra:
            run_extra(peer, rsa, vk)
    except CheckError as exc:
        log("peer: check failed: %s" % exc)
        return 1
    finally:
        peer.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
