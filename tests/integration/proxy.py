#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""proxy.py - a misbehaving man-in-the-middle between tcclient and a worker.

Usage: proxy.py MODE WORKER_URL ENDPOINT_FILE
Binds a ROUTER socket on an ephemeral loopback port, writes its endpoint to
ENDPOINT_FILE, and forwards each request to WORKER_URL. The first
ProcessWorkOrder request is treated according to MODE; everything else is
passed through unchanged:
  drop         never answer it (the client must time out and reconnect)
  tamper-sig   flip a bit of result.workerSignature
  tamper-data  flip a bit of the first outData item's ciphertext
  swap-id      replace result.workOrderId with another id
  garbage      answer with bytes that are not JSON
  bad-signup   (signup instead) flip a bit of encryption_key_signature
Runs until killed.
"""

import base64
import json
import sys

from relay import serve


def flip_b64(text):
    raw = bytearray(base64.b64decode(text))
    raw[len(raw) // 2] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def tamper(mode, reply):
    """Returns the reply to send for request (None = do not answer)."""
    obj = json.loads(reply)
    if mode == "drop":
        return None
    if mode == "garbage":
        return b"\x00 this is not a reply \xff"
    res = obj["result"]
    if mode == "tamper-sig":
        res["workerSignature"] = flip_b64(res["workerSignature"])
    elif mode == "tamper-data":
        res["outData"][0]["data"] = flip_b64(res["outData"][0]["data"])
    elif mode == "swap-id":
        res["workOrderId"] = "cd" * 32
    return json.dumps(obj).encode()


def main():
    mode, worker_url, endpoint_file = sys.argv[1:4]
    done = False

    def handle(request, method, reply):
        nonlocal done
        if not done and mode == "bad-signup" and method == "ProcessWorkerSignup":
            obj = json.loads(reply)
            sig = bytearray(bytes.fromhex(obj["encryption_key_signature"]))
            sig[-1] ^= 0x01
            obj["encryption_key_signature"] = sig.hex()
            done = True
            return json.dumps(obj).encode()
        if not done and mode != "bad-signup" and method == "ProcessWorkOrder":
            done = True
            return tamper(mode, reply)
        return reply

    serve(worker_url, endpoint_file, handle)


if __name__ == "__main__":
    main()
