#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_concurrency.sh - many clients at once: 8 bench connections and 6 more
# client processes (tcclient and the independent Python peer) run together
# against one worker with 4 processing threads; every work order gets its
# own verified reply with its own plaintext, none is lost or misdelivered.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_worker --rsa-bits 2048 --threads 4 --queue 1024

# Per-process work order files with inputs no other process uses.
for p in 1 2 3 4 5 6; do
	"$PYTHON" - "$TEST_TMP/orders$p.json" "$p" <<'EOF'
import json, sys
p = sys.argv[2]
orders = [{"workloadId": "python-hello", "params": "client%s-order%02d" % (p, i)}
          for i in range(25)]
json.dump({"workOrders": orders}, open(sys.argv[1], "w"))
EOF
done

pids=()
"$TCCLIENT" bench --connect "$ENDPOINT" --timeout "$CLIENT_TIMEOUT_MS" -n 800 -c 8 --size 64 \
	--json >"$TEST_TMP/bench.out" 2>"$TEST_TMP/bench.err" &
pids+=($!)
for p in 1 2 3; do
	"$TCCLIENT" --connect "$ENDPOINT" --timeout "$CLIENT_TIMEOUT_MS" --file "$TEST_TMP/orders$p.json" \
		>"$TEST_TMP/client$p.out" 2>"$TEST_TMP/client$p.err" &
	pids+=($!)
done
for p in 4 5 6; do
	"$PYTHON" "$TCW_SOURCE_DIR/tests/interop/peer.py" --timeout "$CLIENT_TIMEOUT_MS" "$ENDPOINT" \
		"$TEST_TMP/orders$p.json" >"$TEST_TMP/client$p.out" 2>"$TEST_TMP/client$p.err" &
	pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
	wait "$pid" || status=1
done
if [ "$status" -ne 0 ]; then
	tail -n 5 "$TEST_TMP"/*.err >&2 || true
	fail "a concurrent client failed"
fi

"$PYTHON" - "$TEST_TMP/bench.out" <<'EOF' || fail "bench figures: $(cat "$TEST_TMP/bench.out")"
import json, sys
r = json.loads(open(sys.argv[1]).read())
assert r["orders"] == 800 and r["concurrency"] == 8, r
assert r["ok"] == 808 and r["failures"] == 0, r
EOF
for p in 1 2 3 4 5 6; do
	for i in $(seq -w 0 24); do
		echo "Work order result : Hello client$p-order$i"
	done >"$TEST_TMP/want$p"
	diff -u "$TEST_TMP/want$p" "$TEST_TMP/client$p.out" >&2 ||
		fail "client $p: results differ from its own inputs"
done
expect_worker_alive "after the concurrent run"
stop_worker
expect_grep "$WORKER_LOG" 'INFO 4 processing threads, up to 1024 waiting requests$' "pool size logged"
note "ok"
