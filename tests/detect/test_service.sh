#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_service.sh - tcdetect as the reference inference service: exact reply
# texts, <stem>.bmp written, and every bad request (missing image, path
# traversal, symlink, non-image, empty, not JSON, missing fields, other
# workload, multi-part) answered with the right error while it keeps serving.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_detect.sh"

IMG="$TEST_TMP/images"
OUTD="$TEST_TMP/output"
mkdir -p "$IMG" "$TEST_TMP/elsewhere"
cp "$IMAGES/astronaut.png" "$IMAGES/coffee.png" "$IMG/"
cp "$IMAGES/coffee.png" "$IMG/my coffee.png"
printf 'plain text, not a picture\n' >"$IMG/notes.png"
cp "$IMAGES/astronaut.png" "$TEST_TMP/elsewhere/secret.png"
ln -s "$TEST_TMP/elsewhere/secret.png" "$IMG/link.png"
mkdir "$IMG/folder.png"

start_tcdetect --images "$IMG" --output "$OUTD" --cascades face
[ -d "$OUTD" ] || fail "output directory not created"

SUCCESS='Openvino Success: Generated output file: '
FAILED='Openvino Error: Could not execute OpenVino workorder'
NO_WL="Error: Json doesn't contain workloadId"
NO_PARAMS="Error: Json doesn't contain input params"
UNSUPPORTED='Error: Unsupported workload'

# Usage: expect_reply PY_BYTES_LITERAL EXPECTED_REPLY
expect_reply() {
	local got
	got=$(tcd_request "$TCD_ENDPOINT" "$1") || fail "no reply to $1"
	[ "$got" = "$2" ] || fail "request $1: reply '$got', expected '$2'"
	kill -0 "$TCD_PID" 2>/dev/null || fail "tcdetect died after $1"
}

# Success: the reference request (Python json.dumps formatting) and a
# compact one; the annotated BMP has the input's size.
expect_reply "b'{\"workloadId\": \"ov-inference\", \"params\": \"astronaut.png\"}'" \
	"${SUCCESS}astronaut.bmp"
[ "$(image_size "$OUTD/astronaut.bmp")" = "512 512" ] || fail "astronaut.bmp size"
expect_reply "b'{\"params\":\"my coffee.png\",\"workloadId\":\"ov-inference\",\"extra\":1}'" \
	"${SUCCESS}my coffee.bmp"
[ "$(image_size "$OUTD/my coffee.bmp")" = "600 400" ] || fail "my coffee.bmp size"
expect_grep "$TCD_LOG" '"astronaut.png" \(512x512\): 1 face -> astronaut.bmp' "log line"
expect_grep "$TCD_LOG" '"my coffee.png" \(600x400\): nothing -> my coffee.bmp' "log line"

# Images that cannot be processed: the reference's failure line.
for name in missing.png ../coffee.png ../../etc/passwd /etc/passwd sub/coffee.png \
	.hidden.png '' notes.png link.png folder.png '..' 'coffee.png\u0000x'; do
	expect_reply "b'{\"workloadId\": \"ov-inference\", \"params\": \"$name\"}'" "$FAILED"
done
[ ! -e "$OUTD/secret.bmp" ] || fail "followed a symlink out of the images directory"
[ ! -e "$OUTD/notes.bmp" ] || fail "wrote an output for a non-image"
[ ! -e "$TEST_TMP/coffee.bmp" ] || fail "path traversal wrote outside the output directory"

# Malformed requests: the reference's error texts, never silence.
expect_reply "b''" "$NO_WL"
expect_reply "b'not json at all'" "$NO_WL"
expect_reply "b'\xff\xfe'" "$NO_WL"
expect_reply "b'[\"ov-inference\", \"x.png\"]'" "$NO_WL"
expect_reply "b'{\"params\": \"astronaut.png\"}'" "$NO_WL"
expect_reply "b'{\"workloadId\": 7, \"params\": \"astronaut.png\"}'" "$NO_WL"
expect_reply "b'{\"workloadId\": \"ov-inference\", \"params\": \"astronaut.png\"} trailing'" "$NO_WL"
expect_reply "b'{\"workloadId\": \"ov-inference\"}'" "$NO_PARAMS"
expect_reply "b'{\"workloadId\": \"ov-inference\", \"params\": [\"astronaut.png\"]}'" "$NO_PARAMS"
expect_reply "b'{\"workloadId\": \"other\", \"params\": \"astronaut.png\"}'" "$UNSUPPORTED"
expect_reply "b'{\"workloadId\": \"ov-inference\", \"params\": \"' + b'a' * 5000 + b'\"}'" "$NO_WL"
expect_reply "MULTI" "$NO_WL"

# Still serving after all of that.
expect_reply "b'{\"workloadId\": \"ov-inference\", \"params\": \"coffee.png\"}'" "${SUCCESS}coffee.bmp"
stop_tcdetect
expect_grep "$TCD_LOG" 'stopping$' "stop line"

# Start-up errors: a missing images directory, an unusable endpoint.
RC=0
"$TCDETECT" --images "$TEST_TMP/nope" --output "$OUTD" --bind 'tcp://127.0.0.1:*' \
	2>"$TEST_TMP/err" || RC=$?
[ "$RC" -eq 1 ] || fail "missing images directory: status $RC"
expect_grep "$TEST_TMP/err" "cannot open images directory $TEST_TMP/nope" "images dir reason"
RC=0
timeout 60 "$TCDETECT" --images "$IMG" --output "$OUTD" --bind 'nonsense://x' \
	2>"$TEST_TMP/err" || RC=$?
[ "$RC" -eq 1 ] || fail "bad endpoint: status $RC"
expect_grep "$TEST_TMP/err" 'cannot bind nonsense://x' "bind reason"
note "ok"
