#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# demo.sh - starts tcworker on an ephemeral loopback port, submits the nine
# reference work orders with tcclient, then stops the worker.
# Usage: scripts/demo.sh [BUILD_DIR [WORKLOADS_FILE]]   (run by `make demo`;
#        default: build workloads.json; `make demo-python` passes
#        workloads-python.json, the Python sample workloads)
set -euo pipefail

build_arg=${1:-build}
[ -d "$build_arg" ] || { echo "demo: build directory '$build_arg' not found" >&2; exit 2; }
BUILD_DIR=$(cd "$build_arg" && pwd -P)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"

TCWORKER="$BUILD_DIR/bin/tcworker"
TCCLIENT="$BUILD_DIR/bin/tcclient"
for b in "$TCWORKER" "$TCCLIENT"; do
	[ -x "$b" ] || { echo "demo: $b is missing; build first (make build)" >&2; exit 2; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tcw-demo.XXXXXX")
LOG="$TMP/worker.log"
WORKER_PID=""

cleanup() {
	if [ -n "$WORKER_PID" ] && kill -0 "$WORKER_PID" 2>/dev/null; then
		kill -TERM "$WORKER_PID" 2>/dev/null || true
		wait "$WORKER_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# workloads.json names plugins under build/; for another build directory
# point a private copy at that directory's plugins.
WORKLOADS=${2:-workloads.json}
[ -f "$WORKLOADS" ] || { echo "demo: workloads file '$WORKLOADS' not found" >&2; exit 2; }
if [ "$WORKLOADS" = workloads.json ] && [ "$BUILD_DIR" != "$ROOT/build" ]; then
	WORKLOADS="$TMP/workloads.json"
	sed "s|\"build/workloads/|\"$BUILD_DIR/workloads/|g" workloads.json >"$WORKLOADS"
fi

echo "demo: starting tcworker (RSA-3072 key generation may take a moment)" >&2
"$TCWORKER" --bind 'tcp://127.0.0.1:*' --workload "$WORKLOADS" --rsa-bits 3072 \
	2>"$LOG" &
WORKER_PID=$!

ENDPOINT=""
for ((i = 0; i < 600; i++)); do
	line=$(grep -m1 -o 'listening on [^ ]*$' "$LOG" 2>/dev/null || true)
	if [ -n "$line" ]; then
		ENDPOINT=${line#listening on }
		break
	fi
	if ! kill -0 "$WORKER_PID" 2>/dev/null; then
		echo "demo: tcworker exited during start-up:" >&2
		cat "$LOG" >&2
		WORKER_PID=""
		exit 1
	fi
	sleep 0.1
done
if [ -z "$ENDPOINT" ]; then
	echo "demo: tcworker did not start listening within 60 s:" >&2
	cat "$LOG" >&2
	exit 1
fi
echo "demo: tcworker listening on $ENDPOINT" >&2

status=0
"$TCCLIENT" --connect "$ENDPOINT" --file tests/test_work_orders.json || status=$?

kill -TERM "$WORKER_PID"
for ((i = 0; i < 300; i++)); do
	kill -0 "$WORKER_PID" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$WORKER_PID" 2>/dev/null; then
	echo "demo: tcworker did not stop within 30 s of SIGTERM; killing it" >&2
	kill -KILL "$WORKER_PID" 2>/dev/null || true
fi
wrc=0
wait "$WORKER_PID" || wrc=$?
WORKER_PID=""
if [ "$wrc" -ne 0 ]; then
	echo "demo: tcworker exited with status $wrc; its log:" >&2
	cat "$LOG" >&2
	[ "$status" -ne 0 ] || status=1
fi
exit "$status"
