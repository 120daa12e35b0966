#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_client.sh - tcclient itself: usage errors, work order file errors,
# output escaping, --json shapes, and a misbehaving proxy (lost reply →
# timeout and reconnect, tampered replies → verification failure, bad
# signup signature → exit 1).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

NOWHERE="ipc://$TEST_TMP/nobody-listens.sock"

# Runs tcclient with exactly the given arguments; sets OUT, ERR, RC.
client_raw() {
	OUT="$TEST_TMP/raw.out"
	ERR="$TEST_TMP/raw.err"
	RC=0
	"$TCCLIENT" "$@" >"$OUT" 2>"$ERR" || RC=$?
}

# ---- usage errors: exit 2, nothing on stdout ----
usage_case() {
	local what=$1
	shift
	client_raw "$@"
	expect_rc 2 "$what"
	[ ! -s "$OUT" ] || fail "$what: unexpected stdout"
	[ -s "$ERR" ] || fail "$what: no message on stderr"
}
usage_case "no arguments"
usage_case "unknown flag" --connect "$NOWHERE" --bogus
usage_case "unknown command" frobnicate --connect "$NOWHERE"
usage_case "missing --connect" --workload hello --in-data x
usage_case "nothing to submit" --connect "$NOWHERE"
usage_case "--file and --workload" --connect "$NOWHERE" --file x --workload y --in-data z
usage_case "--workload without --in-data" --connect "$NOWHERE" --workload y
usage_case "--in-data without --workload" --connect "$NOWHERE" --in-data y
usage_case "--timeout 0" --connect "$NOWHERE" --timeout 0 --workload a --in-data b
usage_case "--timeout abc" --connect "$NOWHERE" --timeout abc --workload a --in-data b
usage_case "--timeout 5x" --connect "$NOWHERE" --timeout 5x --workload a --in-data b
usage_case "--timeout missing value" --connect "$NOWHERE" --workload a --in-data b --timeout
usage_case "--worker-id not hex" --connect "$NOWHERE" --worker-id xyz --workload a --in-data b
usage_case "--worker-id odd length" --connect "$NOWHERE" --worker-id abc --workload a --in-data b
usage_case "stray argument" --connect "$NOWHERE" --workload a --in-data b extra
usage_case "bad --connect URL" --connect "nonsense" --workload a --in-data b
expect_grep "$ERR" 'nonsense' "bad --connect URL is named"

# `tcclient bench` has its own options (test_bench_smoke.sh).
client_raw bench --connect "$NOWHERE" --in-data a --size 1
expect_rc 2 "bench --in-data with --size"
expect_grep "$ERR" '^tcclient bench: --size and --in-data cannot be combined$' "bench usage error"
# `tcclient quote` inspects a quote file offline (test_attestation.sh); it has no --connect.
client_raw quote --connect "$NOWHERE"
expect_rc 2 "quote --connect"
expect_grep "$ERR" "^tcclient quote: invalid option '--connect'\$" "quote --connect"

client_raw --help
expect_rc 0 "--help"
expect_grep "$OUT" '--connect URL' "--help text"
client_raw submit --help
expect_rc 0 "submit --help"
client_raw --version
expect_rc 0 "--version"
echo "tcclient 0.1.0" | expect_file "$OUT" "--version"

# ---- work order file errors: exit 2 naming the file (before connecting) ----
file_case() {
	local what=$1 content=$2 pattern=$3 f="$TEST_TMP/orders-$RANDOM.json"
	printf '%s' "$content" >"$f"
	client_raw --connect "$NOWHERE" --file "$f"
	expect_rc 2 "file: $what"
	expect_grep "$ERR" "$(basename "$f")" "file: $what: names the file"
	expect_grep "$ERR" "$pattern" "file: $what: says what is wrong"
}
client_raw --connect "$NOWHERE" --file "$TEST_TMP/does-not-exist.json"
expect_rc 2 "missing file"
expect_grep "$ERR" 'does-not-exist\.json' "missing file is named"
file_case "not JSON" '{"workOrders": [' 'not valid JSON'
file_case "empty" '' 'not valid JSON'
file_case "trailing data" '{"workOrders": []} x' 'not valid JSON .*at byte 19'
file_case "trailing value" '{"workOrders": []} {}' 'not valid JSON|trailing'
file_case "no workOrders" '{"orders": []}' 'workOrders'
file_case "workOrders not an array" '{"workOrders": {}}' 'workOrders'
file_case "entry not an object" '{"workOrders": [1]}' 'workOrders\[0\]'
file_case "params missing" \
	'{"workOrders": [{"workloadId": "python-hello", "params": "a"}, {"workloadId": "python-fib"}]}' \
	'workOrders\[1\].*params'
file_case "params not a string" \
	'{"workOrders": [{"workloadId": "python-fib", "params": 9}]}' 'workOrders\[0\].*params'
file_case "workloadId not a string" \
	'{"workOrders": [{"workloadId": 7, "params": "x"}]}' 'workOrders\[0\].*workloadId'

# ---- no worker: signup times out, exit 1 ----
client_raw --connect "$NOWHERE" --timeout 500 --workload python-hello --in-data x
expect_rc 1 "no worker"
expect_grep "$ERR" 'signup' "no worker: signup failure reported"

# ---- against a real worker ----
start_worker --rsa-bits 2048

# Entries without workloadId are skipped, like the reference client.
printf '%s' '{"workOrders": [{"params": "skipped"}, {"workloadId": "python-hello", "params": "kept"}]}' \
	>"$TEST_TMP/skip.json"
run_client --file "$TEST_TMP/skip.json"
expect_rc 0 "skipped entry"
echo "Work order result : Hello kept" | expect_file "$OUT" "skipped entry"
expect_grep "$ERR" 'skipping workOrders\[0\]' "skipped entry is reported"

# An empty list still does the signup and succeeds.
printf '%s' '{"workOrders": []}' >"$TEST_TMP/empty.json"
run_client --file "$TEST_TMP/empty.json"
expect_rc 0 "empty order list"
[ ! -s "$OUT" ] || fail "empty order list: unexpected stdout"

# Explicit workerId (the worker does not check it) and an empty input.
run_client --worker-id "$(printf 'ab%.0s' {1..32})" --workload python-hello --in-data ''
expect_rc 0 "--worker-id, empty input"
echo "Work order result : Hello " | expect_file "$OUT" "empty input"

# Non-printable bytes are escaped in text mode, exact in --json.
run_client --workload python-hello --in-data $'a\tb\nc\x1bd\\e \xc3\xa9'
expect_rc 0 "control characters"
printf '%s\n' 'Work order result : Hello a\tb\nc\x1bd\\e é' |
	expect_file "$OUT" "escaped control characters"
run_client --json --workload python-hello --in-data $'a\tb\nc\x1bd\\e \xc3\xa9'
expect_rc 0 "control characters --json"
"$PYTHON" - "$OUT" <<'EOF' || fail "--json with control characters"
import json, sys
obj, = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8").read().splitlines()]
assert obj["ok"] is True and obj["result"] == "Hello a\tb\nc\x1bd\\e \u00e9", obj
assert "resultBase64" not in obj, obj
EOF
run_client --workload python-hello --in-data $'bad \xff\xfe utf8'
expect_rc 0 "invalid UTF-8"
printf '%s\n' 'Work order result : Hello bad \xff\xfe utf8' | expect_file "$OUT" "invalid UTF-8"
run_client --json --workload python-hello --in-data $'bad \xff\xfe utf8'
expect_rc 0 "invalid UTF-8 --json"
"$PYTHON" - "$OUT" <<'EOF' || fail "--json with invalid UTF-8"
import base64, json, sys
obj, = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8").read().splitlines()]
assert obj["ok"] is True, obj
assert obj["result"] == "Hello bad \\xff\\xfe utf8", obj
assert base64.b64decode(obj["resultBase64"]) == b"Hello bad \xff\xfe utf8", obj
EOF

# ---- a misbehaving proxy in front of the worker ----
WORKER_ENDPOINT=$ENDPOINT
PROXY_PID=""
start_proxy() {
	local f="$TEST_TMP/proxy-$1.endpoint" i
	rm -f "$f"
	"$PYTHON" "$(dirname "$0")/proxy.py" "$1" "$WORKER_ENDPOINT" "$f" \
		2>"$TEST_TMP/proxy-$1.log" &
	PROXY_PID=$!
	ALL_WORKER_PIDS+=("$PROXY_PID")
	for ((i = 0; i < 600; i++)); do
		[ -s "$f" ] && break
		kill -0 "$PROXY_PID" 2>/dev/null || fail "proxy $1 died"
		sleep 0.1
	done
	ENDPOINT=$(cat "$f")
}
stop_proxy() {
	kill -TERM "$PROXY_PID" 2>/dev/null || true
	wait "$PROXY_PID" 2>/dev/null || true
	ENDPOINT=$WORKER_ENDPOINT
}
printf '%s' '{"workOrders": [{"workloadId": "python-hello", "params": "one"},
 {"workloadId": "python-hello", "params": "two"},
 {"workloadId": "python-fib", "params": "7"}]}' >"$TEST_TMP/three.json"

# A lost reply: timeout for that order, then a fresh socket for the rest
# (the timeout also bounds the healthy orders, so keep it generous).
start_proxy drop
RC=0
"$TCCLIENT" --connect "$ENDPOINT" --timeout 10000 --file "$TEST_TMP/three.json" \
	>"$TEST_TMP/drop.out" 2>"$TEST_TMP/drop.err" || RC=$?
OUT="$TEST_TMP/drop.out"
ERR="$TEST_TMP/drop.err"
expect_rc 1 "lost reply"
expect_file "$OUT" "lost reply" <<'EOF'
Work order execution failed: no reply within 10000 ms
Work order result : Hello two
Work order result : Fibonacci number at position 7 = 13
EOF
stop_proxy

for mode in tamper-sig tamper-data swap-id garbage; do
	start_proxy "$mode"
	run_client --file "$TEST_TMP/three.json"
	expect_rc 1 "$mode"
	expect_file "$OUT" "$mode" <<'EOF'
Work order result verification fail
Work order result : Hello two
Work order result : Fibonacci number at position 7 = 13
EOF
	run_client --json --file "$TEST_TMP/three.json"
	expect_rc 0 "$mode --json (only the first order is tampered)"
	stop_proxy
done

start_proxy tamper-sig
run_client --json --workload python-hello --in-data x
expect_rc 1 "tamper-sig --json"
"$PYTHON" - "$OUT" <<'EOF' || fail "tamper-sig --json: wrong object"
import json, re, sys
obj, = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
assert obj["ok"] is False and "result" not in obj, obj
assert obj["error"] == {"kind": "verify",
                        "message": "Work order result verification fail"}, obj
assert obj["workloadId"] == "python-hello", obj
assert re.fullmatch(r"[0-9a-f]{64}", obj["workOrderId"]), obj
EOF
stop_proxy

start_proxy bad-signup
run_client --workload python-hello --in-data x
expect_rc 1 "bad signup signature"
[ ! -s "$OUT" ] || fail "bad signup signature: unexpected stdout"
expect_grep "$ERR" 'encryption_key_signature does not verify' "bad signup signature"
stop_proxy

expect_worker_alive "after the client tests"
stop_worker
note "ok"
