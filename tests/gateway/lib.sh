# SPDX-License-Identifier: Apache-2.0
# lib.sh - helpers for the tcgateway tests (sourced): the integration helpers
# (tests/integration/lib.sh: workers, temp dir, fail/note/expect_*) plus
# gateways, JSON-RPC calls and a private PostgreSQL server.
#
# Environment (set by CTest): as tests/integration/lib.sh, plus TCGATEWAY.

. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
: "${TCGATEWAY:=$TCW_BUILD_DIR/bin/tcgateway}"
GW_DIR="$TCW_SOURCE_DIR/tests/gateway"
export PYTHONPATH="$GW_DIR:$TCW_SOURCE_DIR/tests/integration${PYTHONPATH:+:$PYTHONPATH}"
GW_PID=""
GW_LOG=""
GW_URL=""
ALL_GW_PIDS=()
PG_DIR=""

# Prints a failure message, the last lines of the worker and gateway logs,
# and exits 1.
fail() {
	echo "FAIL [$TEST_NAME]: $*" >&2
	local log
	for log in "$WORKER_LOG" "$GW_LOG"; do
		if [ -n "$log" ] && [ -f "$log" ]; then
			echo "---- $log (last 30 lines) ----" >&2
			tail -n 30 "$log" >&2
		fi
	done
	exit 1
}

# Stops every gateway and the PostgreSQL server of this test, then the
# integration cleanup (workers, temp dir).
gw_cleanup() {
	local pid
	for pid in "${ALL_GW_PIDS[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	[ -z "$PG_DIR" ] || pg_stop
	cleanup
}
trap gw_cleanup EXIT

# Starts tcgateway on 127.0.0.1:0 (unless --listen is given) with stderr in a
# fresh log and waits for "listening on http(s)://ADDR:PORT"; sets GW_PID,
# GW_LOG and GW_URL.
# Usage: start_gw [tcgateway args...]
start_gw() {
	local args=("$@") a have_listen=0 i line
	for a in "$@"; do
		case "$a" in --listen | --listen=* | --config) have_listen=1 ;; esac
	done
	[ $have_listen -eq 1 ] || args+=(--listen 127.0.0.1:0)
	GW_LOG=$(mktemp "$TEST_TMP/gateway.XXXXXX.log")
	GW_URL=""
	"$TCGATEWAY" "${args[@]}" 2>"$GW_LOG" &
	GW_PID=$!
	ALL_GW_PIDS+=("$GW_PID")
	for ((i = 0; i < START_TIMEOUT * 10; i++)); do
		line=$(grep -m1 -oE 'listening on https?://[^ ]*$' "$GW_LOG" 2>/dev/null || true)
		if [ -n "$line" ]; then
			GW_URL=${line#listening on }
			note "gateway $GW_PID listening on $GW_URL"
			return 0
		fi
		kill -0 "$GW_PID" 2>/dev/null || { cat "$GW_LOG" >&2; fail "gateway exited before listening"; }
		sleep 0.1
	done
	cat "$GW_LOG" >&2
	fail "gateway did not log 'listening on' within ${START_TIMEOUT}s"
}

# SIGTERMs the gateway (default: $GW_PID) and checks it exits 0.
# Usage: stop_gw [PID]
stop_gw() {
	local pid=${1:-$GW_PID} i rc=0
	kill -TERM "$pid"
	for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "gateway $pid did not exit within ${STOP_TIMEOUT}s of SIGTERM"
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || fail "gateway $pid exited with status $rc after SIGTERM"
}

# Runs tcgateway in the foreground for a start-up error; output in $OUT and
# $ERR, status in $RC.
# Usage: run_gw_fg [tcgateway args...]
run_gw_fg() {
	OUT="$TEST_TMP/gw-fg.out"
	ERR="$TEST_TMP/gw-fg.err"
	RC=0
	timeout "$START_TIMEOUT" "$TCGATEWAY" "$@" >"$OUT" 2>"$ERR" </dev/null || RC=$?
}

# Prints the JSON-RPC reply of METHOD with PARAMS (JSON) at URL.
# Usage: rpc URL METHOD PARAMS_JSON
rpc() {
	curl -sS --noproxy '*' -X POST -H 'Content-Type: application/json' \
		--data "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"$2\",\"params\":$3}" "$1"
}

# The same on the admin unix socket.
# Usage: admin_rpc SOCKET METHOD PARAMS_JSON
admin_rpc() {
	curl -sS --unix-socket "$1" -X POST -H 'Content-Type: application/json' \
		--data "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"$2\",\"params\":$3}" http://admin/
}

# Fails unless the JSON text $1 equals the JSON text $2 (key order aside).
# Usage: expect_json GOT WANT WHAT
expect_json() {
	"$PYTHON" -c 'import json,sys; sys.exit(json.loads(sys.argv[1]) != json.loads(sys.argv[2]))' \
		"$1" "$2" || fail "$3: got $1, expected $2"
}

# Prints hex SHA-256 of a worker name (its workerId).
worker_id() {
	printf '%s' "$1" | sha256sum | cut -d' ' -f1
}

# Sets up Avalon's client bundle (../shared/peers/avalon-generic-client, the
# only use of ../shared here) into the build tree and sets CLIENT_DIR; exits
# the test with one SKIP line when ../shared is absent.
# Usage: avalon_bundle WHAT
avalon_bundle() {
	local peer="$TCW_SOURCE_DIR/../shared/peers/avalon-generic-client"
	if [ ! -x "$peer/setup.sh" ]; then
		echo "SKIP: $peer is absent ($1 comes from ../shared)"
		exit 0
	fi
	CLIENT_DIR="$TCW_BUILD_DIR/avalon-generic-client"
	note "setting up Avalon's client bundle in $CLIENT_DIR"
	"$peer/setup.sh" "$CLIENT_DIR" >"$TEST_TMP/setup.log" 2>&1 ||
		{ cat "$TEST_TMP/setup.log" >&2; fail "setup.sh"; }
}

# Starts a private PostgreSQL server (initdb + pg_ctl, as the unprivileged
# user postgres when run as root) on a free port; sets PG_URL.
pg_start() {
	local bin="" d run=() port
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && bin=$d
	done
	[ -x "$bin/initdb" ] || fail "PostgreSQL server binaries not found (make deps installs postgresql)"
	PG_DIR=$(mktemp -d "$TEST_TMP/pg.XXXXXX")
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres "$PG_DIR"
		chmod 755 "$TEST_TMP"
		run=(runuser -u postgres --)
	fi
	port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"${run[@]}" "$bin/initdb" -D "$PG_DIR/data" -A trust -U tcgw --locale=C -E UTF8 \
		>"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; fail "initdb failed"; }
	"${run[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
		-o "-k $PG_DIR -h 127.0.0.1 -p $port -c max_connections=200" start >/dev/null ||
		{ cat "$PG_DIR/server.log" >&2; fail "PostgreSQL did not start"; }
	PG_BIN=$bin
	PG_RUN=("${run[@]}")
	# shellcheck disable=SC2034 # used by the tests that source this file
	PG_URL="postgresql://tcgw@127.0.0.1:$port/postgres"
	note "PostgreSQL on port $port ($PG_DIR)"
}

# Stops the private PostgreSQL server.
pg_stop() {
	"${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
	PG_DIR=""
}
