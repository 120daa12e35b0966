#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_hostile.sh - the hostile-input suite (test_hostile.py: each case's exact
# error reply, then a valid order of a rotating request shape), every request
# shape against an RSA-3072 worker, and the per-work-order time budget.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HERE=$(dirname "$0")

# 1. The hostile cases, on one worker that must survive all of them.
start_worker --rsa-bits 2048
"$PYTHON" "$HERE/test_hostile.py" "$ENDPOINT" >"$TEST_TMP/hostile.out" ||
	{ cat "$TEST_TMP/hostile.out" >&2; fail "hostile cases"; }
expect_grep "$TEST_TMP/hostile.out" '^cases: [0-9]+, valid orders: [0-9]+$' "hostile summary"
n=$(sed -n 's/^cases: \([0-9]*\),.*/\1/p' "$TEST_TMP/hostile.out")
[ "$n" -ge 40 ] || fail "only $n hostile cases"
note "$n hostile cases passed"
expect_worker_alive "after the hostile cases"
expect_no_grep "$WORKER_LOG" ' ERROR ' "no error lines in the worker log"
run_client --workload python-hello --in-data survivor
expect_rc 0 "tcclient after the hostile cases"
echo "Work order result : Hello survivor" | expect_file "$OUT" "tcclient result"
stop_worker

# 2. RSA-3072 (the default) with every request shape, and the time budget:
# a workload that polls deadline_passed stops at the budget, one that does
# not poll has its late result discarded; both answer "Error processing
# work load" and the worker keeps serving.
cat >"$TEST_TMP/budget.json" <<EOF
{
  "python-hello": {"library": "$TCW_BUILD_DIR/workloads/hello.so"},
  "spin": {"library": "$TCW_BUILD_DIR/workloads/spin.so"}
}
EOF
start_worker --workload "$TEST_TMP/budget.json" --workload-timeout-ms 1000
"$PYTHON" "$HERE/test_hostile.py" "$ENDPOINT" --valid-only >"$TEST_TMP/valid.out" ||
	{ cat "$TEST_TMP/valid.out" >&2; fail "request shapes against RSA-3072"; }
expect_grep "$TEST_TMP/valid.out" '^valid orders: 10$' "every request shape (RSA-3072)"
"$PYTHON" - "$ENDPOINT" <<'EOF' || fail "time budget"
import os, sys
sys.path.insert(0, os.path.join(os.environ["TCW_SOURCE_DIR"], "tests/integration"))
from woclient import Order, Peer, error

peer = Peer(sys.argv[1])
assert peer.rsa.size_in_bits() == 3072, peer.rsa.size_in_bits()
for text in ("poll", "sleep:2500"):
    o = Order(peer, "spin", [text])
    got = o.submit("b")
    want = error(2, "Error processing work load", "b", o.params["workOrderId"])
    assert got == want, (text, got)
    print("ok: spin", text)
o = Order(peer, "spin", ["sleep:1"], mode="dek")
assert o.check_result(o.submit()) == [b"slept"]
o = Order(peer, "python-hello", ["after the budget"])
assert o.check_result(o.submit()) == [b"Hello after the budget"]
print("ok: within the budget")
peer.close()
EOF
expect_grep "$WORKER_LOG" 'workload spin ran out of its time budget$' "budget log (polling)"
expect_grep "$WORKER_LOG" 'workload spin ran out of its time budget \(result discarded\)$' \
	"budget log (not polling)"
stop_worker
note "ok"
