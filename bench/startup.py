#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""startup.py - worker start-up helpers for bench/run.sh.

  startup.py --measure WORKER WORKLOADS TMPDIR
      Starts the worker RUNS times on a free loopback port and measures the
      time from spawning it to its first signup reply, with RSA-2048 keys
      generated at start and, when the worker has --keys-file, with keys
      loaded from a file. Prints one JSON object (milliseconds).
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import time

import zmq

RUNS = 9
SIGNUP = b'{"jsonrpc":"2.0","id":1,"method":"ProcessWorkerSignup","params":null}'


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def req_socket(ctx, url):
    """A REQ socket that retries its connection every millisecond, so the
    signup leaves the moment the worker listens."""
    s = ctx.socket(zmq.REQ)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RECONNECT_IVL, 1)
    s.setsockopt(zmq.RECONNECT_IVL_MAX, 1)
    s.connect(url)
    return s


def one_start(ctx, argv):
    """Milliseconds from spawning argv (plus --bind) to the signup reply."""
    url = "tcp://127.0.0.1:%d" % free_port()
    s = req_socket(ctx, url)
    s.send(SIGNUP)
    t0 = time.monotonic()
    p = subprocess.Popen(argv + ["--bind", url], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    if not s.poll(120000):
        p.kill()
        raise SystemExit("startup.py: no signup reply from %r" % argv)
    s.recv()
    ms = (time.monotonic() - t0) * 1000
    s.close()
    p.terminate()
    p.wait()
    return ms


def summary(times):
    return {"runs": len(times), "p50_ms": statistics.median(times),
            "min_ms": min(times), "max_ms": max(times)}


def measure(worker, workloads, tmp):
    ctx = zmq.Context()
    base = [worker, "--workload", workloads, "--log-level", "error", "--rsa-bits", "2048"]
    res = {"generate_2048": summary([one_start(ctx, base) for _ in range(RUNS)])}
    helptext = subprocess.run([worker, "--help"], capture_output=True, text=True).stdout
    if "--keys-file" in helptext:
        keys = os.path.join(tmp, "startup.keys")
        one_start(ctx, base + ["--keys-file", keys])  # creates the file
        res["keys_file"] = summary([one_start(ctx, base + ["--keys-file", keys])
                                    for _ in range(RUNS)])
    else:
        res["keys_file"] = None
    print(json.dumps(res))
    return 0


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--measure":
        return measure(*sys.argv[2:5])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
