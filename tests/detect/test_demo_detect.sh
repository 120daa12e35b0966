#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_demo_detect.sh - scripts/demo-detect.sh (what `make demo-detect` runs)
# against this build: the five reference-style ov-inference results, then
# detections and annotated images for every sample, all left in the output
# directory.
set -euo pipefail

if [ "${TCW_SANITIZE:-0}" = 1 ]; then
	echo "test_demo_detect: skipped in the sanitizer build (the other detect tests run there)"
	exit 0
fi
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_detect.sh"

OUTD="$TEST_TMP/output"
RC=0
bash "$TCW_SOURCE_DIR/scripts/demo-detect.sh" "$TCW_BUILD_DIR" "$OUTD" >"$TEST_TMP/out" \
	2>"$TEST_TMP/err" || RC=$?
OUT="$TEST_TMP/out"
ERR="$TEST_TMP/err"
expect_rc 0 "demo-detect.sh"

samples=$(cd "$IMAGES" && ls)
{
	echo '== ov-inference: image names relayed to tcdetect (tests/test_ov_work_orders.json)'
	for s in astronaut chelsea coffee rocket camera; do
		echo "Work order result : Openvino Success: Generated output file: $s.bmp"
	done
	echo '== object-detect: images sent encrypted, detections and annotated PNG returned'
} >"$TEST_TMP/want-head"
head -n 7 "$OUT" >"$TEST_TMP/got-head"
diff -u "$TEST_TMP/want-head" "$TEST_TMP/got-head" >&2 || fail "demo-detect ov-inference lines"
[ "$(grep -c '^Work order result : ' "$OUT")" -eq $((5 + 2 * $(echo "$samples" | wc -l))) ] ||
	fail "expected two object-detect result lines per sample image"
for s in $samples; do
	stem=${s%.*}
	[ -s "$OUTD/$stem.bmp" ] || fail "$stem.bmp (ov-inference) missing"
	[ -s "$OUTD/$stem.1.png" ] || fail "$stem.1.png (object-detect) missing"
	"$PYTHON" -c 'import json,sys; assert isinstance(json.load(open(sys.argv[1])), list)' \
		"$OUTD/$stem.0.json" || fail "$stem.0.json is not a JSON list"
	want=$(image_size "$IMAGES/$s" 2>/dev/null || true) # empty for JPEG inputs
	got=$(image_size "$OUTD/$stem.1.png")
	[ -z "$want" ] || [ "$want" = "$got" ] || fail "$stem.1.png is $got, input $want"
	[ "$(image_size "$OUTD/$stem.bmp")" = "$got" ] || fail "$stem.bmp size differs"
done
expect_boxes "$OUTD/astronaut.0.json" face 1 astronaut-face
expect_grep "$ERR" "annotated images in $OUTD/: astronaut.1.png astronaut.bmp" "summary line"
note "ok"
