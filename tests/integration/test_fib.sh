#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_fib.sh - exact big Fibonacci results, workload errors that leave the
# worker serving, and unknown workloads.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# F(n) computed independently with Python integers.
fib() {
	"$PYTHON" -c '
import sys
sys.set_int_max_str_digits(0)
a, b = 0, 1
for _ in range(int(sys.argv[1])):
    a, b = b, a + b
print(a)' "$1"
}

# Writes a work order file from "workload|params" arguments.
orders_file() {
	local f=$1
	shift
	# shellcheck disable=SC2094 # Python is handed the name only; it never reads $f.
	"$PYTHON" -c '
import json, sys
print(json.dumps({"workOrders": [
    {"workloadId": a.split("|", 1)[0], "params": a.split("|", 1)[1]}
    for a in sys.argv[2:]]}))' "$f" "$@" >"$f"
}

start_worker --rsa-bits 2048

F1000=$(fib 1000)
[ ${#F1000} -eq 209 ] || fail "reference F(1000) has ${#F1000} digits, not 209"
run_client --workload python-fib --in-data 1000
expect_rc 0 "fib 1000"
echo "Work order result : Fibonacci number at position 1000 = $F1000" |
	expect_file "$OUT" "fib 1000"

# Edge values, the '+' sign, and the configured cap (max_n 100000).
orders_file "$TEST_TMP/edge.json" 'python-fib|0' 'python-fib|1' 'fib|+12' \
	'python-fib|100000'
run_client --json --file "$TEST_TMP/edge.json"
expect_rc 0 "fib edge values"
"$PYTHON" - "$OUT" "$(fib 100000)" <<'EOF' || fail "fib edge values: wrong results"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
want = ["Fibonacci number at position 0 = 0",
        "Fibonacci number at position 1 = 1",
        "Fibonacci number at position 12 = 144",
        "Fibonacci number at position 100000 = " + sys.argv[2]]
assert len(lines) == 4, lines
for obj, text in zip(lines, want):
    assert obj["ok"] is True and obj["result"] == text, (obj.get("result", obj)[:80], text[:80])
assert [o["workloadId"] for o in lines] == ["python-fib", "python-fib", "fib", "python-fib"]
EOF

# Bad inputs: an error reply (code 2), exit 1, and the next order on the same
# connection still succeeds.
for bad in -5 abc '' 12x 100001 ' '; do
	orders_file "$TEST_TMP/bad.json" "python-fib|$bad" 'python-hello|after'
	run_client --file "$TEST_TMP/bad.json"
	expect_rc 1 "fib '$bad'"
	expect_file "$OUT" "fib '$bad'" <<'EOF'
Work order execution failed: 2 Error processing work load
Work order result : Hello after
EOF
done

# The same failure as JSON.
run_client --json --workload python-fib --in-data -5
expect_rc 1 "fib -5 --json"
"$PYTHON" - "$OUT" <<'EOF' || fail "fib -5 --json: wrong error object"
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
obj = json.loads(lines[0])
assert obj["ok"] is False, obj
assert obj["workloadId"] == "python-fib", obj
assert re.fullmatch(r"[0-9a-f]{64}", obj["workOrderId"]), obj
assert obj["error"] == {"kind": "remote", "code": 2,
                        "message": "Error processing work load"}, obj
assert "result" not in obj, obj
EOF

# Unknown workloads: error reply; the worker keeps serving.
run_client --workload no-such-workload --in-data x
expect_rc 1 "unknown workload"
echo "Work order execution failed: 2 Error processing work load" |
	expect_file "$OUT" "unknown workload"
expect_worker_alive "after an unknown workload"
orders_file "$TEST_TMP/mixed.json" 'python-hello|one' 'nope|x' 'python-fib|10' \
	'python-hello|two'
run_client --file "$TEST_TMP/mixed.json"
expect_rc 1 "mixed orders"
expect_file "$OUT" "mixed orders" <<'EOF'
Work order result : Hello one
Work order execution failed: 2 Error processing work load
Work order result : Fibonacci number at position 10 = 55
Work order result : Hello two
EOF
run_client --workload python-hello --in-data still-serving
expect_rc 0 "hello after errors"
echo "Work order result : Hello still-serving" | expect_file "$OUT" "hello after errors"

stop_worker
note "ok"
