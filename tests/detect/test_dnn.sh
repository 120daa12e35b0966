#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_dnn.sh - the DNN path: tiny SSD- and YOLO-style ONNX detectors built
# now with python3-onnx (make_models.py) are run by OpenCV inside tcdetect,
# and their outputs must decode into exactly the boxes the models encode.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_detect.sh"

M="$TEST_TMP/models"
"$PYTHON" "$DETECT_DATA/make_models.py" "$M" || fail "cannot build the test models"

# Usage: run_dnn NAME tcdetect-args... ; JSON to $TEST_TMP/NAME.json.
run_dnn() {
	local name=$1 rc=0
	shift
	"$TCDETECT" --cascades '' "$@" >"$TEST_TMP/$name.json" 2>"$TEST_TMP/$name.err" || rc=$?
	[ "$rc" -eq 0 ] || { cat "$TEST_TMP/$name.err" >&2; fail "$name: status $rc"; }
}

# Usage: expect_dnn NAME KEY: NAME.json equals expected.json[KEY] (scores to 1e-3).
expect_dnn() {
	"$PYTHON" - "$TEST_TMP/$1.json" "$M/expected.json" "$2" <<'PYEOF' || fail "$1: wrong boxes"
import json, sys
got = json.load(open(sys.argv[1]))
want = json.load(open(sys.argv[2]))[sys.argv[3]] if sys.argv[3] != "none" else []
ok = len(got) == len(want) and all(
    {k: v for k, v in g.items() if k != "confidence"} ==
    {k: v for k, v in w.items() if k != "confidence"} and
    abs(g["confidence"] - w["confidence"]) < 1e-3 for g, w in zip(got, want))
if not ok:
    sys.exit("got  %s\nwant %s" % (got, want))
PYEOF
}

# SSD layout ([1,1,N,7], found automatically): three boxes above 0.5 on a
# white picture, sorted by score, one class without a label line.
run_dnn ssd-white --dnn-model "$M/ssd.onnx" --dnn-labels "$M/labels.txt" --detect "$M/white.png" \
	--annotate "$TEST_TMP/ssd.png"
expect_dnn ssd-white ssd
[ "$(image_size "$TEST_TMP/ssd.png")" = "200 100" ] || fail "annotated SSD image size"
# The scores come from the pixels: a black picture gives no detection.
run_dnn ssd-black --dnn-model "$M/ssd.onnx" --dnn-labels "$M/labels.txt" --detect "$M/black.png"
expect_dnn ssd-black none

# YOLO layout, 0..1 coordinates, NMS dropping an overlapping box; set
# through the JSON configuration (its rows are 7 wide, like SSD's).
cat >"$TEST_TMP/cfg-yolo.json" <<JSON
{"cascades": [], "dnn": {"model": "$M/yolo.onnx", "labels": "$M/yolo.txt", "layout": "yolo",
 "width": 64, "height": 64, "scale": 0.00392156862745098, "min_confidence": 0.5,
 "nms_threshold": 0.45}}
JSON
run_dnn yolo-white --config "$TEST_TMP/cfg-yolo.json" --detect "$M/white.png"
expect_dnn yolo-white yolo
run_dnn yolo-black --config "$TEST_TMP/cfg-yolo.json" --detect "$M/black.png"
expect_dnn yolo-black none

# Forcing the SSD decoder onto the same model reads its rows as [image,
# class, score, ...]: every score (third value, 0.2 to 0.5) is below 0.5, so
# nothing is found, proving the layout setting is honoured.
sed 's/"layout": "yolo"/"layout": "ssd"/' "$TEST_TMP/cfg-yolo.json" >"$TEST_TMP/cfg-ssd.json"
run_dnn yolo-as-ssd --config "$TEST_TMP/cfg-ssd.json" --detect "$M/white.png"
expect_dnn yolo-as-ssd none

# A file that is not a network is refused at start-up (status 2).
RC=0
"$TCDETECT" --cascades '' --dnn-model "$M/labels.txt" --detect "$M/white.png" \
	>/dev/null 2>"$TEST_TMP/bad.err" || RC=$?
[ "$RC" -eq 2 ] || fail "bad model: status $RC, expected 2"
expect_grep "$TEST_TMP/bad.err" 'OpenCV' "bad model reason"
note "ok"
