#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""resubmit_peer.py - exact resubmissions against tcworker (test_resubmit.sh).

Usage:
  resubmit_peer.py send URL DIR NAME [WORKLOAD [INPUT]]
      one order: keeps DIR/NAME.order (the frame, the keys to check it and
      the output it must have) and DIR/NAME.reply (the reply as received);
      checks the reply. WORKLOAD python-hello (default; input "resubmit
      NAME") or sleep (input INPUT, milliseconds)
  resubmit_peer.py load URL DIR THREADS
      orders named t<thread>-<n> from THREADS connections until killed,
      each .order written before it is sent and .reply once answered
  resubmit_peer.py exact URL DIR NAME...
      sends each saved frame again, byte for byte: an order with a .reply
      must get exactly that reply; one without gets a verified result (it
      never ran), its first reply kept by the worker, or "Duplicate work
      order" (it was accepted, then the worker died). Prints the counts.
  resubmit_peer.py changed URL DIR NAME
      a new, valid request with the same workOrderId: "Duplicate work order"
  resubmit_peer.py copies URL DIR NAME N
      sends the saved frame of NAME from N connections at the same moment:
      every reply must be the same, byte for byte, and a verified result
"""

import glob
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from woclient import Order, Peer, error  # noqa: E402


def save(path, data):
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.rename(path + ".tmp", path)


def order_record(o, frame, expect):
    return json.dumps({"params": o.params, "key": o.key.hex(), "iv": o.iv.hex(),
                       "frame": frame.decode("utf-8"), "expect": expect}).encode()


def restore(peer, path):
    saved = json.load(open(path))
    o = Order.__new__(Order)
    o.peer, o.mode, o.out_dek = peer, "session", None
    o.params, o.key, o.iv = saved["params"], bytes.fromhex(saved["key"]), bytes.fromhex(saved["iv"])
    o.expect = saved["expect"]
    return o, saved["frame"].encode("utf-8")


def send_one(peer, d, name, workload="python-hello", text=None):
    if workload == "sleep":
        expect = "slept %d ms" % int(text)
    else:
        text, expect = "resubmit " + name, "Hello resubmit " + name
    o = Order(peer, workload, [text])
    o.expect = expect
    frame = o.frame()
    save(os.path.join(d, name + ".order"), order_record(o, frame, expect))
    raw = peer.send_raw(frame)
    save(os.path.join(d, name + ".reply"), raw)
    return o, raw


def load(url, d, threads):
    def run(t):
        peer = Peer(url, timeout_ms=600000)
        for n in range(1000000):
            send_one(peer, d, "t%d-%d" % (t, n))
    for t in range(threads):
        threading.Thread(target=run, args=(t,), daemon=True).start()
    threading.Event().wait()


def exact(url, d, names):
    peer = Peer(url)
    counts = {"same": 0, "result": 0, "duplicate": 0}
    for name in names:
        o, frame = restore(peer, os.path.join(d, name + ".order"))
        raw = peer.send_raw(frame)
        got = json.loads(raw)
        reply_path = os.path.join(d, name + ".reply")
        if os.path.exists(reply_path):
            want = open(reply_path, "rb").read()
            assert raw == want, "%s: another reply than the first one:\n%r\n%r" % (name, raw, want)
            counts["same"] += 1
            continue
        if "error" in got:
            assert got == error(2, "Duplicate work order", "1", o.params["workOrderId"]), got
            counts["duplicate"] += 1
            continue
        assert o.check_result(got) == [o.expect.encode()], got
        # a result: computed now, or kept from before the kill; a second
        # exact resubmission must get it again
        assert peer.send_raw(frame) == raw, "%s: second resubmission differs" % name
        counts["result"] += 1
    print(" ".join("%s=%d" % kv for kv in sorted(counts.items())))
    peer.close()


def changed(url, d, name):
    peer = Peer(url)
    o, _ = restore(peer, os.path.join(d, name + ".order"))
    other = Order(peer, "python-hello", ["changed " + name], wo_id=o.params["workOrderId"])
    got = other.submit()
    assert got == error(2, "Duplicate work order", "1", o.params["workOrderId"]), got
    print("ok: changed", name)
    peer.close()


def copies(url, d, name, n):
    peers = [Peer(url) for _ in range(n)]
    o, frame = restore(peers[0], os.path.join(d, name + ".order"))
    replies = [None] * n
    go = threading.Barrier(n)

    def run(k):
        go.wait()
        replies[k] = peers[k].send_raw(frame)
    ts = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    t0 = time.time()
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert all(r == replies[0] for r in replies), "the copies got different replies: %r" % replies
    assert o.check_result(json.loads(replies[0])) == [o.expect.encode()], replies[0]
    print("ok: %d copies of %s, one reply, %.1f s" % (n, name, time.time() - t0))
    [p.close() for p in peers]


def main():
    cmd, url, d = sys.argv[1:4]
    if cmd == "send":
        workload = sys.argv[5] if len(sys.argv) > 5 else "python-hello"
        peer = Peer(url)
        o, raw = send_one(peer, d, sys.argv[4], workload, sys.argv[6] if len(sys.argv) > 6 else None)
        got = json.loads(raw)
        if workload in ("python-hello", "sleep"):
            assert o.check_result(got) == [o.expect.encode()], got
        print("ok: send", sys.argv[4], "error" if "error" in got else "result")
        peer.close()
    elif cmd == "load":
        load(url, d, int(sys.argv[4]))
    elif cmd == "exact":
        names = sys.argv[4:] or sorted(os.path.basename(p)[:-6]
                                       for p in glob.glob(os.path.join(d, "*.order")))
        exact(url, d, names)
    elif cmd == "changed":
        changed(url, d, sys.argv[4])
    elif cmd == "copies":
        copies(url, d, sys.argv[4], int(sys.argv[5]))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
