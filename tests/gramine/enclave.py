#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Timing and protocol helpers for tests/gramine/variant.sh.

  enclave.py ready LOG WORKLOAD -- CMD...
      Starts CMD (stdout and stderr to LOG), submits one WORKLOAD order
      ("Hello ready" expected) as soon as the worker answers, stops it with
      SIGTERM. Prints "<seconds from start to the verified result>
      <exit status> <CPU seconds the worker process had used by then>".
  enclave.py send URL FILE WORKLOAD
      Submits a fresh WORKLOAD order, checks its result, keeps it in FILE.
  enclave.py replay URL FILE
      Submits the order in FILE again; expects "Duplicate work order".
  enclave.py signup URL FILE
      Writes the worker's signup keys (verifying and encryption key) to FILE.
  enclave.py manifest MANIFEST
      Prints "<trusted files> <bytes hashed>" of a rendered manifest.

Orders are built by tests/integration/woclient.py (python3-zmq,
pycryptodome, ecdsa; never libtcw).
"""
import json
import os
import signal
import subprocess
import sys
import time
import tomllib

import zmq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from woclient import Order, Peer, error  # noqa: E402

URL = "tcp://127.0.0.1:7777"


class FastPeer(Peer):
    """A Peer that retries connecting every 2 ms (a fresh worker)."""

    def reconnect(self):
        if self.sock is not None:
            self.sock.close()
        self.sock = self.ctx.socket(zmq.REQ)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.RECONNECT_IVL, 2)
        self.sock.setsockopt(zmq.RCVTIMEO, self.timeout_ms)
        self.sock.connect(self.url)


def cpu_seconds(pid):
    """CPU time (user + system) process pid has used so far: the sum of its
    threads' run times (nanoseconds, /proc/PID/task/*/schedstat), or the
    process's clock ticks (/proc/PID/stat, which also holds threads that
    ended), whichever is larger."""
    ticks = 0.0
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
        ticks = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    ns = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                ns += int(f.read().split()[0])
        except OSError:
            pass
    return max(ticks, ns / 1e9)


def ready(log, workload, cmd):
    with open(log, "ab") as out:
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        try:
            peer = FastPeer(URL, timeout_ms=60000)
            order = Order(peer, workload, ["ready"])
            got = order.check_result(order.submit())
            elapsed = time.monotonic() - t0
            cpu = cpu_seconds(proc.pid)
            assert got == [b"Hello ready"], got
            peer.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                status = proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                status = proc.wait()
    print(f"{elapsed:.3f} {status} {cpu:.3f}")


def send(url, path, workload):
    peer = Peer(url, timeout_ms=60000)
    o = Order(peer, workload, ["replayed"])
    assert o.check_result(o.submit()) == [b"Hello replayed"]
    with open(path, "w") as f:
        json.dump({"params": o.params, "key": o.key.hex(), "iv": o.iv.hex()}, f)
    peer.close()


def replay(url, path):
    peer = Peer(url, timeout_ms=60000)
    saved = json.load(open(path))
    o = Order.__new__(Order)
    o.peer, o.mode, o.out_dek = peer, "session", None
    o.params, o.key, o.iv = saved["params"], bytes.fromhex(saved["key"]), bytes.fromhex(saved["iv"])
    got = o.submit("r")
    want = error(2, "Duplicate work order", "r", o.params["workOrderId"])
    assert got == want, got
    peer.close()


def signup(url, path):
    peer = Peer(url, timeout_ms=60000)
    with open(path, "w") as f:
        json.dump({k: peer.signup[k] for k in ("verifying_key", "encryption_key")}, f,
                  sort_keys=True)
    peer.close()


def manifest(path):
    m = tomllib.load(open(path, "rb"))
    total = 0
    files = m["sgx"]["trusted_files"]
    for t in files:
        uri = t if isinstance(t, str) else t["uri"]
        total += os.path.getsize(uri[len("file:"):])
    print(len(files), total)


def main():
    args = sys.argv[1:]
    if args[:1] == ["ready"] and len(args) > 4 and args[3] == "--":
        ready(args[1], args[2], args[4:])
    elif args[:1] == ["send"] and len(args) == 4:
        send(*args[1:])
    elif args[:1] == ["replay"] and len(args) == 3:
        replay(*args[1:])
    elif args[:1] == ["signup"] and len(args) == 3:
        signup(*args[1:])
    elif args[:1] == ["manifest"] and len(args) == 2:
        manifest(args[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
