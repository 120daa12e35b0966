#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""recorder.py - a pass-through proxy that records the requests tcclient sends.

Usage: recorder.py WORKER_URL ENDPOINT_FILE LOG_FILE
Binds a ROUTER socket on an ephemeral loopback port, writes its endpoint to
ENDPOINT_FILE, forwards every request to WORKER_URL unchanged and appends each
ProcessWorkOrder request frame (one JSON text per line) to LOG_FILE. Runs
until killed.
"""

import sys

from relay import serve


def main():
    worker_url, endpoint_file, log_file = sys.argv[1:4]

    def handle(request, method, reply):
        if method == "ProcessWorkOrder":
            with open(log_file, "ab") as f:
                f.write(request + b"\n")
        return reply

    serve(worker_url, endpoint_file, handle)


if __name__ == "__main__":
    main()
