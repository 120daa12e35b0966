#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""check_requests.py - checks the work order requests tcclient sent, as
recorded by recorder.py, without libtcw: field layout per mode, fresh IVs
and data keys in nonce-safe mode, and requester signatures verified with
python-ecdsa over a request hash computed here (protocol.md §7).

Usage: check_requests.py LOG compat|nonce-safe [--count N] [--templates N]
                         [--signed] [--key-file FILE]
Exits 1 with a message on the first violation.
"""

import argparse
import base64
import hashlib
import json
import re
import sys

from ecdsa import SigningKey, VerifyingKey
from ecdsa.util import sigdecode_der

REFERENCE = ["workloadId", "workOrderId", "workerId", "requesterId", "requesterNonce",
             "sessionKeyIv", "encryptedSessionKey", "inData", "encryptedRequestHash"]
ITEM = ["index", "dataHash", "data", "encryptedDataEncryptionKey", "iv"]
SIGNATURE = ["requesterSignature", "verifyingKey"]


def H(data):
    return hashlib.sha256(data).digest()


def digest(items):
    text = "".join(it.get("dataHash", "") + it.get("data", "") +
                   it.get("encryptedDataEncryptionKey", "") + it.get("iv", "")
                   for it in sorted(items, key=lambda it: it["index"]))
    return H(text.encode("utf-8"))


def request_hash(p):
    h1 = H((p["requesterNonce"] + p["workOrderId"] + p["workerId"] + p["workloadId"] +
            p["requesterId"]).encode("utf-8"))
    out = digest(p["outData"]) if p.get("outData") else b""
    return H(h1 + digest(p["inData"]) + out)


def is_hex(text, nbytes):
    return re.fullmatch("[0-9a-f]{%d}" % (2 * nbytes), text) is not None


def check_compat(p, want_keys):
    assert list(p) == want_keys, list(p)
    for it in p["inData"]:
        assert list(it) == ITEM, it
        assert (it["dataHash"], it["encryptedDataEncryptionKey"], it["iv"]) == ("", "null", ""), it
        base64.b64decode(it["data"], validate=True)
    assert is_hex(p["encryptedRequestHash"], 48), p["encryptedRequestHash"]


def check_nonce_safe(p, want_keys, templates):
    assert list(p) == want_keys, list(p)
    rsa = len(p["encryptedSessionKey"]) // 2
    wrap = 12 + rsa + 16  # IV || AES-GCM(session key, IV, RSA-OAEP(DEK)) || tag
    session_ivs = [p["sessionKeyIv"]]
    data_ivs, wrapped = [], []
    for it in p["inData"] + p["outData"]:
        assert list(it) == ITEM, it
        assert it["dataHash"] == "", it
        e = it["encryptedDataEncryptionKey"]
        assert is_hex(e, wrap), "wrapped key of %d bytes, want %d" % (len(e) // 2, wrap)
        assert is_hex(it["iv"], 12), it["iv"]
        session_ivs.append(e[:24])
        data_ivs.append(it["iv"])
        wrapped.append(e)
    for it in p["inData"]:
        assert len(base64.b64decode(it["data"], validate=True)) >= 16, it
    assert [t["index"] for t in p["outData"]] == list(range(templates)), p["outData"]
    assert all(t["data"] == "" for t in p["outData"]), p["outData"]
    # every IV under the session key is fresh, and so is every data key/IV
    assert len(set(session_ivs)) == len(session_ivs), "session key IV reused"
    assert len(set(data_ivs)) == len(data_ivs), "item IV reused"
    assert len(set(wrapped)) == len(wrapped), "data key reused"
    assert p["sessionKeyIv"] not in data_ivs


def check_signature(p, key_file):
    vk = VerifyingKey.from_pem(p["verifyingKey"])
    sig = base64.b64decode(p["requesterSignature"], validate=True)
    vk.verify_digest(sig, request_hash(p), sigdecode=sigdecode_der)
    if key_file:
        sk = SigningKey.from_string(bytes.fromhex(open(key_file).read().strip()),
                                    curve=vk.curve)
        assert sk.get_verifying_key().to_string() == vk.to_string(), "not the --signing-key key"
    return vk.to_string()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("mode", choices=["compat", "nonce-safe"])
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--templates", type=int, default=1)
    ap.add_argument("--signed", action="store_true")
    ap.add_argument("--key-file")
    a = ap.parse_args()
    frames = [json.loads(line) for line in open(a.log, "rb").read().splitlines()]
    assert frames, "no requests recorded"
    assert not a.count or len(frames) == a.count, "%d requests" % len(frames)
    keys = REFERENCE[:8] + (["outData"] if a.mode == "nonce-safe" else []) + REFERENCE[8:]
    keys += SIGNATURE if a.signed else []
    signers = set()
    for outer in frames:
        assert list(outer) == ["jsonrpc", "id", "method", "params"], list(outer)
        inner = json.loads(outer["params"])
        assert list(inner) == ["jsonrpc", "method", "id", "params"], list(inner)
        p = inner["params"]
        if a.mode == "compat":
            check_compat(p, keys)
        else:
            check_nonce_safe(p, keys, a.templates)
        if a.signed:
            signers.add(check_signature(p, a.key_file))
    assert len(signers) <= 1, "one signing key per run"
    print("checked %d %s request(s)%s" % (len(frames), a.mode, ", signed" if a.signed else ""))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print("check_requests.py: %s" % e, file=sys.stderr)
        sys.exit(1)
