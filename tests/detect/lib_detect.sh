# SPDX-License-Identifier: Apache-2.0
# lib_detect.sh - helpers for the object detection tests (sourced after
# ../integration/lib.sh): sample images, starting and stopping tcdetect,
# raw requests to it, IoU checks.

# shellcheck disable=SC2153 # TCW_PID, TCW_ENDPOINT: set by daemon-lib.sh (via lib.sh)
TCDETECT=${TCDETECT:-$TCW_BUILD_DIR/bin/tcdetect}
IMAGES=${TCW_DETECT_IMAGES:-$TCW_SOURCE_DIR/.cache/images}
DETECT_DATA="$TCW_SOURCE_DIR/tests/detect"
TCD_PID=""
TCD_LOG=""
TCD_ENDPOINT=""

[ -x "$TCDETECT" ] || fail "tcdetect not built at $TCDETECT"
for f in astronaut.png chelsea.png coffee.png; do
	[ -s "$IMAGES/$f" ] || fail "sample image $IMAGES/$f missing: run 'make deps-detect'"
done

# Starts tcdetect in the background (binding tcp://127.0.0.1:* unless --bind
# is given: tcw_spawn) and waits for its "listening on" line. Sets TCD_PID, TCD_LOG,
# TCD_ENDPOINT.
# Usage: start_tcdetect [tcdetect args...]
start_tcdetect() {
	TCD_LOG=$(mktemp "$TEST_TMP/tcdetect.XXXXXX.log")
	tcw_spawn "$TCD_LOG" "$TCDETECT" "$@"
	TCD_PID=$TCW_PID
	ALL_WORKER_PIDS+=("$TCD_PID")
	tcw_wait_listening "$TCD_PID" "$TCD_LOG" "$START_TIMEOUT" ||
		fail "tcdetect did not start listening"
	TCD_ENDPOINT=$TCW_ENDPOINT
	note "tcdetect $TCD_PID listening on $TCD_ENDPOINT"
}

# Sends SIGTERM to tcdetect and checks that it exits 0.
stop_tcdetect() {
	local rc=0
	kill -0 "$TCD_PID" 2>/dev/null || { cat "$TCD_LOG" >&2; fail "tcdetect $TCD_PID died"; }
	tcw_stop "$TCD_PID" "$STOP_TIMEOUT" || rc=$?
	[ "$rc" -ne 124 ] || fail "tcdetect did not stop within ${STOP_TIMEOUT}s"
	[ "$rc" -eq 0 ] || { cat "$TCD_LOG" >&2; fail "tcdetect exited with status $rc"; }
	TCD_PID=""
}

# Prints the reply of tcdetect at ENDPOINT to one raw request frame given
# as a Python bytes expression (or "MULTI" for a two-part message).
# Usage: tcd_request ENDPOINT PY_BYTES_EXPRESSION
tcd_request() {
	"$PYTHON" - "$1" "$2" <<'PYEOF'
import sys, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.REQ)
s.setsockopt(zmq.LINGER, 0)
s.setsockopt(zmq.RCVTIMEO, 120000)
s.connect(sys.argv[1])
if sys.argv[2] == "MULTI":
    s.send_multipart([b'{"workloadId": "ov-inference",', b' "params": "x.png"}'])
else:
    s.send(eval(sys.argv[2], {"__builtins__": {}}))  # test data: a bytes expression
sys.stdout.write(s.recv().decode("utf-8"))
s.close()
ctx.term()
PYEOF
}

# Fails unless the JSON detections in file $1 hold exactly $3 boxes labelled
# $2, the best of which overlaps the box stored under key $4 of
# expected_boxes.json with IoU >= 0.5.
# Usage: expect_boxes FILE LABEL COUNT KEY
expect_boxes() {
	"$PYTHON" - "$1" "$2" "$3" "$DETECT_DATA/expected_boxes.json" "$4" <<'PYEOF' || fail "detections in $1"
import json, sys
path, label, count, ref_path, key = sys.argv[1:6]
boxes = [b for b in json.load(open(path)) if b["label"] == label]
assert len(boxes) == int(count), "%s: %d %s boxes, expected %s: %s" % (path, len(boxes), label, count, boxes)
if boxes and key != "-":
    ref = json.load(open(ref_path))[key]["box"]
    def iou(a, b):
        l, t = max(a[0], b[0]), max(a[1], b[1])
        r, btm = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
        inter = max(0, r - l) * max(0, btm - t)
        return inter / float(a[2] * a[3] + b[2] * b[3] - inter)
    best = max(iou([b["x"], b["y"], b["width"], b["height"]], ref) for b in boxes)
    assert best >= 0.5, "%s: IoU %.3f with the measured %s box %s < 0.5: %s" % (path, best, key, ref, boxes)
    print("%s: %s IoU %.3f" % (path, label, best), file=sys.stderr)
PYEOF
}

# Prints "WIDTH HEIGHT" of a PNG after decoding all of its pixel data (so a
# truncated or corrupt image fails), or of a BMP from its header.
# Usage: image_size FILE
image_size() {
	"$PYTHON" - "$1" <<'PYEOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
if data[:8] == b"\x89PNG\r\n\x1a\n":
    w, h, depth, ctype = struct.unpack(">IIBB", data[16:26])
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        idat += data[pos + 8:pos + 8 + n] if kind == b"IDAT" else b""
        pos += 12 + n
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    assert depth == 8 and len(raw) == h * (1 + w * channels), "PNG pixel data size"
elif data[:2] == b"BM":
    w, h = struct.unpack("<ii", data[18:26])
    bpp = struct.unpack("<H", data[28:30])[0]
    assert len(data) >= 54 + ((w * bpp // 8 + 3) & ~3) * abs(h), "BMP pixel data size"
else:
    sys.exit("not a PNG or BMP")
print(w, abs(h))
PYEOF
}
