#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_gateway_scaleout.sh - several gateways on one PostgreSQL (a private
# server started here): 2 gateways, 3 workers; gateway A serves w1..w3,
# gateway B w2 and w3. Under load through both, A and w2 are killed with -9
# and restarted (w2 with its --keys-file): every acknowledged order ends with
# a verified result, the same through both gateways, and exactly one result
# was computed for each (the count workload's file: one line per completed
# computation and the process that did it). The orders w2 had accepted and
# not answered when it died are computed again by the restarted w2 when the
# gateways re-send them byte for byte (docs/gateway.md, durability); of those,
# only one that the killed w2 had completed but not yet answered (one
# processing thread) may have a completion from the killed process too.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

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
W2_KILLED=${WPID[w2]}
kill -KILL "$A_PID" "$W2_KILLED"
wait "$A_PID" 2>/dev/null || true
wait "${WPID[w2]}" 2>/dev/null || true
note "gateway A and worker w2 killed with $(wc -l <"$ACKS") orders acknowledged, $(wc -l <"$COUNTS") computed"
wait "$LOAD" || true
cat "$TEST_TMP/load.out" >&2
sleep 1
start_w w2
W2_LOG=$WORKER_LOG
note "w2 restarted: $(grep -oE 'replay state: interrupted work orders \(.*\): [0-9]+' "$W2_LOG" ||
	echo 'no order was pending at the kill')"
start_gw "${a_args[@]}"
A_URL=$GW_URL
"$PYTHON" "$GW_DIR/load.py" verify "$ACKS" "$COUNTS" "$A_URL,$B_URL" --killed "$W2_KILLED" \
	--interrupted 1 >"$TEST_TMP/verify.out" 2>&1 ||
	{ cat "$TEST_TMP/verify.out" >&2; fail "audit"; }
cat "$TEST_TMP/verify.out" >&2
note "w2 ran $(grep -c 'never answered: it runs again' "$W2_LOG" || true) interrupted orders again"
claims=$("${PG_RUN[@]}" "$PG_BIN/psql" -At "$PG_URL" -c "SELECT count(*) FROM orders WHERE state = 0" 2>&1) ||
	fail "psql: $claims"
[ "$claims" = 0 ] || fail "$claims orders still queued"
stop_gw
stop_gw "$B_PID"
note "ok"
