#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""resubmit_peer.py - exact resubmissions against tcworker (test_resubmit.sh).

Usage:
  resubmit_peer.py send URL DIR NAME [WORKLOAD]
      one order: keeps DIR/NAME.order (the frame and the keys to check it)
      and DIR/NAME.reply (the reply as received); checks the reply
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
"""

import glob
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from woclient import Order, Peer, error  # noqa: E402


def save(path, data):
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.rename(path + ".tmp", path)


def order_record(o, frame):
    return json.dumps({"params": o.params, "key": o.key.hex(), "iv": o.iv.hex(),
                       "frame": frame.decode("utf-8")}).encode()


def restore(peer, path):
    saved = json.load(open(path))
    o = Order.__new__(Order)
    o.peer, o.mode, o.out_dek = peer, "session", None
    o.params, o.key, o.iv = saved["params"], bytes.fromhex(saved["key"]), bytes.fromhex(saved["iv"])
    return o, saved["frame"].encode("utf-8")


def send_one(peer, d, name, workload="python-hello"):
    o = Order(peer, workload, ["resubmit " + name])
    frame = o.frame()
    save(os.path.join(d, name + ".order"), order_record(o, frame))
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
        assert o.check_result(got) == [("Hello resubmit " + name).encode()]
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


def main():
    cmd, url, d = sys.argv[1:4]
    if cmd == "send":
        workload = sys.argv[5] if len(sys.argv) > 5 else "python-hello"
        peer = Peer(url)
        o, raw = send_one(peer, d, sys.argv[4], workload)
        got = json.loads(raw)
        if workload == "python-hello":
            assert o.check_result(got) == [("Hello resubmit " + sys.argv[4]).encode()]
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
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
