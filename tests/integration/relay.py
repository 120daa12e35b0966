# SPDX-License-Identifier: Apache-2.0
"""relay.py - the relay loop of the test proxies (proxy.py, recorder.py).

serve() binds a ROUTER socket on an ephemeral loopback port, writes its
endpoint to a file (atomically, so a waiting test never reads half a line),
then forwards every request to the worker and answers the client with what
the proxy's handler makes of the worker's reply. Runs until killed.
"""

import json
import os

import zmq


def method_of(request):
    """The JSON-RPC method of a request frame ('' when there is none)."""
    try:
        return json.loads(request).get("method") or ""
    except (ValueError, AttributeError):
        return ""


def serve(worker_url, endpoint_file, handle):
    """Relays requests to worker_url; handle(request, method, reply) returns
    the bytes to answer with, or None to leave the request unanswered."""
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
        back.send(request)
        reply = handle(request, method_of(request), back.recv())
        if reply is not None:
            front.send_multipart([ident, empty, reply])
