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
  load.py verify ACKS COUNTS URL[,URL...] [LOST]
      Every acknowledged order must reach a final, verified result
      ("counted <input>", worker signature and decryption checked) through
      every gateway URL, and COUNTS (one line per computation, appended by
      the count workload) must hold each input at most once and every
      acknowledged one exactly once. LOST (default 0) orders may instead end
      with the worker's "Duplicate work order": the ones a killed worker had
      accepted (its replay journal has the id) but not answered yet, whose
      reply is gone (at most one per processing thread of a killed worker).
"""

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


def cmd_verify(acks, counts, urls, lost_ok=0):
    entries = [json.loads(line) for line in open(acks)]
    gws = [Gateway(u, timeout=300) for u in urls]
    keys = {}
    for e in entries:
        if e["worker"] not in keys:
            keys[e["worker"]] = Worker(gws[0], e["worker"])
    started = time.time()
    deadline = started + 600
    lost = []
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
            if r.get("error", {}).get("message") == "Duplicate work order":
                lost.append(e)
                continue
            assert o.check_result(r) == [("counted " + e["input"]).encode()], r
    assert len(lost) <= lost_ok, "%d orders lost, at most %d allowed" % (len(lost), lost_ok)
    for e in lost:
        print("lost to a worker crash (accepted, never answered): %s" % e["params"]["workOrderId"])
        entries.remove(e)
    computed = collections.Counter(line.rstrip("\n") for line in open(counts))
    twice = [k for k, v in computed.items() if v > 1]
    assert not twice, "computed more than once: %s" % twice[:5]
    missing = [e["input"] for e in entries if computed[e["input"]] != 1]
    assert all(computed[e["input"]] <= 1 for e in lost)
    assert not missing, "acknowledged but never computed: %s" % missing[:5]
    print("%d acknowledged orders final and verified through %d gateway(s) in %.1f s; %d "
          "computations, none twice" % (len(entries), len(gws), time.time() - started,
                                        sum(computed.values())))


if __name__ == "__main__":
    if sys.argv[1] == "submit":
        cmd_submit(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5].split(","),
                   sys.argv[6].split(","))
    else:
        cmd_verify(sys.argv[2], sys.argv[3], sys.argv[4].split(","),
                   int(sys.argv[5]) if len(sys.argv) > 5 else 0)
