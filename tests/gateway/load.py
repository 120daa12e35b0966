# SPDX-License-Identifier: Apache-2.0
"""load.py - acknowledged-order load and its audit, for the durability and
scale-out tests (independent peer: gwclient + woclient, never libtcw).

  load.py submit ACKS N THREADS URL[,URL...] NAME[,NAME...]
      Builds N orders for the "count" workload (input "ord-<i>-<random>"),
      spread over the workers NAME (keys from WorkerRetrieve), and submits
      them from THREADS threads, rotating over the gateways URL. Every order
      the gateway acknowledged (error code 5) is appended to ACKS as one
      JSON line before the next is sent. A thread stops at its first
      connection error (the gateway was killed).
  load.py verify ACKS COUNTS URL[,URL...] [--killed PID]... [--interrupted N]
      Every acknowledged order must reach a final, verified result
      ("counted <input>", worker signature and decryption checked) through
      every gateway URL: none may end in an error. COUNTS holds one line
      "<input> <pid>" per completed computation (the count workload appends
      it once its work is done, just before it answers), and each
      acknowledged input must have exactly one, with one exception: an order
      a killed worker (--killed PID) had completed but whose result never
      left it (the process died before its reply was journaled and sent) is
      computed again after the restart, so it has two lines, one from the
      killed process and one from another. At most N inputs (--interrupted,
      default 0; pass the processing threads of the killed workers) may
      have that second line; no input may have more, and unacknowledged
      inputs (their submission's answer was lost) follow the same rule.
"""

import argparse
import collections
import json
import os
import sys
import threading
import time

from gwclient import Gateway, Worker, new_order, submit
from woclient import Order


def cmd_submit(acks, n, threads, urls, names):
    gws = [Gateway(u) for u in urls]
    workers = [Worker(gws[0], name) for name in names]
    tag = os.urandom(4).hex()
    orders = []
    for i in range(n):
        w = workers[i % len(workers)]
        o = new_order(w, "count", ["ord-%d-%s" % (i, tag)])
        o.worker_name = names[i % len(names)]
        orders.append(o)
    lock = threading.Lock()
    out = open(acks, "a")
    acked = [0]

    def run(k):
        gw = [Gateway(u) for u in urls]
        for j, o in enumerate(orders[k::threads]):
            try:
                r = submit(gw[j % len(gw)], o)
            except (OSError, AssertionError, ValueError):
                return
            if r.get("error", {}).get("code") != 5:
                print("not acknowledged:", r, file=sys.stderr)
                continue
            line = json.dumps({"params": o.params, "key": o.key.hex(), "iv": o.iv.hex(),
                               "input": o.texts[0].decode(), "worker": o.worker_name})
            with lock:
                out.write(line + "\n")
                out.flush()
                acked[0] += 1

    ts = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    out.close()
    print("acknowledged %d of %d orders" % (acked[0], n))


def cmd_verify(acks, counts, urls, killed=(), interrupted_max=0):
    entries = [json.loads(line) for line in open(acks)]
    gws = [Gateway(u, timeout=300) for u in urls]
    keys = {}
    for e in entries:
        if e["worker"] not in keys:
            keys[e["worker"]] = Worker(gws[0], e["worker"])
    started = time.time()
    deadline = started + 600
    for e in entries:
        o = Order.__new__(Order)
        o.peer, o.mode, o.out_dek = keys[e["worker"]], "session", None
        o.params, o.key, o.iv = e["params"], bytes.fromhex(e["key"]), bytes.fromhex(e["iv"])
        first = None
        for gw in gws:
            t0 = time.time()
            while True:
                r = gw.call("WorkOrderGetResult", {"workOrderId": o.params["workOrderId"]}, "1")
                if r.get("error", {}).get("code") != 5:
                    break
                assert time.time() < deadline, "order %s never final" % o.params["workOrderId"]
            if time.time() - t0 > 0.5:
                print("slow: %.2f s via %s for %s" % (time.time() - t0, gw.port, e["worker"]))
            if first is not None:
                # the same stored reply through every gateway (verified once:
                # python-ecdsa takes tens of ms per signature)
                assert r == first, (r, first)
                continue
            first = r
            assert "error" not in r, "order %s (worker %s) ended with an error: %s" % (
                o.params["workOrderId"], e["worker"], r["error"])
            assert o.check_result(r) == [("counted " + e["input"]).encode()], r
    runs = collections.defaultdict(list)
    for line in open(counts):
        text, pid = line.rstrip("\n").rsplit(" ", 1)
        runs[text].append(int(pid))
    missing = [e["input"] for e in entries if not runs[e["input"]]]
    assert not missing, "acknowledged but never computed: %s" % missing[:5]
    again = []
    for text, pids in sorted(runs.items()):
        if len(pids) == 1:
            continue
        # computed twice is allowed only as: completed by a killed process
        # that died before the result left it, then computed after the restart
        assert len(pids) == 2 and len([p for p in pids if p in killed]) == 1, \
            "computed more than once: %s by processes %s (killed: %s)" % (text, pids, list(killed))
        again.append(text)
    assert len(again) <= interrupted_max, \
        "%d orders computed again after a kill, at most %d allowed: %s" % (
            len(again), interrupted_max, again[:5])
    for text in again:
        print("computed again after the kill (its first result never left the killed worker): "
              + text)
    print("%d acknowledged orders final and verified through %d gateway(s) in %.1f s; %d "
          "computations, %d of them again after a kill" % (
              len(entries), len(gws), time.time() - started,
              sum(len(p) for p in runs.values()), len(again)))


def main():
    if sys.argv[1] == "submit":
        cmd_submit(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5].split(","),
                   sys.argv[6].split(","))
        return
    ap = argparse.ArgumentParser(prog="load.py verify")
    ap.add_argument("acks")
    ap.add_argument("counts")
    ap.add_argument("urls")
    ap.add_argument("--killed", type=int, action="append", default=[])
    ap.add_argument("--interrupted", type=int, default=0)
    a = ap.parse_args(sys.argv[2:])
    cmd_verify(a.acks, a.counts, a.urls.split(","), set(a.killed), a.interrupted)


if __name__ == "__main__":
    main()
