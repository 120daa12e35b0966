#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_forward.sh - the forward plugin behind ov-inference: the exact request
# it relays (reference JSON or raw bytes), an error rather than a hang when
# the service swallows the request or is down, and success again once
# tcdetect is back on the same endpoint (a fresh socket after a failure).
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_detect.sh"

# Usage: start_fake MODE PORT NAME ; sets FAKE_PID, FAKE_ENDPOINT.
start_fake() {
	local file="$TEST_TMP/$3.endpoint" i
	"$PYTHON" "$DETECT_DATA/fake_service.py" "$1" "$2" "$file" 600 2>"$TEST_TMP/$3.log" &
	FAKE_PID=$!
	ALL_WORKER_PIDS+=("$FAKE_PID")
	for ((i = 0; i < START_TIMEOUT * 10; i++)); do
		[ -s "$file" ] && break
		kill -0 "$FAKE_PID" 2>/dev/null || { cat "$TEST_TMP/$3.log" >&2; fail "$3 did not start"; }
		sleep 0.1
	done
	FAKE_ENDPOINT=$(cat "$file")
	note "$3 ($1) on $FAKE_ENDPOINT"
}

start_fake echo 0 echo
ECHO_EP=$FAKE_ENDPOINT
ECHO_PID=$FAKE_PID
start_fake swallow 0 swallow
SWALLOW_EP=$FAKE_ENDPOINT
SWALLOW_PID=$FAKE_PID
PORT=${SWALLOW_EP##*:}

SO="$TCW_BUILD_DIR/workloads"
cat >"$TEST_TMP/wl.json" <<JSON
{
  "ov-inference": {"library": "$SO/forward.so",
    "config": {"url": "tcp://127.0.0.1:$PORT", "timeout_ms": 2000, "workload_id": "ov-inference"}},
  "echo-ov": {"library": "$SO/forward.so",
    "config": {"url": "$ECHO_EP", "timeout_ms": 20000, "workload_id": "ov-inference"}},
  "relay": {"library": "$SO/forward.so", "config": {"url": "$ECHO_EP"}}
}
JSON
start_worker --rsa-bits 2048 --workload "$TEST_TMP/wl.json"

# The reference request, formatted as Python's json.dumps does (non-ASCII
# as \u escapes, quotes and backslashes escaped).
for name in astronaut.png 'ñandú "q" \.png' 'a/b'; do
	run_client --workload echo-ov --in-data "$name"
	expect_rc 0 "echo-ov '$name'"
	want=$("$PYTHON" -c 'import json,sys; print("Work order result : echo:" + json.dumps({"workloadId": "ov-inference", "params": sys.argv[1]}).replace("\\", "\\\\"))' "$name")
	echo "$want" | expect_file "$OUT" "relayed request for '$name'"
done
# Without workload_id the input bytes go as they are.
run_client --workload relay --in-data 'raw {bytes}'
expect_rc 0 "relay"
echo 'Work order result : echo:raw {bytes}' | expect_file "$OUT" "raw relay"
# A wrapped input must be UTF-8 text.
printf '\xff\xfe' >"$TEST_TMP/bin.dat"
run_client --workload echo-ov --in-file "$TEST_TMP/bin.dat"
expect_rc 1 "non-UTF-8 input"
expect_grep "$OUT" '^Work order execution failed: 2 Error processing work load$' "non-UTF-8 reply"

# The service takes the request and never answers: an error after
# timeout_ms, not a hang (the client would wait CLIENT_TIMEOUT_MS).
run_client --workload ov-inference --in-data astronaut.png
expect_rc 1 "swallowed request"
echo 'Work order execution failed: 2 Error processing work load' | expect_file "$OUT" "swallowed"
expect_grep "$WORKER_LOG" "forward: no reply from tcp://127.0.0.1:$PORT within 2000 ms" "timeout log"

# The service is down: an error again.
kill -TERM "$SWALLOW_PID"
wait "$SWALLOW_PID" || true
run_client --workload ov-inference --in-data astronaut.png
expect_rc 1 "service down"
echo 'Work order execution failed: 2 Error processing work load' | expect_file "$OUT" "down"
expect_grep "$WORKER_LOG" "forward: tcp://127.0.0.1:$PORT did not accept the request within 2000 ms" "down log"

# tcdetect comes up on that endpoint: the next order succeeds.
mkdir -p "$TEST_TMP/img" && cp "$IMAGES/astronaut.png" "$TEST_TMP/img/"
start_tcdetect --bind "tcp://127.0.0.1:$PORT" --images "$TEST_TMP/img" --output "$TEST_TMP/out" \
	--cascades face
run_client --workload ov-inference --in-data astronaut.png
expect_rc 0 "service back"
echo 'Work order result : Openvino Success: Generated output file: astronaut.bmp' |
	expect_file "$OUT" "service back"
[ "$(image_size "$TEST_TMP/out/astronaut.bmp")" = "512 512" ] || fail "astronaut.bmp size"
run_client --workload ov-inference --in-data ../astronaut.png
expect_rc 0 "error text relayed"
echo 'Work order result : Openvino Error: Could not execute OpenVino workorder' |
	expect_file "$OUT" "error text relayed"
expect_worker_alive "after the forwarding tests"
stop_worker
stop_tcdetect
kill -TERM "$ECHO_PID"
wait "$ECHO_PID" || true

# A bad url or config is refused when the worker starts.
for cfg in '{"url": "nonsense"}' '{}' '{"url": "tcp://127.0.0.1:1", "timeout_ms": 0}' \
	'{"url": "tcp://127.0.0.1:1", "colour": 1}'; do
	printf '{"x": {"library": "%s/forward.so", "config": %s}}' "$SO" "$cfg" >"$TEST_TMP/bad.json"
	run_worker_fg --bind 'tcp://127.0.0.1:*' --workload "$TEST_TMP/bad.json" --rsa-bits 2048
	[ "$RC" -ne 0 ] || fail "worker started with forward config $cfg"
	expect_grep "$ERR" 'forward.so: init failed' "init failure for $cfg"
done
note "ok"
