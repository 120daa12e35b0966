#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_detect.sh - tcdetect --detect on the sample photos: the astronaut's
# face and the cat's face against boxes measured by hand, no face in the
# coffee picture, the annotated image, and refusals (non-image, bad config).
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_detect.sh"

# Usage: detect OUTFILE tcdetect-args... ; stdout to OUTFILE, status in RC.
detect() {
	local out=$1
	shift
	RC=0
	"$TCDETECT" "$@" >"$out" 2>"$TEST_TMP/detect.err" || RC=$?
}

# The astronaut: exactly one face, IoU >= 0.5 with the measured box; the
# annotated PNG decodes to the input's 512x512.
detect "$TEST_TMP/astronaut.json" --cascades face --detect "$IMAGES/astronaut.png" \
	--annotate "$TEST_TMP/astronaut.png"
[ "$RC" -eq 0 ] || { cat "$TEST_TMP/detect.err" >&2; fail "astronaut: status $RC"; }
expect_boxes "$TEST_TMP/astronaut.json" face 1 astronaut-face
[ "$(image_size "$TEST_TMP/astronaut.png")" = "512 512" ] || fail "annotated astronaut size"
cmp -s "$TEST_TMP/astronaut.png" "$IMAGES/astronaut.png" && fail "annotated image equals the input"
expect_grep "$TEST_TMP/detect.err" 'astronaut.png: 512x512, 1 detections$' "summary line"

# The cat: the cat-face cascade finds its face; no human face there.
detect "$TEST_TMP/chelsea.json" --cascades cat-face,face --detect "$IMAGES/chelsea.png" \
	--annotate "$TEST_TMP/chelsea.bmp"
[ "$RC" -eq 0 ] || { cat "$TEST_TMP/detect.err" >&2; fail "chelsea: status $RC"; }
expect_boxes "$TEST_TMP/chelsea.json" cat-face 1 chelsea-cat-face
expect_boxes "$TEST_TMP/chelsea.json" face 0 -
[ "$(image_size "$TEST_TMP/chelsea.bmp")" = "451 300" ] || fail "annotated chelsea BMP size"

# No face in the coffee cup, with the default detectors (faces and bodies).
detect "$TEST_TMP/coffee.json" --detect "$IMAGES/coffee.png"
[ "$RC" -eq 0 ] || fail "coffee: status $RC"
[ "$(cat "$TEST_TMP/coffee.json")" = "[]" ] || fail "coffee: expected no detections, got $(cat "$TEST_TMP/coffee.json")"

# A text file, an empty file, a truncated PNG: refused with status 1.
printf 'not an image\n' >"$TEST_TMP/notes.png"
: >"$TEST_TMP/empty.png"
head -c 100 "$IMAGES/astronaut.png" >"$TEST_TMP/cut.png"
for f in notes.png empty.png cut.png; do
	detect "$TEST_TMP/out.json" --cascades face --detect "$TEST_TMP/$f"
	[ "$RC" -eq 1 ] || fail "$f: status $RC, expected 1"
	[ ! -s "$TEST_TMP/out.json" ] || fail "$f: printed detections"
done
expect_grep "$TEST_TMP/detect.err" 'cut.png: .*(does not decode|OpenCV)' "truncated PNG reason"
detect "$TEST_TMP/out.json" --cascades face --detect "$TEST_TMP/missing.png"
[ "$RC" -eq 1 ] || fail "missing file: status $RC"

# A picture announcing more pixels than allowed is refused before decoding.
printf '{"max_pixels": 1000}' >"$TEST_TMP/small.json"
detect "$TEST_TMP/out.json" --config "$TEST_TMP/small.json" --detect "$IMAGES/astronaut.png"
[ "$RC" -eq 1 ] || fail "max_pixels: status $RC"
expect_grep "$TEST_TMP/detect.err" 'image of 512x512 pixels is over the limit of 1000' "max_pixels reason"

# Configuration errors: status 2 with a reason.
detect "$TEST_TMP/out.json" --cascades face,nope --detect "$IMAGES/coffee.png"
[ "$RC" -eq 2 ] || fail "unknown cascade: status $RC"
expect_grep "$TEST_TMP/detect.err" 'unknown cascade "nope"' "unknown cascade reason"
detect "$TEST_TMP/out.json" --cascades 'x=/nonexistent/cascade.xml' --detect "$IMAGES/coffee.png"
[ "$RC" -eq 2 ] || fail "missing cascade file: status $RC"
expect_grep "$TEST_TMP/detect.err" 'cannot read cascade file /nonexistent/cascade.xml' "cascade file reason"
detect "$TEST_TMP/out.json" --cascades 'x=/etc/passwd' --detect "$IMAGES/coffee.png"
[ "$RC" -eq 2 ] || fail "not a cascade: status $RC"
printf '{"cascades": ["face"], "dnn": {"model": "/nonexistent.onnx"}}' >"$TEST_TMP/bad.json"
detect "$TEST_TMP/out.json" --config "$TEST_TMP/bad.json" --detect "$IMAGES/coffee.png"
[ "$RC" -eq 2 ] || fail "missing model: status $RC"
expect_grep "$TEST_TMP/detect.err" 'cannot read DNN model /nonexistent.onnx' "model reason"
detect "$TEST_TMP/out.json" --cascades '' --detect "$IMAGES/coffee.png"
[ "$RC" -eq 2 ] || fail "no detector: status $RC"
detect "$TEST_TMP/out.json" --annotate "$TEST_TMP/x.png"
[ "$RC" -eq 2 ] || fail "--annotate without --detect: status $RC"
note "ok"
