# SPDX-License-Identifier: Apache-2.0
"""sdk_client.py URL WORKER_NAME ADMIN_SOCKET - Avalon's SDK connector classes
(JRPCWorkerRegistryImpl, JRPCWorkOrderImpl, JRPCWorkOrderReceiptImpl, with the
SDK's WorkOrderParams, WorkOrderReceiptRequest, SGXWorkerDetails and its
crypto and signature modules) called directly against tcgateway; their parsed
results are checked exactly. Runs with the unpacked Avalon client bundle on
PYTHONPATH (test_gateway_sdk.sh). The admin calls go through a local TCP relay
to the admin unix socket, since the SDK speaks HTTP to a URL only.
"""

import copy
import hashlib
import json
import logging
import secrets
import socket
import sys
import threading

from avalon_sdk.connector.direct.jrpc.jrpc_worker_registry import JRPCWorkerRegistryImpl
from avalon_sdk.connector.direct.jrpc.jrpc_work_order import JRPCWorkOrderImpl
from avalon_sdk.connector.direct.jrpc.jrpc_work_order_receipt import JRPCWorkOrderReceiptImpl
from avalon_sdk.work_order.work_order_params import WorkOrderParams
from avalon_sdk.work_order_receipt.work_order_receipt import WorkOrderReceiptRequest
from avalon_sdk.worker.worker_details import SGXWorkerDetails, WorkerStatus, WorkerType
from error_code.error_status import ReceiptCreateStatus, SignatureStatus, WorkOrderStatus
import avalon_crypto_utils.crypto_utility as crypto_utility
import avalon_crypto_utils.signature as signature

logging.disable(logging.CRITICAL)  # the SDK logs every call at INFO
URL, NAME, ADMIN = sys.argv[1], sys.argv[2], sys.argv[3]
WID = hashlib.sha256(NAME.encode()).hexdigest()
checks = 0


def check(name, got, want):
    global checks
    assert got == want, "%s:\n got  %r\n want %r" % (name, got, want)
    checks += 1


def relay_to_admin():
    """A 127.0.0.1 port whose connections are piped to the admin socket."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)

    def pump(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        finally:
            try:
                b.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def serve():
        while True:
            c, _ = srv.accept()
            u = socket.socket(socket.AF_UNIX)
            u.connect(ADMIN)
            threading.Thread(target=pump, args=(c, u), daemon=True).start()
            threading.Thread(target=pump, args=(u, c), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return "http://127.0.0.1:%d" % srv.getsockname()[1]


cfg = {"tcf": {"json_rpc_uri": URL}}
registry = JRPCWorkerRegistryImpl(cfg)
orders = JRPCWorkOrderImpl(cfg)
receipts = JRPCWorkOrderReceiptImpl(cfg)
sig = signature.ClientSignature()

# ---- worker registry ----------------------------------------------------------------------
r = registry.worker_lookup(WorkerType.TEE_SGX, id=1)
check("worker_lookup", r, {"jsonrpc": "2.0", "id": 1,
                           "result": {"totalCount": 1, "lookupTag": "", "ids": [WID]}})
r = registry.worker_lookup()  # the SDK's default id is None: sent as null, echoed
check("worker_lookup, id None", (r["id"], r["result"]["ids"]), (None, [WID]))
r = registry.worker_lookup_next(WID, WorkerType.TEE_SGX, id=2)
check("worker_lookup_next (lookUpTag)", r["result"], {"totalCount": 0, "lookupTag": "", "ids": []})
r = registry.worker_retrieve(WID, 3)
check("worker_retrieve status", (r["id"], r["result"]["status"]), (3, WorkerStatus.ACTIVE.value))
worker = SGXWorkerDetails()
worker.load_worker(r["result"]["details"])
check("encryption key signature", sig.verify_encryption_key_signature(
    worker.encryption_key_signature, worker.encryption_key, worker.verification_key),
    SignatureStatus.PASSED)
check("proofData empty (no IAS report to parse)", worker.proof_data, {})

r = orders.encryption_key_get(WID, secrets.token_hex(32), id=4)["result"]
check("encryption_key_get", (r["workerId"], r["encryptionKey"], r["encryptionKeyNonce"], r["tag"]),
      (WID, worker.encryption_key, "", ""))
check("its signature: the signup's encryptionKeySignature", sig.verify_encryption_key_signature(
    r["signature"], r["encryptionKey"], worker.verification_key), SignatureStatus.PASSED)

# the admin methods as Avalon's own SDK tests call them: details as JSON text, a list of
# application type ids, the status as a WorkerStatus
admin = JRPCWorkerRegistryImpl({"tcf": {"json_rpc_uri": relay_to_admin()}})
wid2, org = secrets.token_hex(32), secrets.token_hex(32)
apps = [secrets.token_hex(32), secrets.token_hex(32)]
details = json.dumps({"workOrderSyncUri": "http://worker-order:8008".encode("utf-8").hex()})
check("worker_register", admin.worker_register(wid2, WorkerType.TEE_SGX, org, apps, details, 12),
      {"jsonrpc": "2.0", "id": 12, "error": {"code": 0, "message": "Successfully Registered"}})
details = json.dumps({"workOrderSyncUri": "http://worker-order:8008".encode("utf-8").hex(),
                      "workOrderNotifyUri": "http://worker-notify:8008".encode("utf-8").hex()})
check("worker_update", admin.worker_update(wid2, details, 13),
      {"jsonrpc": "2.0", "id": 13, "error": {"code": 0, "message": "Successfully Updated"}})
check("worker_set_status", admin.worker_set_status(wid2, WorkerStatus.OFF_LINE, 14),
      {"jsonrpc": "2.0", "id": 14, "error": {"code": 0, "message": "Successfully Set Status"}})
r = registry.worker_retrieve(wid2, 15)
check("worker_retrieve of the registered worker", r["result"],
      {"workerType": WorkerType.TEE_SGX.value, "organizationId": org, "applicationTypeId": apps,
       "details": json.loads(details), "status": WorkerStatus.OFF_LINE.value})
r = registry.worker_lookup(WorkerType.TEE_SGX, org, apps, 16)
check("worker_lookup by organization and application type list", r["result"],
      {"totalCount": 1, "lookupTag": "", "ids": [wid2]})
r = registry.worker_register(secrets.token_hex(32), WorkerType.TEE_SGX, org, apps, details, 17)
check("worker_register over HTTP", r["error"]["code"], 3)

# ---- work orders --------------------------------------------------------------------------


def new_order(workload, texts, signing_key=None):
    """WorkOrderParams built as Avalon's generic client builds them."""
    key, iv = crypto_utility.generate_key(), crypto_utility.generate_iv()
    p = WorkOrderParams()
    e = p.create_request(secrets.token_hex(32), WID, workload.encode("utf-8").hex(),
                         secrets.token_hex(32), key, iv, secrets.token_hex(16),
                         worker_encryption_key=worker.encryption_key,
                         data_encryption_algorithm="AES-GCM-256")
    assert e is None, e
    for t in texts:
        assert p.add_in_data(t) is None
    assert p.add_encrypted_request_hash() is None
    if signing_key:
        assert p.add_requester_signature(signing_key)
    return p, key, iv


def submit(p, rid):
    return orders.work_order_submit(p.get_work_order_id(), WID, p.get_requester_id(),
                                    p.to_string(), rid)


def pending(p, rid):
    return {"jsonrpc": "2.0", "id": rid, "error": {
        "code": WorkOrderStatus.PENDING.value,
        "message": "Work order is computing. Please query for WorkOrderGetResult to view the result",
        "data": {"workOrderId": p.get_work_order_id()}}}


client_key = crypto_utility.generate_signing_keys()
p, key, iv = new_order("python-hello", ["Krsna", "Rama"], client_key)
check("work_order_submit, id None", submit(p, None), pending(p, None))
r = orders.work_order_get_result(p.get_work_order_id(), 21)
res = r["result"]
check("work_order_get_result id", r["id"], 21)
check("result signature", sig.verify_signature(res, worker.verification_key,
                                               p.get_requester_nonce()), SignatureStatus.PASSED)
out = crypto_utility.decrypted_response(copy.deepcopy(res), key, iv)  # decrypts in place
check("decrypted", [(o["index"], o["data"]) for o in out], [(0, "Hello Krsna")])
check("resubmission", submit(p, 22)["error"],
      {"code": 2, "message": "Duplicate work order", "data": {"workOrderId": p.get_work_order_id()}})
p2, key2, iv2 = new_order("python-fib", ["10"])
check("work_order_submit, string id", submit(p2, "sdk-2"), pending(p2, "sdk-2"))
r = orders.work_order_get_result(p2.get_work_order_id(), "sdk-3")
check("fib", (r["id"], crypto_utility.decrypted_response(r["result"], key2, iv2)[0]["data"]),
      ("sdk-3", "Fibonacci number at position 10 = 55"))
p3, _, _ = new_order("no-such-workload", ["x"])
submit(p3, 23)
check("worker error", orders.work_order_get_result(p3.get_work_order_id(), 24),
      {"jsonrpc": "2.0", "id": 24, "error": {"code": 2, "message": "Error processing work load",
                                             "data": {"workOrderId": p3.get_work_order_id()}}})
r = orders.work_order_get_result_nonblocking(secrets.token_hex(32), 25)
check("unknown order", r["error"]["code"], WorkOrderStatus.INVALID_PARAMETER_FORMAT_OR_VALUE.value)

# ---- receipts -----------------------------------------------------------------------------
wo_id = p.get_work_order_id()
receipt_key = crypto_utility.generate_signing_keys()
rr = WorkOrderReceiptRequest()
c = rr.create_receipt(json.loads(p.to_jrpc_string(30)), ReceiptCreateStatus.PENDING.value,
                      receipt_key)
r = receipts.work_order_receipt_create(
    c["workOrderId"], c["workerServiceId"], c["workerId"], c["requesterId"],
    c["receiptCreateStatus"], c["workOrderRequestHash"], c["requesterGeneratedNonce"],
    c["requesterSignature"], c["signatureRules"], c["receiptVerificationKey"], 31)
check("work_order_receipt_create", r,
      {"jsonrpc": "2.0", "id": 31, "error": {"code": 0, "message": "Receipt created successfully"}})
r = receipts.work_order_receipt_retrieve(wo_id, 32)["result"]
check("work_order_receipt_retrieve", r, dict(c, receiptCurrentStatus=ReceiptCreateStatus.COMPLETED.value))
last = receipts.work_order_receipt_update_retrieve(wo_id, None, 1 << 32, 33)["result"]
check("completion update signature", sig.verify_update_receipt_signature(last),
      SignatureStatus.PASSED)
check("completion update: COMPLETED with the response hash (EEA 6.6.2)",
      (last["updateType"], last["updateData"], last["workerSignature"]),
      (ReceiptCreateStatus.COMPLETED.value,
       crypto_utility.byte_array_to_hex(sig.calculate_response_hash(res)),
       res["workerSignature"]))
# the SDK's own receipt updates: an application update (type > 255) is kept after COMPLETED;
# a PROCESSED update (updateData = hash of the response, as the SDK computes it) is not
u = rr.update_receipt(wo_id, 1000, "acknowledged", receipt_key)
r = receipts.work_order_receipt_update(u["workOrderId"], u["updaterId"], u["updateType"],
                                       u["updateData"], u["updateSignature"],
                                       u["signatureRules"], 34)
check("work_order_receipt_update (1000)", r,
      {"jsonrpc": "2.0", "id": 34, "error": {"code": 0, "message": "Receipt updated successfully"}})
u2 = rr.update_receipt(wo_id, ReceiptCreateStatus.PROCESSED.value, res, receipt_key)
r = receipts.work_order_receipt_update(u2["workOrderId"], u2["updaterId"], u2["updateType"],
                                       u2["updateData"], u2["updateSignature"],
                                       u2["signatureRules"], 35)
check("work_order_receipt_update (PROCESSED after COMPLETED)", r["error"]["code"], 2)
r = receipts.work_order_receipt_update_retrieve(wo_id, u["updaterId"], 1, 36)["result"]
check("update by this updater", (r["updateType"], r["updateData"], r["updateIndex"],
                                 r["updateCount"]), (1000, "acknowledged", 1, 1))
check("its signature", sig.verify_update_receipt_signature(r), SignatureStatus.PASSED)
r = receipts.work_order_receipt_update_retrieve(wo_id, None, 0xFFFFFFFF, 37)["result"]
check("last of all updates", (r["updateType"], r["updateIndex"], r["updateCount"]), (1000, 2, 2))
r = receipts.work_order_receipt_lookup(WID, WID, p.get_requester_id(),
                                       ReceiptCreateStatus.COMPLETED.value, id=38)
check("work_order_receipt_lookup (requestCreateStatus)", r["result"],
      {"totalCount": 1, "lookupTag": "", "ids": [wo_id]})
r = receipts.work_order_receipt_lookup(worker_id=WID, receipt_status=0, id=39)
check("work_order_receipt_lookup, other status", r["result"]["ids"], [])
r = receipts.work_order_receipt_lookup_next(wo_id, worker_id=WID, id=40)
check("work_order_receipt_lookup_next", r["result"], {"totalCount": 0, "lookupTag": "", "ids": []})

print("%d checks of Avalon's SDK connectors passed" % checks)
