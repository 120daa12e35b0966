#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_notify_log.sh - tcworker as a systemd Type=notify service would run it:
# READY=1 reaches $NOTIFY_SOCKET (a file path and an abstract name) once the
# worker serves and STOPPING=1 at SIGTERM; --log-format json writes one
# object per line with the work order id where it is known; on the journal
# (JOURNAL_STREAM naming stderr) records carry <N> priorities and no time.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Collects every datagram sent to socket $1 into file $2, one per line.
listen_notify() {
	"$PYTHON" - "$1" "$2" <<'EOF' &
import os, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + path[1:] if path.startswith("@") else path)
open(out + ".ready", "w").close()
while True:
    msg = s.recv(4096)
    with open(out, "ab") as f:
        f.write(msg + b"\n")
EOF
	LISTENER_PID=$!
	ALL_WORKER_PIDS+=("$LISTENER_PID")
	for ((i = 0; i < 100; i++)); do
		[ -e "$2.ready" ] && return 0
		sleep 0.1
	done
	fail "notification listener did not start"
}

# Waits until file $1 has the line $2.
wait_line() {
	for ((i = 0; i < 100; i++)); do
		grep -qx -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "no line '$2' in $1: $(cat "$1" 2>/dev/null)"
}

# 1. Notification on a path socket, JSON log records.
NOTES="$TEST_TMP/notes.txt"
listen_notify "$TEST_TMP/notify.sock" "$NOTES"
export NOTIFY_SOCKET="$TEST_TMP/notify.sock"
start_worker --rsa-bits 2048 --log-format json
unset NOTIFY_SOCKET
wait_line "$NOTES" "READY=1"
[ "$(cat "$NOTES")" = "READY=1" ] || fail "unexpected notifications: $(cat "$NOTES")"

run_client --json --workload no-such-workload --in-data x
expect_rc 1 "order for an unknown workload"
WO_ID=$("$PYTHON" -c 'import json,sys; print(json.loads(sys.stdin.readline())["workOrderId"])' <"$OUT")
run_client --workload hello --in-data Krsna
expect_rc 0 "hello order"
expect_file "$OUT" "JSON log: hello result" <<'EOF'
Work order result : Hello Krsna
EOF
stop_worker
wait_line "$NOTES" "STOPPING=1"

"$PYTHON" - "$WORKER_LOG" "$WO_ID" <<'EOF' || fail "JSON log records (above)"
import json, re, sys
log, wo = sys.argv[1], sys.argv[2]
stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
recs = []
for n, line in enumerate(open(log, encoding="utf-8"), 1):
    r = json.loads(line)  # every line is one JSON object
    keys = set(r)
    assert keys in ({"time", "level", "message"},
                    {"time", "level", "message", "work_order_id"}), (n, line)
    assert stamp.match(r["time"]), (n, line)
    assert r["level"] in ("error", "warn", "info", "debug"), (n, line)
    recs.append(r)
listening = [r for r in recs if r["message"].startswith("listening on tcp://127.0.0.1:")]
assert len(listening) == 1 and "work_order_id" not in listening[0], listening
unknown = [r for r in recs if r["message"] == "unknown workload no-such-workload"]
assert len(unknown) == 1, recs
assert unknown[0]["level"] == "info" and unknown[0]["work_order_id"] == wo, unknown
# records after the order do not carry its id
last = recs.index(unknown[0])
assert all("work_order_id" not in r for r in recs[last + 1:]), recs[last + 1:]
print("[test_notify_log] %d JSON records, work order %s... named" % (len(recs), wo[:16]))
EOF

# 2. The journal on stderr (JOURNAL_STREAM = its device:inode), abstract socket.
NOTES2="$TEST_TMP/notes2.txt"
ABSTRACT="@tcw-test-notify-$$"
listen_notify "$ABSTRACT" "$NOTES2"
JLOG="$TEST_TMP/journal.log"
: >"$JLOG"
export JOURNAL_STREAM NOTIFY_SOCKET="$ABSTRACT"
JOURNAL_STREAM=$(stat -c '%d:%i' "$JLOG")
tcw_spawn "$JLOG" "$TCWORKER" --workload "$WORKLOADS" --rsa-bits 2048
unset JOURNAL_STREAM NOTIFY_SOCKET
WORKER_PID=$TCW_PID
WORKER_LOG=$JLOG
ALL_WORKER_PIDS+=("$WORKER_PID")
wait_listening "$WORKER_PID" "$JLOG"
wait_line "$NOTES2" "READY=1"
stop_worker
wait_line "$NOTES2" "STOPPING=1"
expect_grep "$JLOG" '^<6>listening on tcp://127\.0\.0\.1:[0-9]+$' "journal: listening record"
expect_grep "$JLOG" '^<4>no attestation files at ' "journal: warning priority"
expect_no_grep "$JLOG" '^[^<]|^<[0-9]>[0-9]{4}-|INFO|WARN' "journal: own timestamps or level names"

# 3. Without NOTIFY_SOCKET nothing is sent and the text format keeps its time.
start_worker --rsa-bits 2048 --log-format text
stop_worker
expect_grep "$WORKER_LOG" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z INFO listening on ' "text record"
[ "$(wc -l <"$NOTES")" -eq 2 ] || fail "a notification without NOTIFY_SOCKET: $(cat "$NOTES")"

# 4. A bad --log-format value is refused, naming the flag and the INI key.
run_worker_fg --log-format xml --workload "$WORKLOADS"
[ "$RC" -eq 2 ] || fail "--log-format xml: exit status $RC, expected 2"
expect_file "$ERR" "--log-format xml" <<'EOF'
tcworker: --log-format: invalid value 'xml' (expected text or json)
EOF
printf '[tcworker]\nlog-format = yaml\n' >"$TEST_TMP/bad.ini"
run_worker_fg --config "$TEST_TMP/bad.ini" --workload "$WORKLOADS"
[ "$RC" -eq 2 ] || fail "log-format = yaml: exit status $RC, expected 2"
expect_file "$ERR" "log-format = yaml" <<EOF
tcworker: $TEST_TMP/bad.ini:2: log-format: invalid value 'yaml' (expected text or json)
EOF
note "READY=1/STOPPING=1 (path and abstract sockets), JSON and journal records"
