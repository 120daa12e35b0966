#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_objdetect.sh - the confidential path: an image sent encrypted to the
# object-detect workload comes back as detections JSON (index 0) and an
# annotated PNG (index 1) of the input's size, saved by tcclient --out-dir.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_detect.sh"

SO="$TCW_BUILD_DIR/workloads"
cat >"$TEST_TMP/wl.json" <<JSON
{
  "object-detect": {"library": "$SO/objdetect.so", "config": {"cascades": ["face", "cat-face"]}},
  "hello": {"library": "$SO/hello.so"}
}
JSON
start_worker --rsa-bits 2048 --workload "$TEST_TMP/wl.json"
expect_grep "$WORKER_LOG" 'object-detect: 2 cascades, images up to 16777216 bytes' "init log"

# The astronaut, in the default (nonce-safe) request mode: one face.
run_client --workload object-detect --in-file "$IMAGES/astronaut.png" --out-dir "$TEST_TMP/out"
expect_rc 0 "object-detect astronaut"
head -n 1 "$OUT" >"$TEST_TMP/line1"
tail -n +2 "$OUT" >"$TEST_TMP/line2"
[ "$(wc -l <"$OUT")" -eq 2 ] || fail "expected two result lines"
expect_grep "$TEST_TMP/line1" '^Work order result : \[\{"label":"face","confidence":1.0,' "JSON line"
expect_grep "$TEST_TMP/line2" "^Work order result : [0-9]+ bytes saved to $TEST_TMP/out/astronaut.1.png\$" \
	"PNG line"
expect_grep "$ERR" "^Work order output saved : $TEST_TMP/out/astronaut.0.json\$" "saved line"
expect_boxes "$TEST_TMP/out/astronaut.0.json" face 1 astronaut-face
expect_boxes "$TEST_TMP/out/astronaut.0.json" cat-face 0 -
[ "$(image_size "$TEST_TMP/out/astronaut.1.png")" = "512 512" ] || fail "returned PNG size"
[ "$(stat -c %a "$TEST_TMP/out/astronaut.1.png")" = 600 ] || fail "saved plaintext not mode 0600"

# The cat, as the reference client would send it (--compat), --json output.
run_client --compat --json --workload object-detect --in-file "$IMAGES/chelsea.png" \
	--out-dir "$TEST_TMP/out"
expect_rc 0 "object-detect chelsea"
"$PYTHON" - "$OUT" "$TEST_TMP/out" <<'PYEOF' || fail "--json outcome"
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert o["ok"] is True and o["workloadId"] == "object-detect", o
assert o["files"] == [sys.argv[2] + "/chelsea.0.json", sys.argv[2] + "/chelsea.1.png"], o
assert json.loads(o["result"]) == json.load(open(o["files"][0])), o
PYEOF
expect_boxes "$TEST_TMP/out/chelsea.0.json" cat-face 1 chelsea-cat-face
[ "$(image_size "$TEST_TMP/out/chelsea.1.png")" = "451 300" ] || fail "returned cat PNG size"

# A JPEG input; a picture without faces gives an empty list.
run_client --workload object-detect --in-file "$IMAGES/rocket.jpg" --out-dir "$TEST_TMP/out"
expect_rc 0 "object-detect rocket.jpg"
[ "$(cat "$TEST_TMP/out/rocket.0.json")" = "[]" ] || fail "rocket: $(cat "$TEST_TMP/out/rocket.0.json")"
[ "$(image_size "$TEST_TMP/out/rocket.1.png")" = "640 427" ] || fail "rocket PNG size"

# Not an image: the workload fails, the worker keeps serving; text output
# of another workload is saved as .txt.
printf 'no picture here' >"$TEST_TMP/notes.txt"
run_client --workload object-detect --in-file "$TEST_TMP/notes.txt" --out-dir "$TEST_TMP/out"
expect_rc 1 "non-image"
echo 'Work order execution failed: 2 Error processing work load' | expect_file "$OUT" "non-image"
[ ! -e "$TEST_TMP/out/notes.0.json" ] || fail "saved outputs of a failed order"
run_client --workload hello --in-data Krsna --out-dir "$TEST_TMP/out"
expect_rc 0 "hello with --out-dir"
echo 'Work order result : Hello Krsna' | expect_file "$OUT" "hello text"
[ "$(cat "$TEST_TMP/out/order1.0.txt")" = "Hello Krsna" ] || fail "order1.0.txt"
expect_worker_alive "after object-detect orders"
stop_worker

# tcclient flag combinations.
for args in "--in-file $TEST_TMP/notes.txt" \
	"--workload hello --in-data x --in-file $TEST_TMP/notes.txt" \
	"--workload hello --in-file $TEST_TMP/missing" \
	"--workload hello --in-file $TEST_TMP"; do
	RC=0
	# shellcheck disable=SC2086
	"$TCCLIENT" --connect tcp://127.0.0.1:1 $args >/dev/null 2>"$TEST_TMP/usage.err" || RC=$?
	[ "$RC" -eq 2 ] || fail "tcclient $args: status $RC, expected 2"
done
note "ok"
