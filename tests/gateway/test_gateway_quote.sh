#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_gateway_quote.sh - tcgateway checks a worker's SGX quote (synthetic
# DCAP v3 evidence, tests/integration/sgxquote.py): with matching
# --expect-mrenclave/--expect-mrsigner the worker is published with its quote
# in fields of its own (proofData stays empty); a wrong measurement keeps it
# out; new keys are re-registered automatically only when the new quote binds
# them and passes the measurements.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SGXQ="$TCW_SOURCE_DIR/tests/integration/sgxquote.py"
ATT="$TEST_TMP/attestation"
KEYS="$TEST_TMP/worker.keys"
MRE=404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f
MRS=808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f
OTHER=1111111111111111111111111111111111111111111111111111111111111111
W=enclave-1
WID=$(worker_id "$W")
PORT=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
EP="tcp://127.0.0.1:$PORT"
DB="$TEST_TMP/gw.db"

sgxq() { "$PYTHON" "$SGXQ" "$@"; }
# Starts the worker with its keys file and the attestation folder.
start_att_worker() {
	start_worker --bind "$EP" --rsa-bits 2048 --keys-file "$KEYS" --attestation-dir "$ATT" "$@"
}
# Writes a DCAP v3 quote binding the keys the worker has now.
quote_for_current_keys() {
	sgxq fetch "$EP" "$TEST_TMP/signup.json"
	sgxq make "$ATT/quote" --version 3 --signup "$TEST_TMP/signup.json" --layout 1
}
status_of() {
	rpc "$GW_URL" WorkerRetrieve "{\"workerId\":\"$WID\"}" |
		"$PYTHON" -c 'import json,sys; r=json.load(sys.stdin); print(r.get("result",{}).get("status","none"))'
}
wait_status() {
	local i
	for ((i = 0; i < 300; i++)); do
		[ "$(status_of)" = "$1" ] && return 0
		sleep 0.1
	done
	fail "worker status never became $1 (now $(status_of))"
}

mkdir "$ATT"
printf 'dcap\n' >"$ATT/attestation_type"
sgxq targetinfo "$ATT/my_target_info"
start_att_worker
quote_for_current_keys
stop_worker
start_att_worker

# 1. Matching measurements: published, quote apart from proofData.
start_gw --worker "$W=$EP" --db "sqlite:$DB" --expect-mrenclave "${MRE^^}" --expect-mrsigner "$MRS" \
	--recheck-ms 200
wait_status 1
rpc "$GW_URL" WorkerRetrieve "{\"workerId\":\"$WID\"}" >"$TEST_TMP/record.json"
"$PYTHON" - "$TEST_TMP/record.json" "$ATT/quote" "$MRE" "$MRS" <<'PY' || fail "record with a quote"
import base64, json, sys
td = json.load(open(sys.argv[1]))["result"]["details"]["workerTypeData"]
assert td["proofData"] == "" and td["proofDataType"] == "", td
assert td["sgxQuote"] == base64.b64encode(open(sys.argv[2], "rb").read()).decode()
assert td["sgxQuoteType"] == "DCAP v3", td["sgxQuoteType"]
assert td["extendedMeasurements"] == [sys.argv[3], sys.argv[4]], td["extendedMeasurements"]
PY
OUT="$TEST_TMP/c.out" ERR="$TEST_TMP/c.err" RC=0
"$TCCLIENT" --gateway "$GW_URL" --worker-name "$W" --workload python-hello --in-data quoted \
	--expect-mrenclave "$MRE" >"$OUT" 2>"$ERR" || RC=$?
expect_rc 0 "tcclient --gateway checks the published quote"
echo "Work order result : Hello quoted" | expect_file "$OUT" "order to a quoted worker"

# 2. New keys and a quote that binds them and passes: re-registered.
stop_worker
start_att_worker --regenerate-keys
quote_for_current_keys
stop_worker
start_att_worker
for ((i = 0; i < 100; i++)); do
	grep -q "presents NEW keys; accepted (its quote passed)" "$GW_LOG" && break
	sleep 0.1
done
expect_grep "$GW_LOG" "WARN worker $W presents NEW keys; accepted \(its quote passed\)" "automatic re-registration"
wait_status 1

# 3. New keys with a quote that does not bind them: refused, inactive.
stop_worker
start_att_worker --regenerate-keys
for ((i = 0; i < 100; i++)); do
	grep -q "signup refused: quote REPORTDATA does not bind the keys" "$GW_LOG" && break
	sleep 0.1
done
expect_grep "$GW_LOG" "ERROR worker $W: signup refused: quote REPORTDATA does not bind the keys; marked inactive" "stale quote"
wait_status 2
stop_gw

# 4. A wrong expected measurement: never published.
rm -f "$DB"*
quote_for_current_keys
stop_worker
start_att_worker
start_gw --worker "$W=$EP" --db "sqlite:$DB" --expect-mrenclave "$OTHER"
expect_grep "$GW_LOG" "ERROR worker $W: signup refused: MRENCLAVE is not the expected one; marked inactive" "wrong MRENCLAVE"
[ "$(status_of)" = none ] || fail "a worker with the wrong MRENCLAVE was published"
stop_gw
note "ok"
