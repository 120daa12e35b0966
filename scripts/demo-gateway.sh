#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# demo-gateway.sh - tcworker, tcgateway in front of it (SQLite store in a
# temporary folder) and tcclient through the gateway's EEA JSON-RPC API: the
# nine reference work orders, then the gateway's metrics of orders.
# Usage: scripts/demo-gateway.sh [BUILD_DIR]   (run by `make demo-gateway`)
set -euo pipefail

build_arg=${1:-build}
[ -d "$build_arg" ] || { echo "demo-gateway: build directory '$build_arg' not found" >&2; exit 2; }
BUILD_DIR=$(cd "$build_arg" && pwd -P)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
TCWORKER="$BUILD_DIR/bin/tcworker"
TCGATEWAY="$BUILD_DIR/bin/tcgateway"
TCCLIENT="$BUILD_DIR/bin/tcclient"
for b in "$TCWORKER" "$TCGATEWAY" "$TCCLIENT"; do
	[ -x "$b" ] || { echo "demo-gateway: $b is missing; build first (make build)" >&2; exit 2; }
done
# shellcheck source=scripts/daemon-lib.sh
. "$ROOT/scripts/daemon-lib.sh"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tcw-demo-gateway.XXXXXX")
WORKER_PID="" GATEWAY_PID=""
cleanup() {
	tcw_kill "$GATEWAY_PID"
	tcw_kill "$WORKER_PID"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

sed "s|\"build/workloads/|\"$BUILD_DIR/workloads/|g" "$ROOT/workloads.json" >"$TMP/workloads.json"
echo "demo-gateway: starting tcworker (RSA-3072 key generation may take a moment)" >&2
tcw_start "$TMP/worker.log" "$TCWORKER" --workload "$TMP/workloads.json" --rsa-bits 3072 \
	--keys-file "$TMP/worker.keys" || { echo "demo-gateway: tcworker did not start" >&2; exit 1; }
WORKER_PID=$TCW_PID
echo "demo-gateway: tcworker listening on $TCW_ENDPOINT" >&2

"$TCGATEWAY" --listen 127.0.0.1:0 --worker "graphene-worker-1=$TCW_ENDPOINT" \
	--db "sqlite:$TMP/gateway.db" --keys-file "$TMP/gateway.keys" 2>"$TMP/gateway.log" &
GATEWAY_PID=$!
tcw_wait_listening "$GATEWAY_PID" "$TMP/gateway.log" 60 ||
	{ echo "demo-gateway: tcgateway did not start" >&2; exit 1; }
URL=$TCW_ENDPOINT
echo "demo-gateway: tcgateway serving the EEA JSON-RPC API on $URL" >&2

"$TCCLIENT" --gateway "$URL" --worker-name graphene-worker-1 \
	--file "$ROOT/tests/test_work_orders.json" --timeout 120000
grep '^tcgw_orders{' <(curl -sS --noproxy '*' "$URL/metrics") >&2 || true

tcw_stop "$GATEWAY_PID" 30 || { echo "demo-gateway: tcgateway exited with status $?" >&2; exit 1; }
GATEWAY_PID=""
tcw_stop "$WORKER_PID" 30 || { echo "demo-gateway: tcworker exited with status $?" >&2; exit 1; }
WORKER_PID=""
