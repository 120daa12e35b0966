# SPDX-License-Identifier: Apache-2.0
"""woclient.py - an independent work order peer for the hardening tests.

Builds WorkOrderSubmit requests with python3-zmq, pycryptodome and
python-ecdsa only (never libtcw), in every shape protocol.md §5/§7 allows:
session key with sessionKeyIv, item IVs, no sessionKeyIv (IV-prefixed),
per-item data keys (double-wrapped DEKs), "-" plaintext items, several
items, outData templates and requester signatures. Verifies result replies
(echoed ids, workerSignature over the response hash) and decrypts them.
"""

import base64
import hashlib
import json
import os

import zmq
from Cryptodome.Cipher import AES, PKCS1_OAEP
from Cryptodome.PublicKey import RSA
from ecdsa import SECP256k1, SigningKey, VerifyingKey
from ecdsa.util import sigdecode_der, sigencode_der

ITEM_FIELDS = ("dataHash", "data", "encryptedDataEncryptionKey", "iv")
WORKER_ID = hashlib.sha256(b"graphene-hello").hexdigest()


def sha256(data):
    return hashlib.sha256(data).digest()


def gcm(key, iv, data):
    c = AES.new(key, AES.MODE_GCM, nonce=iv)
    ct, tag = c.encrypt_and_digest(data)
    return ct + tag


def ungcm(key, iv, blob):
    c = AES.new(key, AES.MODE_GCM, nonce=iv)
    return c.decrypt_and_verify(blob[:-16], blob[-16:])


def b64(data):
    return base64.b64encode(data).decode()


def items_digest(items):
    text = "".join("".join(it.get(f, "") for f in ITEM_FIELDS)
                   for it in sorted(items, key=lambda it: it["index"]))
    return sha256(text.encode("utf-8"))


def request_hash(p):
    h1 = sha256((p["requesterNonce"] + p["workOrderId"] + p["workerId"] +
                 p["workloadId"] + p["requesterId"]).encode("utf-8"))
    rh = h1 + items_digest(p["inData"])
    if p.get("outData"):
        rh += items_digest(p["outData"])
    return sha256(rh)


class Peer:
    """A REQ socket to the worker plus its signup keys."""

    def __init__(self, url, timeout_ms=300000):
        self.url = url
        self.timeout_ms = timeout_ms
        self.ctx = zmq.Context()
        self.sock = None
        self.reconnect()
        signup = self.call({"jsonrpc": "2.0", "id": 1,
                            "method": "ProcessWorkerSignup", "params": None})
        self.rsa = RSA.import_key(signup["encryption_key"])
        self.vk = VerifyingKey.from_pem(signup["verifying_key"])
        self.signup = signup

    def reconnect(self):
        if self.sock is not None:
            self.sock.close()
        self.sock = self.ctx.socket(zmq.REQ)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.RCVTIMEO, self.timeout_ms)
        self.sock.connect(self.url)

    def send_raw(self, parts):
        """Sends one frame (bytes) or a multi-part message (list); returns
        the reply frame, which must be exactly one part."""
        if isinstance(parts, list):
            self.sock.send_multipart(parts)
        else:
            self.sock.send(parts)
        raw = self.sock.recv()
        assert not self.sock.getsockopt(zmq.RCVMORE), "multi-part reply"
        return raw

    def call(self, envelope):
        return json.loads(self.send_raw(json.dumps(envelope).encode()).decode("utf-8"))

    def close(self):
        self.sock.close()
        self.ctx.term()


class Order:
    """One work order. mode: "session" (sessionKeyIv), "item-iv", "prefixed"
    (no sessionKeyIv), "dek" (per-item key), "plain" ("-" items).
    texts: the inData plaintexts (index = position, sent in reverse order
    when shuffle). template: add an outData template with its own DEK and
    IV. sign: "uncompressed" or "compressed" requester signature. sdk: add
    the optional fields Avalon's SDK sends."""

    def __init__(self, peer, workload, texts, mode="session", template=False,
                 sign=None, wo_id=None, key=None, iv=None, shuffle=False, sdk=False):
        self.peer = peer
        self.mode = mode
        self.key = key if key is not None else os.urandom(32)
        self.iv = iv if iv is not None else os.urandom(12)
        self.texts = [t.encode("utf-8") if isinstance(t, str) else t for t in texts]
        self.out_dek = None
        self.in_deks = []  # per-item keys of inData ("dek" mode)
        p = {
            "workOrderId": wo_id or os.urandom(32).hex(),
            "workerId": WORKER_ID,
            "workloadId": workload.encode("utf-8").hex(),
            "requesterId": os.urandom(32).hex(),
            "requesterNonce": os.urandom(16).hex(),
            "encryptedSessionKey": PKCS1_OAEP.new(peer.rsa).encrypt(self.key).hex(),
            "payloadFormat": "JSON-RPC",
            "dataEncryptionAlgorithm": "AES-GCM-256",
        }
        if mode != "prefixed":
            p["sessionKeyIv"] = self.iv.hex()
        if sdk:  # the optional fields Avalon's SDK adds (unused by workers)
            p.update(responseTimeoutMSecs=6000, resultUri="", notifyUri="",
                     workerEncryptionKey=peer.signup["encryption_key"].encode().hex(),
                     requesterSignature="")
        items = [self.item(i, t) for i, t in enumerate(self.texts)]
        p["inData"] = list(reversed(items)) if shuffle else items
        if template:
            self.out_dek = os.urandom(32)
            self.out_iv = os.urandom(12)
            p["outData"] = [{"index": 0, "dataHash": "", "data": "",
                             "encryptedDataEncryptionKey": self.wrap(self.out_dek),
                             "iv": self.out_iv.hex()}]
        self.params = p
        self.sign_with = sign
        self.reseal()

    def seal_session(self, data):
        """Session-key layer as the request's IV mode dictates."""
        if self.mode == "prefixed":
            iv = os.urandom(12)
            return iv + gcm(self.key, iv, data)
        return gcm(self.key, self.iv, data)

    def wrap(self, dek):
        """hex(IV || GCM(session key, IV, RSA-OAEP(worker key, dek)))."""
        wrapped = PKCS1_OAEP.new(self.peer.rsa).encrypt(dek)
        wiv = os.urandom(12)
        return (wiv + gcm(self.key, wiv, wrapped)).hex()

    def item(self, index, text):
        it = {"index": index, "dataHash": hashlib.sha256(text).hexdigest()}
        if self.mode == "dek":
            dek, iv = os.urandom(32), os.urandom(12)
            self.in_deks.append(dek)
            it.update(data=b64(gcm(dek, iv, text)),
                      encryptedDataEncryptionKey=self.wrap(dek), iv=iv.hex())
        elif self.mode == "plain":
            it.update(data=b64(text), encryptedDataEncryptionKey="-", iv="")
        elif self.mode == "item-iv":
            iv = os.urandom(12)
            it.update(data=b64(gcm(self.key, iv, text)),
                      encryptedDataEncryptionKey="null", iv=iv.hex())
        else:
            it.update(data=b64(self.seal_session(text)),
                      encryptedDataEncryptionKey="", iv="")
        return it

    def reseal(self):
        """Recomputes encryptedRequestHash (and the signature) over params."""
        self.rh = request_hash(self.params)
        self.params["encryptedRequestHash"] = self.seal_session(self.rh).hex()
        if self.sign_with:
            sk = SigningKey.generate(curve=SECP256k1)
            sig = sk.sign_digest(self.rh, sigencode=sigencode_der)
            enc = "compressed" if self.sign_with == "compressed" else "uncompressed"
            self.params["requesterSignature"] = b64(sig)
            self.params["verifyingKey"] = sk.get_verifying_key().to_pem(
                point_encoding=enc).decode()

    def inner(self, inner_id="1"):
        return {"jsonrpc": "2.0", "method": "WorkOrderSubmit", "id": inner_id,
                "params": self.params}

    def envelope(self, inner_id="1"):
        return {"jsonrpc": "2.0", "id": 4711, "method": "ProcessWorkOrder",
                "params": json.dumps(self.inner(inner_id))}

    def frame(self, inner_id="1"):
        return json.dumps(self.envelope(inner_id)).encode()

    def open_output(self, item):
        blob = base64.b64decode(item["data"], validate=True)
        if item["encryptedDataEncryptionKey"] not in ("", "null", "-"):
            assert self.out_dek is not None, "unexpected per-item output key"
            return ungcm(self.out_dek, bytes.fromhex(item["iv"]), blob)
        if item["encryptedDataEncryptionKey"] == "-":
            return blob
        if item["iv"]:
            return ungcm(self.key, bytes.fromhex(item["iv"]), blob)
        if self.mode == "prefixed":
            return ungcm(self.key, blob[:12], blob[12:])
        return ungcm(self.key, self.iv, blob)

    def check_result(self, reply, inner_id="1"):
        """Verifies a result reply; returns the decrypted outputs by index."""
        assert reply.get("id") == inner_id and type(reply["id"]) is type(inner_id), reply
        assert "error" not in reply, "error reply: %r" % (reply,)
        res = reply["result"]
        for f in ("workOrderId", "workloadId", "workerId", "requesterId"):
            assert res[f] == self.params[f], "result.%s not echoed" % f
        r1 = sha256((res["workerNonce"] + res["workOrderId"] + res["workerId"] +
                     res["workloadId"] + res["requesterId"]).encode("utf-8"))
        wh = sha256(r1 + items_digest(res["outData"]))
        sig = base64.b64decode(res["workerSignature"], validate=True)
        self.peer.vk.verify_digest(sig, wh, sigdecode=sigdecode_der)
        out = sorted(res["outData"], key=lambda it: it["index"])
        if self.out_dek is not None:
            assert out[0]["encryptedDataEncryptionKey"] == \
                self.params["outData"][0]["encryptedDataEncryptionKey"], "template not used"
            assert out[0]["iv"] == self.out_iv.hex(), "template iv not used"
        return [self.open_output(it) for it in out]

    def submit(self, inner_id="1"):
        return self.peer.call(self.envelope(inner_id))


def error(code, message, rid=0, wo_id=None):
    """The exact error reply tcworker sends."""
    err = {"code": code, "message": message}
    if wo_id is not None:
        err["data"] = {"workOrderId": wo_id}
    return {"jsonrpc": "2.0", "id": rid, "error": err}
