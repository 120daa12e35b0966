#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""pyhost_client.py - Python-side checks for test_python.sh, built on the
independent Avalon-style peer (tests/interop/peer.py, no libtcw).

Usage:
  pyhost_client.py items URL
      One order for "py-inspect" with three inData items sent out of index
      order (an item-IV item with a dataHash, a sessionKeyIv item without a
      dataHash key, a "-" plaintext item); checks the in_data_array the
      Python workload saw: sorted by index, data as bytes, the text fields
      exactly as sent ("" when absent).
  pyhost_client.py concurrent URL THREADS ROUNDS
      THREADS client threads, each with its own REQ socket, each sending
      ROUNDS rounds of Python and native orders interleaved (hello, fib,
      slow, a raising workload) and checking every reply exactly.
Prints one "... ok" line and exits 0, or prints the failure and exits 1.
"""

import base64
import json
import os
import random
import sys
import threading

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "interop"))
import peer  # noqa: E402


def signup(url):
    p = peer.Peer(url, 120000)
    try:
        reply = p.call({"jsonrpc": "2.0", "id": 1,
                        "method": "ProcessWorkerSignup", "params": None})
    finally:
        p.close()
    _, vk, rsa = peer.check_signup(reply)
    return vk, rsa


def items_order(rsa):
    """A py-inspect order with three items; returns (order, expected)."""
    order = peer.Order(rsa, "py-inspect", "unused")
    iv_a = os.urandom(12)
    plain = {0: b"zero \xc3\xbc", 1: b"one, in clear", 2: b"two"}
    item_a = {"index": 2, "dataHash": peer.sha256(plain[2]).hex(),
              "data": base64.b64encode(peer.gcm_encrypt(order.key, iv_a,
                                                        plain[2])).decode(),
              "encryptedDataEncryptionKey": "null", "iv": iv_a.hex()}
    item_b = {"index": 0, "data": base64.b64encode(order.seal(plain[0])).decode(),
              "encryptedDataEncryptionKey": "", "iv": ""}
    item_c = {"index": 1, "dataHash": "", "data": base64.b64encode(plain[1]).decode(),
              "encryptedDataEncryptionKey": "-", "iv": ""}
    p = order.params
    p["inData"] = [item_a, item_b, item_c]
    h1 = peer.sha256((p["requesterNonce"] + p["workOrderId"] + p["workerId"] +
                      p["workloadId"] + p["requesterId"]).encode("utf-8"))
    p["encryptedRequestHash"] = order.seal(
        peer.sha256(h1 + peer.items_digest(p["inData"]))).hex()

    def seen(item):
        return {"index": ["int", item["index"]],
                "dataHash": ["str", item.get("dataHash", "")],
                "data": ["bytes", plain[item["index"]].decode("utf-8")],
                "encryptedDataEncryptionKey": ["str",
                                               item["encryptedDataEncryptionKey"]],
                "iv": ["str", item["iv"]]}
    expected = {"type": "list", "items": [seen(item_b), seen(item_c), seen(item_a)]}
    return order, expected


def run_items(url):
    vk, rsa = signup(url)
    order, expected = items_order(rsa)
    p = peer.Peer(url, 120000)
    try:
        out = peer.check_result(order, p.call(order.envelope()), vk)
    finally:
        p.close()
    peer.check(len(out) == 1, "expected one output, got %d" % len(out))
    got = json.loads(out[0].decode("utf-8"))
    peer.check(got == expected, "in_data_array mismatch:\n got  %r\n want %r" %
               (got, expected))
    print("items ok")


def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def round_orders(tid, rnd):
    """(workload, input, expected output bytes or None for the error)."""
    name = "t%dr%d" % (tid, rnd)
    n = random.randint(0, 300)
    fib_text = ("Fibonacci number at position %d = %d" % (n, fib(n))).encode()
    orders = [("python-hello", name, b"Hello " + name.encode()),
              ("hello", name, b"Hello " + name.encode()),
              ("python-fib", str(n), fib_text),
              ("fib", str(n), fib_text),
              ("py-slow", "0.02", b"slept 0.02"),
              ("py-echo", name, b"echo:" + name.encode()),
              ("py-raise", name, None)]
    random.shuffle(orders)
    return orders


def client_thread(url, vk, rsa, tid, rounds, failures, counts):
    p = peer.Peer(url, 120000)
    try:
        for rnd in range(rounds):
            for wl, text, want in round_orders(tid, rnd):
                order = peer.Order(rsa, wl, text)
                reply = p.call(order.envelope())
                if want is None:
                    peer.check_id(order, reply)
                    err = reply.get("error", {})
                    peer.check(err.get("code") == 2 and
                               err.get("message") == "Error processing work load",
                               "%s: expected the workload error, got %r" % (wl, reply))
                else:
                    out = peer.check_result(order, reply, vk)
                    peer.check(out == [want], "%s(%s): got %r, want %r" %
                               (wl, text, out, want))
                counts[tid] += 1
    except Exception as exc:  # reported by the main thread
        failures.append("thread %d: %r" % (tid, exc))
    finally:
        p.close()


def run_concurrent(url, threads, rounds):
    vk, rsa = signup(url)
    failures, counts = [], [0] * threads
    workers = [threading.Thread(target=client_thread,
                                args=(url, vk, rsa, t, rounds, failures, counts))
               for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if failures:
        for f in failures:
            print(f, file=sys.stderr)
        raise peer.CheckError("%d client threads failed" % len(failures))
    print("concurrent ok: %d orders from %d threads" % (sum(counts), threads))


def main():
    args = sys.argv[1:]
    try:
        if len(args) == 2 and args[0] == "items":
            run_items(args[1])
        elif len(args) == 4 and args[0] == "concurrent":
            run_concurrent(args[1], int(args[2]), int(args[3]))
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except peer.CheckError as exc:
        print("pyhost_client: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
