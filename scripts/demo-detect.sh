#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# demo-detect.sh - object detection end to end: starts tcdetect (the
# inference service) and tcworker on loopback, sends the ov-inference orders
# of tests/test_ov_work_orders.json (tcdetect writes <stem>.bmp), then every
# sample image through the confidential object-detect workload (tcclient
# saves <stem>.0.json and <stem>.1.png), and stops both.
# Usage: scripts/demo-detect.sh [BUILD_DIR [OUTPUT_DIR]]   (make demo-detect)
set -euo pipefail

build_arg=${1:-build}
out_arg=${2:-output}
[ -d "$build_arg" ] || { echo "demo-detect: build directory '$build_arg' not found" >&2; exit 2; }
BUILD_DIR=$(cd "$build_arg" && pwd -P)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
mkdir -p "$out_arg"
OUTPUT=$(cd "$out_arg" && pwd -P)
IMAGES=${TCW_DETECT_IMAGES:-$ROOT/.cache/images}
ORDERS=tests/test_ov_work_orders.json

TCWORKER="$BUILD_DIR/bin/tcworker"
TCCLIENT="$BUILD_DIR/bin/tcclient"
TCDETECT="$BUILD_DIR/bin/tcdetect"
for b in "$TCWORKER" "$TCCLIENT"; do
	[ -x "$b" ] || { echo "demo-detect: $b is missing; build first (make build)" >&2; exit 2; }
done
if [ ! -x "$TCDETECT" ] || [ ! -f "$BUILD_DIR/workloads/objdetect.so" ]; then
	echo "demo-detect: tcdetect / objdetect.so not built: OpenCV was not found" \
		"(make deps-detect, then make build)" >&2
	exit 2
fi
[ -s "$IMAGES/astronaut.png" ] || { echo "demo-detect: no sample images in $IMAGES (make deps-detect)" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tcw-demo-detect.XXXXXX")
PIDS=()
# shellcheck source=scripts/daemon-lib.sh
. "$ROOT/scripts/daemon-lib.sh"
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		tcw_kill "$p"
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

tcw_spawn "$TMP/tcdetect.log" "$TCDETECT" --images "$IMAGES" --output "$OUTPUT" \
	--cascades face,body,cat-face
PIDS+=("$TCW_PID")
tcw_wait_listening "$TCW_PID" "$TMP/tcdetect.log" ||
	{ echo "demo-detect: tcdetect did not start" >&2; exit 1; }
DETECT_EP=$TCW_ENDPOINT
echo "demo-detect: tcdetect listening on $DETECT_EP (images from $IMAGES)" >&2

# workloads-detect.json with this build's plugins and tcdetect's endpoint.
sed -e "s|\"build/workloads/|\"$BUILD_DIR/workloads/|g" \
	-e "s|tcp://127.0.0.1:8888|$DETECT_EP|g" workloads-detect.json >"$TMP/workloads.json"
echo "demo-detect: starting tcworker (RSA-3072 key generation may take a moment)" >&2
tcw_spawn "$TMP/worker.log" "$TCWORKER" --workload "$TMP/workloads.json" --rsa-bits 3072
PIDS+=("$TCW_PID")
tcw_wait_listening "$TCW_PID" "$TMP/worker.log" ||
	{ echo "demo-detect: tcworker did not start" >&2; exit 1; }
WORKER_EP=$TCW_ENDPOINT
echo "demo-detect: tcworker listening on $WORKER_EP" >&2

status=0
echo "== ov-inference: image names relayed to tcdetect ($ORDERS)"
"$TCCLIENT" --connect "$WORKER_EP" --file "$ORDERS" 2>>"$TMP/client.log" || status=$?
echo "== object-detect: images sent encrypted, detections and annotated PNG returned"
for img in "$IMAGES"/*; do
	# Two outData templates: each output comes back under its own key and IV.
	"$TCCLIENT" --connect "$WORKER_EP" --workload object-detect --in-file "$img" \
		--out-items 2 --out-dir "$OUTPUT" 2>>"$TMP/client.log" || status=$?
done

for p in "${PIDS[@]}"; do
	rc=0
	tcw_stop "$p" || rc=$?
	[ "$rc" -eq 0 ] || { echo "demo-detect: process $p exited with status $rc" >&2; status=1; }
done
PIDS=()
if [ "$status" -ne 0 ]; then
	echo "---- tcdetect log ----" >&2
	cat "$TMP/tcdetect.log" >&2
	echo "---- client log ----" >&2
	cat "$TMP/client.log" >&2
fi
names=()
for f in "$OUTPUT"/*.*; do
	case "$f" in *.bmp | *.png) names+=("${f##*/}") ;; esac
done
echo "demo-detect: annotated images in $out_arg/: ${names[*]}" >&2
exit "$status"
