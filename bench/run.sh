#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/run.sh - what `make bench` runs: the crypto bound (tcw_bound), the
# throughput matrix (tcclient bench against a worker on loopback), memory,
# start-up time and the 20,000-order correctness run; then bench/report.py
# prints every figure next to its bound and target.
#
# Usage: bench/run.sh BUILD_DIR [OUT_DIR]     (OUT_DIR default BUILD_DIR/bench)
# Environment: BENCH_QUICK=1 runs every cell with a tenth of the orders.
set -euo pipefail

BUILD=$(cd "${1:-build}" && pwd)
OUT=${2:-$BUILD/bench}
SRC=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/daemon-lib.sh
. "$SRC/scripts/daemon-lib.sh"
PY=/usr/bin/python3
WORKER=$BUILD/bin/tcworker
CLIENT=$BUILD/bin/tcclient
BOUND=$BUILD/bin/tcw_bound
SIZES=(16 65536 1048576)
QUICK=${BENCH_QUICK:-0}

for f in "$WORKER" "$CLIENT" "$BOUND" "$BUILD/workloads/hello.so"; do
	[ -e "$f" ] || { echo "bench: $f is missing (build first)" >&2; exit 1; }
done
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/report.txt
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tcw-bench.XXXXXX")
WPID=""
cleanup() {
	tcw_kill "$WPID"
	rm -rf "$TMP"
}
trap cleanup EXIT

# Native workloads only: the worker must not start a Python interpreter.
WL=$TMP/workloads.json
cat >"$WL" <<EOF
{"hello": {"library": "$BUILD/workloads/hello.so"},
 "python-hello": {"library": "$BUILD/workloads/hello.so"}}
EOF

note() { echo "bench: $*" >&2; }
load() { cut -d' ' -f1 /proc/loadavg; }
# CPU seconds (user + system) a process has used so far.
cpu_of() { awk -v t="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / t}' "/proc/$1/stat"; }
# Resident set size of a process, KiB.
rss_of() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# Unique set size (private memory: no page shared with another process), KiB.
uss_of() { awk '/^Private_(Clean|Dirty):/ {n += $2} END {print n}' "/proc/$1/smaps_rollup"; }
# Its written private memory (heap, stacks, data: Private_Dirty), KiB. The rest of the USS
# is clean file pages, private only while no other process maps the same libraries.
dirty_of() { awk '/^Private_Dirty:/ {n += $2} END {print n}' "/proc/$1/smaps_rollup"; }
# Starts a worker on a free loopback port and waits until it answers a
# signup: start_worker ARGS...; sets WPID, EP.
start_worker() {
	tcw_start "$TMP/worker.log" "$WORKER" --workload "$WL" "$@" || exit 1
	WPID=$TCW_PID
	EP=$TCW_ENDPOINT
}
stop_worker() {
	tcw_stop "$WPID" 60 || { echo "bench: worker exited with status $?" >&2; exit 1; }
	WPID=""
}
# Orders per cell: a few seconds each on a 2-core machine.
orders_for() { # BITS CLIENTS SIZE
	local n
	case "$1-$2-$3" in
	2048-1-16) n=3000 ;; 2048-8-16) n=15000 ;;
	2048-1-65536) n=1000 ;; 2048-8-65536) n=3000 ;;
	2048-1-1048576) n=150 ;; 2048-8-1048576) n=300 ;;
	3072-1-16) n=600 ;; 3072-8-16) n=2000 ;;
	3072-1-65536) n=400 ;; 3072-8-65536) n=1200 ;;
	3072-1-1048576) n=100 ;; 3072-8-1048576) n=240 ;;
	reuse-*-1-16) n=5000 ;; reuse-*-8-16) n=30000 ;;
	reuse-*-1-65536) n=1500 ;; reuse-*-8-65536) n=4000 ;;
	*) n=100 ;;
	esac
	[ "$QUICK" = 1 ] && n=$(((n + 9) / 10))
	echo "$n"
}
# Runs one bench cell against $WPID/$EP and writes OUT/NAME.json with the
# worker's CPU time and the load average added: run_cell NAME BENCH_ARGS...
run_cell() {
	local name=$1 w0 w1 l0 l1
	shift
	w0=$(cpu_of "$WPID")
	l0=$(load)
	"$CLIENT" bench --connect "$EP" --json "$@" >"$TMP/cell.json" || true
	w1=$(cpu_of "$WPID")
	l1=$(load)
	"$PY" - "$TMP/cell.json" "$OUT/$name.json" "$w0" "$w1" "$l0" "$l1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
r["worker_cpu_s"] = float(sys.argv[4]) - float(sys.argv[3])
r["load_before"], r["load_after"] = float(sys.argv[5]), float(sys.argv[6])
json.dump(r, open(sys.argv[2], "w"))
EOF
	note "$name: $(cut -c1-160 "$TMP/cell.json")"
}

{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) online"
	echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
	echo "kernel: $(uname -r); $(openssl version 2>/dev/null || echo openssl ?)"
	echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"

note "crypto bound (tcw_bound, CPU time per operation)"
for bits in 2048 3072; do
	"$BOUND" "$bits" "${SIZES[@]}" >"$OUT/bound-$bits.json"
done

for bits in 2048 3072; do
	note "throughput matrix, RSA-$bits"
	start_worker --rsa-bits "$bits"
	for size in "${SIZES[@]}"; do
		for c in 1 8; do
			run_cell "run-$bits-$c-$size" -n "$(orders_for "$bits" "$c" "$size")" -c "$c" \
				--size "$size" --warmup $((4 * c))
		done
	done
	# session reuse (tcclient --session-reuse): one RSA-wrapped key per
	# 1000 orders of a connection, answered from the worker's unwrap cache
	for size in 16 65536; do
		for c in 1 8; do
			run_cell "reuse-$bits-$c-$size" -n "$(orders_for "reuse-$bits" "$c" "$size")" \
				-c "$c" --size "$size" --warmup $((4 * c)) --session-reuse 1000
		done
	done
	stop_worker
done

note "correctness: 20,000 work orders over 8 connections, every reply verified"
start_worker --rsa-bits 2048
n=20000
[ "$QUICK" = 1 ] && n=2000
run_cell correctness -n "$n" -c 8 --size 16 --warmup 0
stop_worker

note "memory: idle, after 1,000 and after 100,000 work orders"
for mode in default replay-off; do
	extra=()
	[ "$mode" = replay-off ] && extra=(--replay-cache 0)
	start_worker --rsa-bits 2048 "${extra[@]}"
	idle=$(rss_of "$WPID")
	idle_uss=$(uss_of "$WPID")
	idle_dirty=$(dirty_of "$WPID")
	first=1000 rest=99000
	[ "$QUICK" = 1 ] && rest=9000
	"$CLIENT" bench --connect "$EP" --json -n "$first" -c 8 --warmup 0 >"$TMP/m1.json"
	rss1=$(rss_of "$WPID")
	"$CLIENT" bench --connect "$EP" --json -n "$rest" -c 8 --warmup 0 >"$TMP/m2.json"
	rss2=$(rss_of "$WPID")
	stop_worker
	"$PY" - "$OUT/memory-$mode.json" "$idle" "$rss1" "$rss2" "$first" "$((first + rest))" \
		"$idle_uss" "$idle_dirty" "$TMP/m1.json" "$TMP/m2.json" <<'EOF'
import json, sys
fails = sum(json.load(open(p))["failures"] for p in sys.argv[9:11])
json.dump({"idle_kib": int(sys.argv[2]), "after_first_kib": int(sys.argv[3]),
           "after_all_kib": int(sys.argv[4]), "first": int(sys.argv[5]),
           "all": int(sys.argv[6]), "idle_uss_kib": int(sys.argv[7]),
           "idle_dirty_kib": int(sys.argv[8]), "failures": fails},
          open(sys.argv[1], "w"))
EOF
	note "memory ($mode): idle ${idle} KiB (USS ${idle_uss} KiB, of it written ${idle_dirty} KiB), after $first orders ${rss1} KiB, after $((first + rest)) ${rss2} KiB"
done

note "start-up to the first signup answered"
"$PY" "$SRC/bench/startup.py" --measure "$WORKER" "$WL" "$TMP" >"$OUT/startup.json"

echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"
"$PY" "$SRC/bench/report.py" "$OUT" | tee "$OUT/report.txt"

# tcgateway cells: direct vs through the gateway, its latency, Avalon's
# generic client, next to the machine's fdatasync latency (bench/gateway.sh)
bash "$SRC/bench/gateway.sh" "$BUILD" "$OUT"
