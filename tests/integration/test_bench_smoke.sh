#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_bench_smoke.sh - tcclient bench: short runs verify every reply and print
# their figures (text and JSON); wrong plaintexts and error replies count as
# failures (exit 1); bad options are usage errors (exit 2).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# A workloads file where "hello" is really fib: replies verify, but their
# plaintext is not "Hello <input>".
WRONG="$TEST_TMP/wrong.json"
cat >"$WRONG" <<EOF
{"hello": {"library": "$TCW_BUILD_DIR/workloads/fib.so"},
 "fib": {"library": "$TCW_BUILD_DIR/workloads/fib.so"}}
EOF

# Runs tcclient bench against $ENDPOINT; stdout in $OUT, stderr in $ERR.
run_bench() {
	OUT="$TEST_TMP/bench.out"
	ERR="$TEST_TMP/bench.err"
	RC=0
	"$TCCLIENT" bench --connect "$ENDPOINT" --timeout "$CLIENT_TIMEOUT_MS" "$@" \
		>"$OUT" 2>"$ERR" </dev/null || RC=$?
}

# Checks the JSON figures in $OUT: key=value pairs that must match exactly,
# plus consistency of the latency percentiles.
expect_json() {
	"$PYTHON" - "$OUT" "$@" <<'EOF' || fail "bench --json output: $(cat "$OUT")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, "expected one line, got %d" % len(lines)
r = json.loads(lines[0])
for kv in sys.argv[2:]:
    k, v = kv.split("=", 1)
    got = r[k]
    want = type(got)(v) if not isinstance(got, str) else v
    assert got == want, "%s: got %r, want %r" % (k, got, want)
assert 0 < r["p50_ms"] <= r["p90_ms"] <= r["p99_ms"] <= r["max_ms"], r
assert r["seconds"] > 0 and r["wo_per_s"] > 0, r
kinds = ("ok", "busy", "error_reply", "verify", "wrong_output", "timeout", "transport")
assert sum(r[k] for k in kinds) == r["orders"] + r["warmup"], r
assert r["failures"] == r["orders"] + r["warmup"] - r["ok"], r
EOF
}

start_worker --rsa-bits 2048 --threads 2

note "text line, 50 orders over 4 connections"
run_bench -n 50 -c 4
expect_rc 0 "bench -n 50 -c 4"
[ "$(wc -l <"$OUT")" -eq 1 ] || fail "expected exactly one line: $(cat "$OUT")"
expect_grep "$OUT" '^50 work orders \(16 B input\) over 4 connections in [0-9.]+ s: [0-9.]+ wo/s, [0-9.]+ MB/s, latency ms p50 [0-9.]+ p90 [0-9.]+ p99 [0-9.]+ max [0-9.]+, failures 0$' \
	"bench text line"
expect_no_grep "$ERR" '\[#|\.\.\.\.\]' "no progress bar when stderr is not a terminal"

note "JSON figures, --size 1000, explicit warmup"
run_bench -n 40 -c 3 --size 1000 --warmup 5 --json
expect_rc 0 "bench --json"
expect_json orders=40 warmup=5 concurrency=3 input_bytes=1000 workload=hello failures=0 ok=45
[ ! -s "$ERR" ] || fail "--json run wrote to stderr: $(cat "$ERR")"

note "python-hello with a fixed input is checked byte for byte too"
run_bench -n 10 --workload python-hello --in-data 'Krsna' --json
expect_rc 0 "bench --in-data"
expect_json orders=10 input_bytes=5 ok=11 failures=0

note "error replies are failures"
run_bench -n 10 -c 2 --workload fib --in-data 'not a number' --json
expect_rc 1 "bench with failing work orders"
expect_json orders=10 ok=0 error_reply=12 failures=12
run_bench -n 5 --workload no-such-workload --json
expect_rc 1 "bench with an unknown workload"
expect_json ok=0 error_reply=6 failures=6
run_bench -n 5 --workload fib --in-data 10 --json
expect_rc 0 "bench with another workload (signature and decryption only)"
expect_json ok=6 failures=0
stop_worker

note "a verified reply with the wrong plaintext is a failure"
start_worker --rsa-bits 2048 --workload "$WRONG"
run_bench -n 8 -c 2 --in-data 10 --json
expect_rc 1 "bench against a hello that is not hello"
expect_json ok=0 wrong_output=10 verify=0 failures=10
run_bench -n 8 -c 2 --in-data 10
expect_rc 1 "text line with failures"
expect_grep "$OUT" 'failures 10 wrong_output=10$' "failure kinds in the text line"
stop_worker

note "usage errors"
for args in "-n 0" "-c 0" "-n x" "--size 5 --in-data abc" "--timeout 0" "--bogus" "extra"; do
	# shellcheck disable=SC2086
	run_bench $args
	expect_rc 2 "bench $args"
	expect_grep "$ERR" "^tcclient bench: " "bench $args: message"
done
RC=0
"$TCCLIENT" bench -n 5 >"$TEST_TMP/o" 2>"$TEST_TMP/e" || RC=$?
[ "$RC" -eq 2 ] || fail "bench without --connect: exit $RC"
grep -q 'missing --connect' "$TEST_TMP/e" || fail "bench without --connect: message"
"$TCCLIENT" bench --help | grep -q '^Usage: tcclient bench' || fail "bench --help"
note "ok"
