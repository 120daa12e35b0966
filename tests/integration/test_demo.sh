#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_demo.sh - the nine reference work orders through tcclient (text and
# --json output) and through scripts/demo.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ORDERS="$TCW_SOURCE_DIR/tests/test_work_orders.json"

start_worker --rsa-bits 2048

# Reference-style text output: exactly the nine result lines on stdout.
run_client --file "$ORDERS"
expect_rc 0 "tcclient --file"
expected_reference_lines | expect_file "$OUT" "tcclient --file stdout"
expect_grep "$ERR" '^worker signup: RSA 2048-bit encryption key, signature verified$' \
	"signup line"
expect_grep "$ERR" "^work order json file : $ORDERS\$" "file line"
[ "$(grep -c '^Work order result verification success$' "$ERR")" -eq 9 ] ||
	fail "expected 9 'verification success' lines on stderr"

# The submit subcommand spelled out gives the same result.
RC=0
"$TCCLIENT" submit --connect "$ENDPOINT" --file "$ORDERS" >"$OUT" 2>"$ERR" || RC=$?
expect_rc 0 "tcclient submit --file"
expected_reference_lines | expect_file "$OUT" "tcclient submit stdout"

# --json: one object per order, nine successful verified results.
run_client --json --file "$ORDERS"
expect_rc 0 "tcclient --json"
"$PYTHON" - "$OUT" <<'EOF' || fail "--json output check failed"
import json, re, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
names = ["Krsna", "Rama", "Shiva", "Ganesha", "Lakshmi", "Parvathy"]
want = [("python-hello", "Hello " + n) for n in names]
want += [("python-fib", "Fibonacci number at position %d = %d" % p)
         for p in ((9, 34), (10, 55), (15, 610))]
assert len(lines) == 9, "expected 9 JSON lines, got %d" % len(lines)
ids = set()
for line, (wl, text) in zip(lines, want):
    obj = json.loads(line)
    assert obj["ok"] is True, obj
    assert obj["workloadId"] == wl, obj
    assert obj["result"] == text, obj
    assert "error" not in obj, obj
    assert re.fullmatch(r"[0-9a-f]{64}", obj["workOrderId"]), obj
    ids.add(obj["workOrderId"])
assert len(ids) == 9, "workOrderIds are not fresh per order"
print("json ok")
EOF

# A single order from the command line.
run_client --workload python-hello --in-data 'Avalon'
expect_rc 0 "single order"
echo "Work order result : Hello Avalon" | expect_file "$OUT" "single order stdout"

stop_worker

# scripts/demo.sh: starts its own worker (RSA-3072) and must print the same
# nine lines and exit 0.
note "running scripts/demo.sh"
RC=0
(cd "$TCW_SOURCE_DIR" && bash scripts/demo.sh "$TCW_BUILD_DIR") \
	>"$TEST_TMP/demo.out" 2>"$TEST_TMP/demo.err" || RC=$?
OUT="$TEST_TMP/demo.out"
ERR="$TEST_TMP/demo.err"
expect_rc 0 "scripts/demo.sh"
expected_reference_lines | expect_file "$TEST_TMP/demo.out" "demo.sh stdout"
expect_grep "$TEST_TMP/demo.err" 'RSA 3072-bit encryption key' "demo.sh RSA size"

note "ok"
