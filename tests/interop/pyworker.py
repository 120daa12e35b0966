#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""pyworker.py - a minimal independent worker in the shape of Avalon's Graphene
Python worker, for testing tcclient against a peer that is not libtcw.

Uses only python3-zmq, pycryptodome and python-ecdsa. Like the reference
worker it answers ProcessWorkerSignup with a bare signup object (RSA-2048
SPKI PEM without trailing newline, python-ecdsa verifying key PEM with one)
and ProcessWorkOrder with a JSON-RPC response carrying the inner id, a
Python-style workerNonce (base64 of 16 characters from [A-Z0-9]) and one
outData item; errors use the Python shape (no "data"). Every signature it
makes is forced to the high-S form, which python-ecdsa produces half of the
time anyway, so a client that does not normalise S fails every order.

Workloads: python-hello ("Hello " + text) and python-fib (decimal n).
Usage: pyworker.py   (binds tcp://127.0.0.1:*, logs "listening on <url>"
to stderr, exits 0 on SIGTERM/SIGINT)
"""

import base64
import hashlib
import json
import random
import signal
import string
import sys

import zmq
from Cryptodome.Cipher import AES, PKCS1_OAEP
from Cryptodome.PublicKey import RSA
from ecdsa import SECP256k1, SigningKey
from ecdsa.util import sigdecode_der, sigencode_der

ITEM_FIELDS = ("dataHash", "data", "encryptedDataEncryptionKey", "iv")


def sha256(data):
    return hashlib.sha256(data).digest()


def sign_high_s(sk, digest):
    """DER ECDSA signature over digest with S forced above n/2."""
    n = SECP256k1.order
    r, s = sigdecode_der(sk.sign_digest(digest, sigencode=sigencode_der), n)
    if s <= n // 2:
        s = n - s
    return sigencode_der(r, s, n)


def items_digest(items):
    text = "".join("".join(it.get(f, "") for f in ITEM_FIELDS)
                   for it in sorted(items, key=lambda it: it["index"]))
    return sha256(text.encode("utf-8"))


def run_workload(name, data):
    """Returns the output bytes, or None when the workload fails."""
    text = data.decode("utf-8")
    if name == "python-hello":
        return ("Hello " + text).encode("utf-8")
    if name == "python-fib":
        try:
            n = int(text)
        except ValueError:
            return None
        if n < 0 or n > 10000:
            return None
        a, b = 0, 1
        for _ in range(n):
            a, b = b, a + b
        return ("Fibonacci number at position %d = %d" % (n, a)).encode()
    return None


class Worker:
    def __init__(self):
        self.rsa = RSA.generate(2048)
        self.sk = SigningKey.generate(curve=SECP256k1)
        enc_pem = self.rsa.publickey().export_key().decode()
        vk_pem = self.sk.get_verifying_key().to_pem().decode()
        sig = sign_high_s(self.sk, sha256(enc_pem.encode()))
        self.signup = {"sealed_data": "", "verifying_key": vk_pem,
                       "encryption_key": enc_pem,
                       "encryption_key_signature": sig.hex(),
                       "mrenclave": "", "quote": ""}

    def work_order(self, inner):
        p = inner["params"]
        key = PKCS1_OAEP.new(self.rsa).decrypt(bytes.fromhex(p["encryptedSessionKey"]))
        iv = bytes.fromhex(p["sessionKeyIv"])

        def dec(blob):
            return AES.new(key, AES.MODE_GCM, nonce=iv).decrypt_and_verify(
                blob[:-16], blob[-16:])

        def enc(data):
            ct, tag = AES.new(key, AES.MODE_GCM, nonce=iv).encrypt_and_digest(data)
            return ct + tag

        h1 = sha256((p["requesterNonce"] + p["workOrderId"] + p["workerId"] +
                     p["workloadId"] + p["requesterId"]).encode())
        rh = sha256(h1 + items_digest(p["inData"]))
        if dec(bytes.fromhex(p["encryptedRequestHash"])) != rh:
            return {"jsonrpc": "2.0", "id": inner["id"], "error": {
                "code": 2, "message": "Work order integrity check failed"}}
        item = sorted(p["inData"], key=lambda it: it["index"])[0]
        out = run_workload(bytes.fromhex(p["workloadId"]).decode(),
                           dec(base64.b64decode(item["data"])))
        if out is None:
            return {"jsonrpc": "2.0", "id": inner["id"], "error": {
                "code": 2, "message": "Error processing work load"}}
        nonce = "".join(random.choice(string.ascii_uppercase + string.digits)
                        for _ in range(16))
        nonce = base64.b64encode(nonce.encode()).decode()
        out_data = [{"data": base64.b64encode(enc(out)).decode(), "index": 0,
                     "encryptedDataEncryptionKey": "null", "iv": ""}]
        r1 = sha256((nonce + p["workOrderId"] + p["workerId"] +
                     p["workloadId"] + p["requesterId"]).encode())
        sig = sign_high_s(self.sk, sha256(r1 + items_digest(out_data)))
        return {"jsonrpc": "2.0", "id": inner["id"], "result": {
            "workloadId": p["workloadId"], "workOrderId": p["workOrderId"],
            "workerId": p["workerId"], "requesterId": p["requesterId"],
            "workerNonce": nonce, "outData": out_data,
            "workerSignature": base64.b64encode(sig).decode()}}

    def handle(self, frame):
        try:
            req = json.loads(frame.decode("utf-8"))
            method, params = req["method"], req["params"]
        except (ValueError, KeyError, TypeError):
            return {"jsonrpc": "2.0", "id": 0,
                    "error": {"code": 2, "message": "Invalid request"}}
        if method == "ProcessWorkerSignup":
            return self.signup
        if method != "ProcessWorkOrder":
            return {"jsonrpc": "2.0", "id": 0,
                    "error": {"code": 2, "message": "Unsupported method"}}
        try:
            return self.work_order(json.loads(params))
        except Exception:  # like the reference: code 1, id 0
            return {"jsonrpc": "2.0", "id": 0, "error": {
                "code": 1, "message": "Error processing work order"}}


def stop(signum, frame):
    raise SystemExit(0)


def main():
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    worker = Worker()
    ctx = zmq.Context()
    sock = ctx.socket(zmq.REP)
    sock.setsockopt(zmq.LINGER, 0)
    sock.bind("tcp://127.0.0.1:*")
    print("listening on " + sock.getsockopt_string(zmq.LAST_ENDPOINT),
          file=sys.stderr, flush=True)
    try:
        while True:
            sock.send_string(json.dumps(worker.handle(sock.recv())))
    finally:
        print("stopping", file=sys.stderr, flush=True)
        sock.close()
        ctx.term()


if __name__ == "__main__":
    main()
