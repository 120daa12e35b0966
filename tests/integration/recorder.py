#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""recorder.py - a pass-through proxy that records the requests tcclient sends.

Usage: recorder.py WORKER_URL ENDPOINT_FILE LOG_FILE
Binds a ROUTER socket on an ephemeral loopback port, writes its endpoint to
ENDPOINT_FILE, forwards every request to WORKER_URL unchanged and appends each
ProcessWorkOrder request frame (one JSON text per line) to LOG_FILE. Runs
until killed.
"""

import json
import os
import sys

import zmq


def main():
    worker_url, endpoint_file, log_file = sys.argv[1:4]
    ctx = zmq.Context()
    front = ctx.socket(zmq.ROUTER)
    front.setsockopt(zmq.LINGER, 0)
    front.bind("tcp://127.0.0.1:*")
    back = ctx.socket(zmq.REQ)
    back.setsockopt(zmq.LINGER, 0)
    back.connect(worker_url)
    with open(endpoint_file + ".tmp", "w") as f:
        f.write(front.getsockopt_string(zmq.LAST_ENDPOINT) + "\n")
    os.rename(endpoint_file + ".tmp", endpoint_file)
    while True:
        ident, empty, request = front.recv_multipart()
        if json.loads(request).get("method") == "ProcessWorkOrder":
            with open(log_file, "ab") as f:
                f.write(request + b"\n")
        back.send(request)
        front.send_multipart([ident, empty, back.recv()])


if __name__ == "__main__":
    main()
