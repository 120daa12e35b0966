#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_gateway_durability.sh - kill -9 of the gateway under load (hundreds of
# acknowledged orders in flight from 8 clients), then a restart on the same
# SQLite file: every acknowledged order completes with a verified result, and
# each was computed exactly once (the count workload's file: one line per
# completed computation). The orders at the worker when the gateway died are
# re-sent byte for byte and answered from the worker's response store.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

W=w1
DB="$TEST_TMP/gw.db"
COUNTS="$TEST_TMP/counts"
ACKS="$TEST_TMP/acks"
cat >"$TEST_TMP/count.json" <<JSON
{"count": {"library": "$TCW_BUILD_DIR/workloads/count.so"}}
JSON
export TCW_COUNT_FILE="$COUNTS"
start_worker --rsa-bits 2048 --threads 2 --queue 1024 --workload "$TEST_TMP/count.json" \
	--keys-file "$TEST_TMP/worker.keys"
WORKER_EP=$ENDPOINT
gw_args=(--worker "$W=$WORKER_EP" --db "sqlite:$DB" --keys-file "$TEST_TMP/gw.keys")
start_gw "${gw_args[@]}"

# 8 clients submit 800 orders; the worker computes ~200/s, so hundreds are
# acknowledged and not final when the gateway is killed.
"$PYTHON" "$GW_DIR/load.py" submit "$ACKS" 800 8 "$GW_URL" "$W" >"$TEST_TMP/load.out" 2>&1 &
LOAD=$!
for ((i = 0; i < 600; i++)); do
	[ -f "$ACKS" ] && [ "$(wc -l <"$ACKS")" -ge 400 ] && break
	sleep 0.05
done
pending=$(( $(wc -l <"$ACKS") - $(wc -l <"$COUNTS" 2>/dev/null || echo 0) ))
kill -KILL "$GW_PID"
wait "$GW_PID" 2>/dev/null || true
note "gateway killed with $(wc -l <"$ACKS") orders acknowledged, about $pending not computed yet"
[ "$pending" -ge 100 ] || fail "only $pending acknowledged orders were not final at the kill"
wait "$LOAD" || true
cat "$TEST_TMP/load.out" >&2

start_gw "${gw_args[@]}"
"$PYTHON" "$GW_DIR/load.py" verify "$ACKS" "$COUNTS" "$GW_URL" >"$TEST_TMP/verify.out" 2>&1 ||
	{ cat "$TEST_TMP/verify.out" >&2; fail "audit after the crash"; }
cat "$TEST_TMP/verify.out" >&2
stop_gw
note "ok"
