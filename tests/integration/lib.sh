# SPDX-License-Identifier: Apache-2.0
# lib.sh - shared helpers for the integration and interop tests (sourced).
#
# Environment (set by CTest): TCW_SOURCE_DIR, TCW_BUILD_DIR, TCWORKER,
# TCCLIENT, TCW_SANITIZE. Every test gets a private temp dir ($TEST_TMP),
# starts workers on ephemeral ports and stops them on any exit.

: "${TCW_SOURCE_DIR:?TCW_SOURCE_DIR must be set}"
: "${TCW_BUILD_DIR:?TCW_BUILD_DIR must be set}"
: "${TCWORKER:=$TCW_BUILD_DIR/bin/tcworker}"
: "${TCCLIENT:=$TCW_BUILD_DIR/bin/tcclient}"
: "${TCW_SANITIZE:=0}"
PYTHON=/usr/bin/python3
# shellcheck source=scripts/daemon-lib.sh
. "$TCW_SOURCE_DIR/scripts/daemon-lib.sh"

# Generous waits: RSA-4096 key generation under ASan takes a while.
START_TIMEOUT=${START_TIMEOUT:-180}
STOP_TIMEOUT=${STOP_TIMEOUT:-60}
CLIENT_TIMEOUT_MS=${CLIENT_TIMEOUT_MS:-120000}

TEST_NAME=$(basename "$0" .sh)
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tcw-$TEST_NAME.XXXXXX")
WORKER_PID=""
WORKER_LOG=""
ENDPOINT=""
ALL_WORKER_PIDS=()

# Prints a failure message (and the current worker log) and exits 1.
fail() {
	echo "FAIL [$TEST_NAME]: $*" >&2
	if [ -n "$WORKER_LOG" ] && [ -f "$WORKER_LOG" ]; then
		echo "---- worker log ($WORKER_LOG, last 40 lines) ----" >&2
		tail -n 40 "$WORKER_LOG" >&2
	fi
	exit 1
}

# Prints a progress line.
note() {
	echo "[$TEST_NAME] $*" >&2
}

# Kills every worker still running and removes the temp dir.
cleanup() {
	local pid
	for pid in "${ALL_WORKER_PIDS[@]}"; do
		tcw_kill "$pid"
	done
	rm -rf "$TEST_TMP"
}
trap cleanup EXIT

# Writes a workloads.json with absolute paths to this build's plugins.
# Usage: make_workloads FILE
make_workloads() {
	local so="$TCW_BUILD_DIR/workloads"
	[ -f "$so/hello.so" ] || fail "plugin $so/hello.so not built"
	[ -f "$so/fib.so" ] || fail "plugin $so/fib.so not built"
	cat >"$1" <<EOF
{
  "python-hello": {"library": "$so/hello.so"},
  "python-fib": {"library": "$so/fib.so", "config": {"max_n": 100000}},
  "hello": {"library": "$so/hello.so"},
  "fib": {"library": "$so/fib.so", "config": {"max_n": 100000}}
}
EOF
}

WORKLOADS="$TEST_TMP/workloads.json"
make_workloads "$WORKLOADS"

# Waits until the worker logs "listening on <endpoint>"; sets ENDPOINT.
# Usage: wait_listening PID LOG
wait_listening() {
	tcw_wait_listening "$1" "$2" "$START_TIMEOUT" || fail "worker $1 did not start listening"
	ENDPOINT=$TCW_ENDPOINT
}

# Starts tcworker in the background with stderr in a fresh log, without
# waiting for it; binds tcp://127.0.0.1:* and uses $WORKLOADS unless the
# arguments say otherwise (--no-default-workload omits --workload; --bind or
# --config omit the default --bind: tcw_spawn). Sets WORKER_PID and WORKER_LOG.
# Usage: spawn_worker [tcworker args...]
spawn_worker() {
	local args=() a have_wl=0 no_wl=0
	for a in "$@"; do
		case "$a" in
		--workload | --workload=*) have_wl=1 ;;
		esac
		if [ "$a" = --no-default-workload ]; then
			no_wl=1
		else
			args+=("$a")
		fi
	done
	[ $have_wl -eq 1 ] || [ $no_wl -eq 1 ] || args+=(--workload "$WORKLOADS")
	WORKER_LOG=$(mktemp "$TEST_TMP/worker.XXXXXX.log")
	ENDPOINT=""
	tcw_spawn "$WORKER_LOG" "$TCWORKER" "${args[@]}"
	WORKER_PID=$TCW_PID
	ALL_WORKER_PIDS+=("$WORKER_PID")
}

# spawn_worker, then wait for the "listening on" line: sets WORKER_PID,
# WORKER_LOG and ENDPOINT.
# Usage: start_worker [tcworker args...]
start_worker() {
	spawn_worker "$@"
	wait_listening "$WORKER_PID" "$WORKER_LOG"
	note "worker $WORKER_PID listening on $ENDPOINT"
}

# Runs tcworker in the foreground for a start-up error; output in $OUT and
# $ERR, status in $RC.
# Usage: run_worker_fg [tcworker args...]
run_worker_fg() {
	OUT="$TEST_TMP/worker-fg.out"
	ERR="$TEST_TMP/worker-fg.err"
	RC=0
	timeout "$START_TIMEOUT" "$TCWORKER" "$@" >"$OUT" 2>"$ERR" </dev/null || RC=$?
}

# Prints the RSA modulus size of the worker's signup encryption_key, read
# with an independent Python peer.
# Usage: signup_rsa_bits ENDPOINT
signup_rsa_bits() {
	"$PYTHON" - "$1" <<'EOF'
import json, sys, zmq
from Cryptodome.PublicKey import RSA
ctx = zmq.Context()
s = ctx.socket(zmq.REQ)
s.setsockopt(zmq.LINGER, 0)
s.setsockopt(zmq.RCVTIMEO, 120000)
s.connect(sys.argv[1])
s.send_string(json.dumps({"jsonrpc": "2.0", "id": 1,
                          "method": "ProcessWorkerSignup", "params": None}))
signup = json.loads(s.recv().decode("utf-8"))
print(RSA.import_key(signup["encryption_key"]).size_in_bits())
s.close()
ctx.term()
EOF
}

# Sends a signal (default TERM) to the worker and checks that it exits 0.
# Usage: stop_worker [SIGNAL]
stop_worker() {
	local sig=${1:-TERM} rc=0
	[ -n "$WORKER_PID" ] || fail "stop_worker: no worker"
	kill -0 "$WORKER_PID" 2>/dev/null || fail "worker $WORKER_PID died early"
	tcw_stop "$WORKER_PID" "$STOP_TIMEOUT" "$sig" || rc=$?
	[ "$rc" -ne 124 ] || fail "worker did not exit within ${STOP_TIMEOUT}s of SIG$sig"
	[ "$rc" -eq 0 ] || fail "worker exited with status $rc after SIG$sig"
	WORKER_PID=""
}

# Runs tcclient against $ENDPOINT; stdout in $OUT, stderr in $ERR, exit
# status in $RC (never aborts the test).
# Usage: run_client [tcclient args...]
run_client() {
	OUT="$TEST_TMP/client.out"
	ERR="$TEST_TMP/client.err"
	RC=0
	"$TCCLIENT" --connect "$ENDPOINT" --timeout "$CLIENT_TIMEOUT_MS" "$@" \
		>"$OUT" 2>"$ERR" || RC=$?
}

# Fails unless $RC equals the expected status.
# Usage: expect_rc STATUS WHAT
expect_rc() {
	if [ "$RC" -ne "$1" ]; then
		echo "---- stdout ----" >&2
		cat "$OUT" >&2 || true
		echo "---- stderr ----" >&2
		cat "$ERR" >&2 || true
		fail "$2: exit status $RC, expected $1"
	fi
}

# Fails unless file $1 has exactly the content given on stdin.
# Usage: expect_file FILE WHAT <<EOF ... EOF
expect_file() {
	local want="$TEST_TMP/expected.txt"
	cat >"$want"
	if ! diff -u "$want" "$1" >&2; then
		fail "$2: output differs from the expected lines (diff above)"
	fi
}

# Fails unless file $1 contains a line matching the extended regex $2.
# Usage: expect_grep FILE REGEX WHAT
expect_grep() {
	grep -Eq -- "$2" "$1" || {
		cat "$1" >&2
		fail "$3: no line matching /$2/ in $1"
	}
}

# Fails if file $1 contains a line matching the extended regex $2.
# Usage: expect_no_grep FILE REGEX WHAT
expect_no_grep() {
	if grep -Eq -- "$2" "$1"; then
		grep -E -- "$2" "$1" >&2
		fail "$3: unexpected line matching /$2/ in $1"
	fi
}

# The nine result lines of tests/test_work_orders.json.
expected_reference_lines() {
	local n
	for n in Krsna Rama Shiva Ganesha Lakshmi Parvathy; do
		echo "Work order result : Hello $n"
	done
	echo "Work order result : Fibonacci number at position 9 = 34"
	echo "Work order result : Fibonacci number at position 10 = 55"
	echo "Work order result : Fibonacci number at position 15 = 610"
}

# Fails unless the worker process is still running.
expect_worker_alive() {
	kill -0 "$WORKER_PID" 2>/dev/null || fail "worker is not running: $1"
}
