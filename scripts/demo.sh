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
# shellcheck source=scripts/daemon-lib.sh
. "$ROOT/scripts/daemon-lib.sh"

cleanup() {
	tcw_kill "$WORKER_PID"
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
tcw_spawn "$LOG" "$TCWORKER" --workload "$WORKLOADS" --rsa-bits 3072
WORKER_PID=$TCW_PID
tcw_wait_listening "$WORKER_PID" "$LOG" 60 || { echo "demo: tcworker did not start" >&2; exit 1; }
ENDPOINT=$TCW_ENDPOINT
echo "demo: tcworker listening on $ENDPOINT" >&2

status=0
"$TCCLIENT" --connect "$ENDPOINT" --file tests/test_work_orders.json || status=$?

wrc=0
tcw_stop "$WORKER_PID" 30 || wrc=$?
WORKER_PID=""
if [ "$wrc" -ne 0 ]; then
	echo "demo: tcworker exited with status $wrc; its log:" >&2
	cat "$LOG" >&2
	[ "$status" -ne 0 ] || status=1
fi
exit "$status"
