#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_gateway_scaleout.sh - several gateways on one PostgreSQL (a private
# server started here): 2 gateways, 3 workers; gateway A serves w1..w3,
# gateway B w2 and w3. Under load through both, A and w2 are killed with -9
# and restarted (w2 with its --keys-file): every acknowledged order reaches a
# final state through both gateways, none is computed twice (the count
# workload's file), and all have verified results except at most the one
# w2 (one processing thread) had accepted but not answered when it died: the
# worker's journal holds its id but no reply, so it stays "Duplicate work
# order" (docs/gateway.md, durability). Needs a tcworker that answers an exact
# resubmission with the reply it already signed (--response-store-bytes).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if ! "$TCWORKER" --help | grep -q -- --response-store-bytes; then
	echo "SKIP: this tcworker keeps no replies for exact resubmissions (--response-store-bytes)"
	exit 0
fi
pg_start
COUNTS="$TEST_TMP/counts"
ACKS="$TEST_TMP/acks"
export TCW_COUNT_FILE="$COUNTS"
cat >"$TEST_TMP/count.json" <<JSON
{"count": {"library": "$TCW_BUILD_DIR/workloads/count.so"}}
JSON
free_port() {
	"$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
declare -A EP WPID
start_w() {
	start_worker --bind "${EP[$1]}" --rsa-bits 2048 --threads 1 --queue 1024 \
		--workload "$TEST_TMP/count.json" --keys-file "$TEST_TMP/$1.keys"
	WPID[$1]=$WORKER_PID
}
for w in w1 w2 w3; do
	EP[$w]="tcp://127.0.0.1:$(free_port)"
	start_w "$w"
done
common=(--db "$PG_URL" --lease-ms 2000 --recheck-ms 300)
a_args=(--node-name A --keys-file "$TEST_TMP/a.keys" --worker "w1=${EP[w1]}" --worker "w2=${EP[w2]}"
	--worker "w3=${EP[w3]}" "${common[@]}")
start_gw "${a_args[@]}"
A_PID=$GW_PID A_URL=$GW_URL
start_gw --node-name B --keys-file "$TEST_TMP/b.keys" --worker "w2=${EP[w2]}" --worker "w3=${EP[w3]}" \
	"${common[@]}"
B_PID=$GW_PID B_URL=$GW_URL

"$PYTHON" "$GW_DIR/load.py" submit "$ACKS" 600 8 "$A_URL,$B_URL" w1,w2,w3 >"$TEST_TMP/load.out" 2>&1 &
LOAD=$!
for ((i = 0; i < 600; i++)); do
	[ -f "$ACKS" ] && [ "$(wc -l <"$ACKS")" -ge 250 ] && break
	sleep 0.05
done
kill -KILL "$A_PID" "${WPID[w2]}"
wait "$A_PID" 2>/dev/null || true
wait "${WPID[w2]}" 2>/dev/null || true
note "gateway A and worker w2 killed with $(wc -l <"$ACKS") orders acknowledged, $(wc -l <"$COUNTS") computed"
wait "$LOAD" || true
cat "$TEST_TMP/load.out" >&2
sleep 1
start_w w2
start_gw "${a_args[@]}"
A_URL=$GW_URL
"$PYTHON" "$GW_DIR/load.py" verify "$ACKS" "$COUNTS" "$A_URL,$B_URL" 1 >"$TEST_TMP/verify.out" 2>&1 ||
	{ cat "$TEST_TMP/verify.out" >&2; fail "audit"; }
cat "$TEST_TMP/verify.out" >&2
claims=$("${PG_RUN[@]}" "$PG_BIN/psql" -At "$PG_URL" -c "SELECT count(*) FROM orders WHERE state = 0" 2>&1) ||
	fail "psql: $claims"
[ "$claims" = 0 ] || fail "$claims orders still queued"
stop_gw
stop_gw "$B_PID"
note "ok"
