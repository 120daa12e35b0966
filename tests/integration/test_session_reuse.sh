#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_session_reuse.sh - tcclient --session-reuse against a worker with its unwrap
# cache (default) and without (--key-cache 0): submit and bench, every reply verified;
# an independent Python peer reusing a session key meets the nonce rules; the
# --key-cache flags and INI keys; an exact copy of a reference-format order with and
# without the replay cache.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ORDERS="$TCW_SOURCE_DIR/tests/test_work_orders.json"

# 1. The default worker: a key cache; session reuse over the reference orders
# (9 orders, sessions of 4) and under load; no nonce-reuse warning.
start_worker --rsa-bits 2048
expect_grep "$WORKER_LOG" "INFO key cache: 4096 unwraps, ttl 300 s\$" "key cache line"
run_client --session-reuse 4 --file "$ORDERS"
expect_rc 0 "--session-reuse 4"
expected_reference_lines | expect_file "$OUT" "--session-reuse 4"
expect_grep "$ERR" '^work order requests: session reuse \(one session key for up to 4 orders, own IV per encryption\)$' \
	"mode line"
RC=0
"$TCCLIENT" bench --connect "$ENDPOINT" --timeout "$CLIENT_TIMEOUT_MS" -n 400 -c 8 \
	--session-reuse 100 --json >"$TEST_TMP/bench.json" 2>"$TEST_TMP/bench.err" || RC=$?
OUT="$TEST_TMP/bench.json" ERR="$TEST_TMP/bench.err" expect_rc 0 "bench --session-reuse 100"
"$PYTHON" - "$TEST_TMP/bench.json" <<'EOF' || fail "bench --session-reuse JSON"
import json, sys
r = json.loads(open(sys.argv[1]).read())
assert r["failures"] == 0 and r["ok"] == 408 and r["wo_per_s"] > 0, r
assert r["session_reuse"] == 100 and r["build_cpu_s"] > 0 and r["verify_cpu_s"] > 0, r
EOF
expect_no_grep "$WORKER_LOG" 'nonce reuse' "nonce reuse with --session-reuse"

# 2. An independent peer (pycryptodome) reusing one session key: the first
# order is free, the next ones must carry their own IVs and a template.
"$PYTHON" - "$ENDPOINT" <<'EOF' >"$TEST_TMP/peer.out" 2>&1 || { cat "$TEST_TMP/peer.out" >&2; fail "reuse peer"; }
import os, sys
sys.path.insert(0, os.path.join(os.environ["TCW_SOURCE_DIR"], "tests/integration"))
from woclient import Order, Peer, error, gcm, b64, request_hash

peer = Peer(sys.argv[1])
key, iv = os.urandom(32), os.urandom(12)
first = Order(peer, "python-hello", ["one"], key=key, iv=iv)
assert first.check_result(first.submit()) == [b"Hello one"]
esk = first.params["encryptedSessionKey"]

def again(text, item_iv, template_iv):
    o = Order(peer, "python-hello", [text], key=key, iv=os.urandom(12))
    o.params["encryptedSessionKey"] = esk
    it = o.params["inData"][0]
    if item_iv == "sessionKeyIv":
        item_iv = o.iv
    if item_iv is not None:
        it["data"] = b64(gcm(key, item_iv, text.encode()))
        it["encryptedDataEncryptionKey"] = ""
        it["iv"] = item_iv.hex()
    if template_iv is not None:
        o.params["outData"] = [{"index": 0, "dataHash": "", "data": "",
                                "encryptedDataEncryptionKey": "", "iv": template_iv.hex()}]
    o.reseal()
    return o

def refused(o, field):
    got = o.submit()
    want = error(2, "Invalid parameter: " + field, "1", o.params["workOrderId"])
    assert got == want, "%r\n want %r" % (got, want)

refused(again("two", None, None), "inData[0].iv")
refused(again("three", os.urandom(12), None), "outData")
refused(again("four", "sessionKeyIv", os.urandom(12)), "inData[0].iv")
out_iv = os.urandom(12)
o = again("five", os.urandom(12), out_iv)
reply = o.submit()
res = reply["result"]["outData"][0]
assert res["iv"] == out_iv.hex() and res["encryptedDataEncryptionKey"] == "", res
assert o.check_result(reply) == [b"Hello five"]
# the first order's reference layout again under its (now cached) key, as
# a replay with a fresh workOrderId would send it
o = Order.__new__(Order)
o.__dict__.update(first.__dict__)
o.params = dict(first.params, workOrderId=os.urandom(32).hex())
o.reseal()
refused(o, "inData[0].iv")
print("reuse peer ok")
peer.close()
EOF
echo "reuse peer ok" | expect_file "$TEST_TMP/peer.out" "reuse peer"
stop_worker

# 2b. An exact copy of a reference-format order (one key and IV for
# everything): the default worker answers it with the kept reply; without the
# replay cache it would run again under the cached key, so it is refused.
for mode in default replay-off; do
	if [ "$mode" = default ]; then start_worker --rsa-bits 2048; else
		start_worker --rsa-bits 2048 --replay-cache 0; fi
	"$PYTHON" - "$ENDPOINT" "$mode" <<'EOF' >"$TEST_TMP/copy.out" 2>&1 || { cat "$TEST_TMP/copy.out" >&2; fail "exact copy, $mode"; }
import os, sys
sys.path.insert(0, os.path.join(os.environ["TCW_SOURCE_DIR"], "tests/integration"))
from woclient import Order, Peer, error

peer = Peer(sys.argv[1])
o = Order(peer, "python-hello", ["copy"], key=os.urandom(32), iv=os.urandom(12))
first = o.submit()
assert o.check_result(first) == [b"Hello copy"]
again = o.submit()
if sys.argv[2] == "default":
    assert again == first, again
else:
    want = error(2, "Invalid parameter: inData[0].iv", "1", o.params["workOrderId"])
    assert again == want, again
print("exact copy ok")
peer.close()
EOF
	echo "exact copy ok" | expect_file "$TEST_TMP/copy.out" "exact copy, $mode"
	stop_worker
done

# 3. --key-cache 0 (INI): every order RSA-decrypted, still answered; the
# peer's reuse orders are first uses then.
cat >"$TEST_TMP/kc.ini" <<EOF
[tcworker]
bind = tcp://127.0.0.1:*
rsa-bits = 2048
key-cache = 0
key-cache-ttl = 5
EOF
start_worker --config "$TEST_TMP/kc.ini"
expect_grep "$WORKER_LOG" "INFO key cache off \(--key-cache 0\): every session key is RSA-decrypted\$" \
	"key cache off"
run_client --session-reuse 3 --file "$ORDERS"
expect_rc 0 "--session-reuse 3, --key-cache 0"
expected_reference_lines | expect_file "$OUT" "--session-reuse 3, --key-cache 0"
run_client --compat --file "$ORDERS"
expect_rc 0 "--compat, --key-cache 0"
stop_worker
start_worker --rsa-bits 2048 --key-cache 2 --key-cache-ttl 1
expect_grep "$WORKER_LOG" "INFO key cache: 2 unwraps, ttl 1 s\$" "--key-cache 2 --key-cache-ttl 1"
run_client --session-reuse 9 --file "$ORDERS"
expect_rc 0 "--key-cache 2"
stop_worker

# 4. Bad values; tcclient's own checks.
for bad in "--key-cache abc" "--key-cache 1000001" "--key-cache-ttl 0" "--key-cache-ttl 86401"; do
	# shellcheck disable=SC2086
	run_worker_fg $bad
	expect_rc 2 "$bad"
	expect_grep "$ERR" "^tcworker: ${bad%% *}: invalid value '${bad#* }' \\(expected an integer from" \
		"$bad message"
done
run_client --session-reuse 0 --file "$ORDERS"
expect_rc 2 "--session-reuse 0"
expect_grep "$ERR" "^tcclient: --session-reuse '0': expected 1 to 1048576\$" "--session-reuse 0"
run_client --session-reuse 5 --compat --file "$ORDERS"
expect_rc 2 "--session-reuse --compat"
expect_grep "$ERR" "^tcclient: --session-reuse and --compat cannot be combined\$" \
	"--session-reuse --compat"
RC=0
"$TCCLIENT" bench --connect tcp://127.0.0.1:9 --session-reuse 2000000 >"$TEST_TMP/b.out" \
	2>"$TEST_TMP/b.err" || RC=$?
OUT="$TEST_TMP/b.out" ERR="$TEST_TMP/b.err" expect_rc 2 "bench --session-reuse 2000000"
note "ok"
