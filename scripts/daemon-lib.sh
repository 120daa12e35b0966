# SPDX-License-Identifier: Apache-2.0
# daemon-lib.sh - the one way scripts and tests start a tcworker (or tcdetect)
# on a free loopback port, wait until it serves, and stop it (sourced by
# scripts/demo.sh, scripts/demo-detect.sh, bench/run.sh and
# tests/integration/lib.sh).
#
# A daemon logs "listening on <endpoint>" once its keys, workloads and socket
# are ready, i.e. when it answers a signup; that line is found in plain,
# journal (<N> prefix) and JSON (--log-format json) logs alike.
#
#   tcw_spawn LOG PROGRAM [ARGS...]   start PROGRAM in the background, stderr
#                                     to LOG, adding --bind tcp://127.0.0.1:*
#                                     unless ARGS hold --bind or --config;
#                                     sets TCW_PID
#   tcw_wait_listening PID LOG [SECONDS]  wait (default TCW_START_TIMEOUT,
#                                     60 s) for the line; sets TCW_ENDPOINT;
#                                     status 1 with the log on stderr when the
#                                     process exits or the time runs out
#   tcw_start LOG PROGRAM [ARGS...]   tcw_spawn, then tcw_wait_listening
#   tcw_stop PID [SECONDS] [SIGNAL]   send SIGNAL (TERM), wait up to SECONDS
#                                     (default TCW_STOP_TIMEOUT, 30 s), then
#                                     KILL; status = the process's exit status
#                                     (124 when it had to be killed)
#   tcw_kill PID                      KILL and reap, quietly (for EXIT traps)
#
# Functions that must reap with `wait` only work in the shell that started
# the process: call them directly, never inside $(...).

# shellcheck disable=SC2034 # TCW_PID, TCW_ENDPOINT: read by the sourcing script
: "${TCW_START_TIMEOUT:=60}"
: "${TCW_STOP_TIMEOUT:=30}"
TCW_PID=""
TCW_ENDPOINT=""

# Starts PROGRAM ARGS in the background with stderr in LOG; sets TCW_PID.
# Usage: tcw_spawn LOG PROGRAM [ARGS...]
tcw_spawn() {
	local log=$1 a have_bind=0
	shift
	for a in "${@:2}"; do
		case "$a" in --bind | --bind=* | --config | --config=*) have_bind=1 ;; esac
	done
	# emptied here, not by the background job's redirection: that one runs
	# after the fork, and tcw_wait_listening could read an earlier
	# daemon's "listening on" line from the same file in the meantime
	: >"$log"
	if [ "$have_bind" -eq 1 ]; then
		"$@" 2>>"$log" &
	else
		"$@" --bind 'tcp://127.0.0.1:*' 2>>"$log" &
	fi
	TCW_PID=$!
	TCW_ENDPOINT=""
}

# Waits for "listening on <endpoint>" in LOG while PID runs; sets
# TCW_ENDPOINT. Status 1, with LOG on stderr, on exit or time-out.
# Usage: tcw_wait_listening PID LOG [SECONDS]
tcw_wait_listening() {
	local pid=$1 log=$2 secs=${3:-$TCW_START_TIMEOUT} i line
	TCW_ENDPOINT=""
	for ((i = 0; i < secs * 10; i++)); do
		line=$(grep -m1 -o 'listening on [^ "]*' "$log" 2>/dev/null || true)
		if [ -n "$line" ]; then
			TCW_ENDPOINT=${line#listening on }
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "process $pid exited during start-up; its log ($log):" >&2
			cat "$log" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "process $pid did not log 'listening on' within ${secs} s; its log ($log):" >&2
	cat "$log" >&2
	return 1
}

# tcw_spawn + tcw_wait_listening; sets TCW_PID and TCW_ENDPOINT.
# Usage: tcw_start LOG PROGRAM [ARGS...]
tcw_start() {
	tcw_spawn "$@" || return 1
	tcw_wait_listening "$TCW_PID" "$1"
}

# Stops PID with SIGNAL (default TERM), KILLs it after SECONDS; returns its
# exit status (124 when it had to be killed).
# Usage: tcw_stop PID [SECONDS] [SIGNAL]
tcw_stop() {
	local pid=$1 secs=${2:-$TCW_STOP_TIMEOUT} sig=${3:-TERM} i rc=0
	kill -"$sig" "$pid" 2>/dev/null || true
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "process $pid did not stop within ${secs} s of SIG$sig; killing it" >&2
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		return 124
	fi
	wait "$pid" 2>/dev/null || rc=$?
	return "$rc"
}

# Kills PID (if it still runs) and reaps it, without a word.
# Usage: tcw_kill PID
tcw_kill() {
	if [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; then
		kill -KILL "$1" 2>/dev/null || true
		wait "$1" 2>/dev/null || true
	fi
	return 0
}
