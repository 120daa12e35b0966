# SPDX-License-Identifier: Apache-2.0
"""gwclient.py - an independent EEA JSON-RPC peer for the tcgateway tests.

Talks HTTP with the standard library only and builds work orders with the
independent woclient.Order (pycryptodome, python-ecdsa; never libtcw), for
the worker the gateway publishes under workerId = SHA-256(name).
"""

import hashlib
import http.client
import json
import urllib.parse

from Cryptodome.PublicKey import RSA
from ecdsa import VerifyingKey

from woclient import Order


class Gateway:
    """A keep-alive HTTP connection to one gateway."""

    def __init__(self, url, timeout=120):
        u = urllib.parse.urlsplit(url)
        self.host, self.port, self.timeout = u.hostname, u.port, timeout
        self.conn = None

    def post_raw(self, body, headers=None):
        """POSTs body; returns (status, content-type, body text)."""
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port,
                                                       timeout=self.timeout)
            try:
                self.conn.request("POST", "/", body=body, headers=h)
                r = self.conn.getresponse()
                return r.status, r.getheader("Content-Type"), r.read().decode("utf-8")
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def call(self, method, params, rid=1):
        """One JSON-RPC call; returns the parsed reply (HTTP 200 required)."""
        body = json.dumps({"jsonrpc": "2.0", "method": method, "id": rid, "params": params})
        status, ctype, text = self.post_raw(body)
        assert status == 200, (status, text)
        assert ctype == "application/json", ctype
        return json.loads(text)

    def close(self):
        if self.conn is not None:
            self.conn.close()


class Worker:
    """The keys of worker NAME as the gateway publishes them (WorkerRetrieve),
    in the shape woclient.Order expects of a peer."""

    def __init__(self, gw, name):
        self.worker_id = hashlib.sha256(name.encode()).hexdigest()
        r = gw.call("WorkerRetrieve", {"workerId": self.worker_id})
        assert r["result"]["status"] == 1, r
        td = r["result"]["details"]["workerTypeData"]
        self.rsa = RSA.import_key(td["encryptionKey"])
        self.vk = VerifyingKey.from_pem(td["verificationKey"])
        self.signup = {"encryption_key": td["encryptionKey"],
                       "verifying_key": td["verificationKey"]}
        self.record = r["result"]


def new_order(worker, workload, texts, **kw):
    """A work order for worker (woclient.Order, re-sealed for its workerId)."""
    o = Order(worker, workload, texts, **kw)
    o.params["workerId"] = worker.worker_id
    o.reseal()
    return o


def submit(gw, order, rid="1"):
    """WorkOrderSubmit; returns the reply."""
    return gw.call("WorkOrderSubmit", order.params, rid)


def get_result(gw, order, rid="1", pending_ok=False, tries=600):
    """WorkOrderGetResult until the order is final (or once with pending_ok)."""
    for _ in range(tries):
        r = gw.call("WorkOrderGetResult", {"workOrderId": order.params["workOrderId"]}, rid)
        if pending_ok or r.get("error", {}).get("code") != 5:
            return r
    raise AssertionError("order %s still pending" % order.params["workOrderId"])
