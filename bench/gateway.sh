#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/gateway.sh - the tcgateway cells of `make bench` (run by bench/run.sh):
# the machine's fdatasync latency; then, at RSA-2048 and RSA-3072 with the
# same worker, tiny orders from 8 clients straight to tcworker and through
# tcgateway + SQLite (throughput ratio), 1 client through the gateway
# (submit-to-result latency), and Avalon's generic client, one hello order
# through the gateway (wall time; when ../shared holds it). Every cell
# records wall clock, the CPU time of worker, gateway and client per order,
# and the load average; the summary goes to stdout and OUT/gateway.txt
# (bench/gateway_report.py).
#
# Usage: bench/gateway.sh BUILD_DIR OUT_DIR   (BENCH_QUICK=1: a tenth of the orders)
set -euo pipefail

BUILD=$(cd "$1" && pwd)
OUT=$2
SRC=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/daemon-lib.sh
. "$SRC/scripts/daemon-lib.sh"
PY=/usr/bin/python3
WORKER=$BUILD/bin/tcworker
CLIENT=$BUILD/bin/tcclient
GATEWAY=$BUILD/bin/tcgateway
QUICK=${BENCH_QUICK:-0}
for f in "$WORKER" "$CLIENT" "$GATEWAY" "$BUILD/workloads/hello.so"; do
	[ -e "$f" ] || { echo "bench: $f is missing (build first)" >&2; exit 1; }
done
mkdir -p "$OUT"
rm -f "$OUT"/gateway-*.json
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tcw-bench-gw.XXXXXX")
WPID="" GPID=""
cleanup() {
	tcw_kill "$GPID"
	tcw_kill "$WPID"
	rm -rf "$TMP"
}
trap cleanup EXIT

note() { echo "bench: $*" >&2; }
load() { cut -d' ' -f1 /proc/loadavg; }
cpu_of() { awk -v t="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / t}' "/proc/$1/stat"; }
n_of() { if [ "$QUICK" = 1 ]; then echo $((($1 + 9) / 10)); else echo "$1"; fi; }

printf '{"hello": {"library": "%s"}, "python-hello": {"library": "%s"}}\n' \
	"$BUILD/workloads/hello.so" "$BUILD/workloads/hello.so" >"$TMP/workloads.json"

note "fdatasync latency of the file system the gateway's database is on"
"$PY" "$SRC/bench/gateway_report.py" fdatasync "$TMP" >"$OUT/gateway-fdatasync.json"

# Starts a worker and a gateway (SQLite in TMP) in front of it as worker
# NAME: start_pair NAME WORKER_ARGS...; sets WPID, EP, GPID, GURL.
start_pair() {
	local name=$1
	shift
	tcw_start "$TMP/worker.log" "$WORKER" --workload "$TMP/workloads.json" "$@" || exit 1
	WPID=$TCW_PID
	EP=$TCW_ENDPOINT
	rm -f "$TMP"/gw.db*
	"$GATEWAY" --listen 127.0.0.1:0 --worker "$name=$EP" --db "sqlite:$TMP/gw.db" \
		--max-in-flight 32 2>"$TMP/gateway.log" &
	GPID=$!
	tcw_wait_listening "$GPID" "$TMP/gateway.log" || exit 1
	GURL=$TCW_ENDPOINT
}
stop_pair() {
	tcw_stop "$GPID" 60 || note "gateway exited with status $?"
	GPID=""
	tcw_stop "$WPID" 60 || note "worker exited with status $?"
	WPID=""
}

# The gateway's group commits so far: "COMMITS WRITES" from its /metrics.
commits_of() {
	{ curl -s --noproxy '*' "$GURL/metrics" || true; } | awk '/^tcgw_store_commit_seconds_count/{c=$2}
		/^tcgw_store_writes_total/{w=$2} END{print c + 0, w + 0}'
}

# One cell: cell NAME CPU_OF_GATEWAY(0|1) TCCLIENT_BENCH_ARGS...; writes
# OUT/gateway-NAME.json with the worker's and gateway's CPU seconds, the
# gateway's commits and writes and the load average added to tcclient
# bench's figures.
cell() {
	local name=$1 with_gw=$2 w0 g0=0 g1=0 l0 s0="0 0" s1="0 0"
	shift 2
	w0=$(cpu_of "$WPID")
	[ "$with_gw" = 0 ] || { g0=$(cpu_of "$GPID"); s0=$(commits_of); }
	l0=$(load)
	"$CLIENT" bench --json "$@" >"$TMP/cell.json" || true
	if [ ! -s "$TMP/cell.json" ]; then
		# on a loaded machine a first signup can time out: once more
		note "$name: no result from tcclient bench; running the cell again"
		w0=$(cpu_of "$WPID")
		[ "$with_gw" = 0 ] || { g0=$(cpu_of "$GPID"); s0=$(commits_of); }
		"$CLIENT" bench --json "$@" >"$TMP/cell.json" || true
	fi
	[ -s "$TMP/cell.json" ] || { note "$name: no result; cell left out"; return 0; }
	[ "$with_gw" = 0 ] || { g1=$(cpu_of "$GPID"); s1=$(commits_of); }
	# shellcheck disable=SC2086 # s0, s1: two numbers each
	"$PY" "$SRC/bench/gateway_report.py" cell "$TMP/cell.json" "$OUT/gateway-$name.json" \
		"$w0" "$(cpu_of "$WPID")" "$g0" "$g1" "$l0" "$(load)" $s0 $s1
	note "$name: $(cut -c1-150 "$TMP/cell.json")"
}

for bits in 2048 3072; do
	note "gateway cells, RSA-$bits"
	start_pair bench --rsa-bits "$bits" --replay-cache 0
	if [ "$bits" = 2048 ]; then n8=$(n_of 8000) n1=$(n_of 2000); else n8=$(n_of 2000) n1=$(n_of 600); fi
	cell "direct-$bits-8" 0 --connect "$EP" -n "$n8" -c 8 --warmup 32
	cell "gateway-$bits-8" 1 --gateway "$GURL" --worker-name bench -n "$n8" -c 8 --warmup 32
	cell "gateway-$bits-1" 1 --gateway "$GURL" --worker-name bench -n "$n1" -c 1 --warmup 8
	stop_pair
done

PEER="$SRC/../shared/peers/avalon-generic-client"
if [ -x "$PEER/setup.sh" ]; then
	note "Avalon's generic client through the gateway, one hello order (RSA-3072 worker)"
	"$PEER/setup.sh" "$BUILD/avalon-generic-client" >"$TMP/setup.log" 2>&1 ||
		{ cat "$TMP/setup.log" >&2; exit 1; }
	start_pair graphene-worker-1
	"$PY" "$SRC/bench/gateway_report.py" avalon "$BUILD/avalon-generic-client/run-generic-client" \
		"$GURL" >"$OUT/gateway-avalon.json" || { tail -n 5 "$TMP/gateway.log" >&2; exit 1; }
	stop_pair
else
	note "$PEER is absent: no Avalon generic client cell"
fi

"$PY" "$SRC/bench/gateway_report.py" report "$OUT" | tee "$OUT/gateway.txt"
