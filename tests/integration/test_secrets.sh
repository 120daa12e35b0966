#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_secrets.sh - no secret in any log line: a worker at --log-level debug
# serves a full session (tcclient, and a Python peer using the session key of
# the shared vectors, a known data key and known plaintexts, over every
# request shape, including failing orders); then its log and the client's
# diagnostics are searched for the session and data keys, the worker's
# private keys and every plaintext, raw and hex/base64-encoded.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KEYS="$TEST_TMP/worker.keys"
TAG=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
start_worker --rsa-bits 2048 --log-level debug --keys-file "$KEYS"

# tcclient: the plaintexts are secret except in its result lines (stdout).
run_client --workload python-hello --in-data "client-secret-$TAG"
expect_rc 0 "tcclient order"
run_client --workload python-fib --in-data "fib-secret-$TAG"
expect_rc 1 "tcclient order the workload refuses"
cat "$ERR" >"$TEST_TMP/client.log"

# The Python peer: orders whose secrets it knows, listed in secrets.json.
"$PYTHON" - "$ENDPOINT" "$TEST_TMP/secrets.json" "$TAG" <<'EOF' || fail "peer session"
import json, os, sys
src = os.environ["TCW_SOURCE_DIR"]
sys.path.insert(0, os.path.join(src, "tests/integration"))
from woclient import Order, Peer, error

url, out, tag = sys.argv[1:4]
vectors = json.load(open(os.path.join(src, "tests/data/workorders.json")))
vec = next(r for r in vectors["requests"] if r["name"] == "hello_session_key")
key = bytes.fromhex(vec["session_key_hex"])
iv = bytes.fromhex(vec["session_key_iv_hex"])
plain = vec["expected_plaintexts_by_index"][0] + "-" + tag
secrets = {"session key": key.hex(), "plaintexts": [plain, "Hello " + plain]}
peer = Peer(url)
for mode, extra in (("session", {}), ("item-iv", {}), ("prefixed", {}),
                    ("dek", {"template": True}), ("plain", {"sign": "compressed"})):
    o = Order(peer, "python-hello", [plain, "second-" + plain], mode=mode, key=key, iv=iv,
              **extra)
    assert o.check_result(o.submit()) == [b"Hello " + plain.encode()]
    deks = o.in_deks + ([o.out_dek] if o.out_dek else [])
    secrets.setdefault("data keys", []).extend(k.hex() for k in deks)
    # the same order again: byte for byte, the reply kept for it; with
    # another inner id, refused as a replay
    assert o.check_result(o.submit()) == [b"Hello " + plain.encode()]
    assert "error" in o.submit("2")
secrets["plaintexts"].append("second-" + plain)
# failing orders with the known key: workload refusal, integrity failure
o = Order(peer, "python-fib", ["not-a-number-" + plain], key=key, iv=iv, mode="dek")
assert o.submit() == error(2, "Error processing work load", "1", o.params["workOrderId"])
secrets["plaintexts"].append("not-a-number-" + plain)
secrets["data keys"].append(o.in_deks[0].hex())
o = Order(peer, "python-hello", ["tampered-" + plain], key=key, iv=iv)
o.params["inData"][0]["dataHash"] = "00" * 32
o.reseal()
assert o.submit() == error(2, "Work order integrity check failed", "1", o.params["workOrderId"])
secrets["plaintexts"].append("tampered-" + plain)
peer.close()
json.dump(secrets, open(out, "w"))
print("peer session done")
EOF
stop_worker

# Search the logs for every secret in every encoding it could take.
"$PYTHON" - "$TEST_TMP/secrets.json" "$KEYS" "$TAG" "$WORKER_LOG" "$TEST_TMP/client.log" <<'EOF' ||
import base64, json, sys
from Cryptodome.PublicKey import RSA

secrets_file, keys_file, tag = sys.argv[1:4]
logs = {p: open(p, "rb").read() for p in sys.argv[4:]}
s = json.load(open(secrets_file))
raw = {"session key": bytes.fromhex(s["session key"])}
for i, k in enumerate(s.get("data keys", [])):
    raw["data key %d" % i] = bytes.fromhex(k)
for i, p in enumerate(s["plaintexts"] + ["client-secret-" + tag, "fib-secret-" + tag]):
    raw["plaintext %d" % i] = p.encode()
kf = open(keys_file, "rb").read()
assert kf[:8] == b"\x89TCWKEYS" and kf[8] == 1, "unknown keys file format"
raw["worker signing key"] = kf[9:41]
der_size = int.from_bytes(kf[41:45], "big")
rsa = RSA.import_key(kf[45:45 + der_size])
for name in ("d", "p", "q"):
    v = getattr(rsa, name)
    raw["worker RSA " + name] = int(v).to_bytes((int(v).bit_length() + 7) // 8, "big")

def forms(b):
    """The secret as text, hex (both cases) and base64 at the three
    alignments (a middle slice that does not depend on neighbours)."""
    out = {b, b.hex().encode(), b.hex().upper().encode()}
    for pad in range(3):
        enc = base64.b64encode(b"\0" * pad + b)
        out.add(enc[4:-4] if len(enc) > 12 else enc)
    return {f for f in out if len(f) >= 8}

bad = []
for name, b in raw.items():
    for f in forms(b):
        for path, text in logs.items():
            if f in text:
                bad.append("%s found in %s" % (name, path))
assert len([n for n in raw if n.startswith("data key")]) == 4, raw.keys()
assert len(raw) == 16, len(raw)
for line in bad:
    print("LEAK:", line)
sys.exit(1 if bad else 0)
EOF
	fail "a secret reached a log"
expect_grep "$WORKER_LOG" ' DEBUG request method=ProcessWorkOrder' "debug lines were written"
note "ok: no secret in $(wc -l <"$WORKER_LOG") worker log lines"
