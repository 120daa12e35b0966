# SPDX-License-Identifier: Apache-2.0
"""fake_service.py - a stand-in for tcdetect in the forwarding tests.

Binds a ZeroMQ REP socket on tcp://127.0.0.1:<port> (0 = any free port) and
writes the endpoint it bound to ENDPOINT_FILE, then:
  echo     answers every request with b"echo:" + the request bytes;
  swallow  receives requests and never answers (a service that lost them).
Stops by itself after LIFETIME seconds (default 600) or on SIGTERM.

Usage: fake_service.py echo|swallow PORT ENDPOINT_FILE [LIFETIME]
"""
import os
import sys
import time

import zmq


def main():
    mode, port, endpoint_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    lifetime = float(sys.argv[4]) if len(sys.argv) > 4 else 600.0
    ctx = zmq.Context()
    sock = ctx.socket(zmq.REP if mode == "echo" else zmq.ROUTER)
    sock.setsockopt(zmq.LINGER, 0)
    if port:
        sock.bind("tcp://127.0.0.1:%d" % port)
    else:
        sock.bind_to_random_port("tcp://127.0.0.1")
    tmp = endpoint_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(sock.getsockopt_string(zmq.LAST_ENDPOINT))
    os.rename(tmp, endpoint_file)
    end = time.monotonic() + lifetime
    while time.monotonic() < end:
        if not sock.poll(200):
            continue
        if mode == "echo":
            sock.send(b"echo:" + sock.recv())
        else:
            sock.recv_multipart()  # ROUTER: taken, never answered
    sock.close()
    ctx.term()


if __name__ == "__main__":
    main()
