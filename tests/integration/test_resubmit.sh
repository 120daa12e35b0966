#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_resubmit.sh - exact resubmissions get the reply already sent (results and
# errors, byte for byte), other requests reusing a workOrderId get "Duplicate work
# order"; replay state and kept replies survive kill -9 (the journal), also in the
# middle of a run from several connections; --response-store-bytes (0, a small
# store that evicts, INI key, bad values); torn and corrupt journal files.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KEYS="$TEST_TMP/worker.keys"
D="$TEST_TMP/orders"
mkdir -p "$D"
HERE=$(cd "$(dirname "$0")" && pwd -P)
peer() {
	"$PYTHON" "$HERE/resubmit_peer.py" "$1" "$ENDPOINT" "$D" "${@:2}" >"$TEST_TMP/peer.out" \
		2>&1 || { cat "$TEST_TMP/peer.out" >&2; fail "resubmit_peer.py $*"; }
}
journals() { find "$TEST_TMP" -maxdepth 1 -name 'worker.keys.replay.journal.*' | sort -V; }

# 1. Two orders (a result, and an error: unknown workload), then kill -9
# right after their replies, before the first periodic save (10 s): the
# journal alone brings back their ids and replies.
start_worker --rsa-bits 2048 --keys-file "$KEYS"
expect_grep "$WORKER_LOG" "replay cache: 100000 entries, ttl 86400 s, response store 33554432 bytes, saved to $KEYS.replay \\(0 ids, 0 replies loaded\\)" \
	"default response store"
peer send a
peer send e no-such-workload
grep -q '"message":"Error processing work load"' "$D/e.reply" || fail "e: $(cat "$D/e.reply")"
[ -n "$(journals)" ] || fail "no journal file while running"
[ "$(stat -c %a "$(journals | tail -1)")" = 600 ] || fail "journal file mode"
kill -KILL "$WORKER_PID"
wait "$WORKER_PID" || true
[ ! -e "$KEYS.replay" ] || fail "a periodic save ran before the kill; the test needs the journal alone"
start_worker --rsa-bits 2048 --keys-file "$KEYS"
expect_grep "$WORKER_LOG" "replay journal: 4 records read from 1 files\$" "journal read back"
expect_grep "$WORKER_LOG" "\\(2 ids, 2 replies loaded\\)" "journal loaded"

# 2. Exact resubmissions get the reply already sent, result or error, byte
# for byte; a new request with the same workOrderId: Duplicate.
peer exact a e
echo "duplicate=0 result=0 same=2" | expect_file "$TEST_TMP/peer.out" "exact resubmissions after kill -9"
peer changed a
peer changed e

# 3. kill -9 in the middle of a run of 4 connections, restart with the same
# keys, every order sent again byte for byte: those answered before get
# the same reply, those accepted and not answered run again (none is a
# duplicate), and each gets one result ("computed once"): with Python,
# python-hello is a workload that also appends "<input> <pid>" to a file
# once its work is done. An order has two such lines only when the killed
# process completed it but died before its reply was journaled (so it never
# left the worker): at most one per processing thread.
rm -f "$D"/*
WL=(--workload "$WORKLOADS")
RUNS=""
run_worker_fg --version
if ! grep -q '^python: no' "$OUT"; then
	mkdir -p "$TEST_TMP/py"
	RUNS="$TEST_TMP/py/runs.log"
	cat >"$TEST_TMP/py/counthello.py" <<EOF
import os
from avalon_worker.workload.workload import WorkLoad
class CountHello(WorkLoad):
    def execute(self, in_data_array):
        text = in_data_array[0]["data"]
        with open("$RUNS", "ab") as f:
            f.write(text + b" %d\\n" % os.getpid())
        return True, b"Hello " + text
EOF
	echo '{"python-hello": {"module": "counthello", "class": "CountHello"}}' \
		>"$TEST_TMP/py/workloads.json"
	WL=(--workload "$TEST_TMP/py/workloads.json")
fi
stop_worker
start_worker --rsa-bits 2048 --keys-file "$KEYS" "${WL[@]}"
KILLED=$WORKER_PID
THREADS=$(grep -oE '[0-9]+ processing threads' "$WORKER_LOG" | cut -d' ' -f1)
"$PYTHON" "$HERE/resubmit_peer.py" load "$ENDPOINT" "$D" 4 >"$TEST_TMP/load.out" 2>&1 &
LOAD_PID=$!
for ((i = 0; i < 300; i++)); do
	[ "$(find "$D" -name '*.reply' | wc -l)" -ge 40 ] && break
	sleep 0.1
done
kill -KILL "$WORKER_PID"
wait "$WORKER_PID" || true
kill "$LOAD_PID" 2>/dev/null || true
wait "$LOAD_PID" 2>/dev/null || true
answered=$(find "$D" -name '*.reply' | wc -l)
[ "$answered" -ge 40 ] || fail "only $answered orders answered before the kill"
start_worker --rsa-bits 2048 --keys-file "$KEYS" "${WL[@]}"
peer exact
read -r dup result same < <(sed 's/[a-z]*=//g' "$TEST_TMP/peer.out")
[ "$same" -eq "$answered" ] || fail "mid-run kill: $same of $answered answered orders got their reply again"
[ "$dup" -eq 0 ] || fail "mid-run kill: $dup orders accepted before the kill ended as duplicates"
note "mid-run kill -9: $answered answered orders got the same reply again; $result unanswered ones a result"
# a clean stop folds the journal into the files and leaves no journal
stop_worker
[ -z "$(journals)" ] || fail "journal files after a clean stop: $(journals)"
start_worker --rsa-bits 2048 --keys-file "$KEYS" "${WL[@]}"
peer exact
expect_file "$TEST_TMP/peer.out" "after a clean restart" <<<"duplicate=$dup result=$result same=$same"
if [ -n "$RUNS" ]; then
	again=0
	while read -r n text; do
		[ "$n" -le 2 ] || fail "$text: $n completed runs"
		[ "$n" -eq 2 ] || continue
		# twice: once by the killed process, its reply never sent, once after
		[ "$(grep -c -- "^$text $KILLED\$" "$RUNS")" -eq 1 ] ||
			fail "$text: computed twice, not once by the killed process: $(grep -- "^$text " "$RUNS")"
		name=${text#resubmit }
		[ ! -e "$D/$name.reply" ] || fail "$text: computed again although its reply had arrived"
		again=$((again + 1))
	done < <(sed 's/ [0-9]*$//' "$RUNS" | sort | uniq -c)
	[ "$again" -le "$THREADS" ] || fail "$again orders computed again, more than $THREADS threads"
	[ "$(wc -l <"$RUNS")" -eq $((same + result + again)) ] ||
		fail "$(wc -l <"$RUNS") runs for $((same + result)) results and $again runs again"
	note "computed once: $(wc -l <"$RUNS") workload runs for $((same + result)) results ($again completed by the killed process without a reply, run again)"
fi

# 4. A torn last record (the process died while writing it) is ignored; a
# corrupt record in the middle stops the start.
peer send t
kill -KILL "$WORKER_PID"
wait "$WORKER_PID" || true
J=$(journals | tail -1)
printf 'TCWJ\002\000\000\000\377\377\000\000partial' >>"$J"
start_worker --rsa-bits 2048 --keys-file "$KEYS"
expect_grep "$WORKER_LOG" "records read from 1 files \\(the last record of a killed run was incomplete: ignored\\)\$" \
	"torn record"
peer exact t
echo "duplicate=0 result=0 same=1" | expect_file "$TEST_TMP/peer.out" "after a torn record"
peer send u
kill -KILL "$WORKER_PID"
wait "$WORKER_PID" || true
J=$(journals | tail -1)
printf 'X' | dd of="$J" bs=1 seek=20 conv=notrunc status=none
run_worker_fg --rsa-bits 2048 --keys-file "$KEYS" --bind 'tcp://127.0.0.1:*' --workload "$WORKLOADS"
expect_rc 1 "corrupt journal"
expect_grep "$ERR" "$J: corrupt journal record at byte 0\$" "corrupt journal message"
expect_grep "$ERR" "refusing to start without the replay history" "corrupt journal refusal"
rm -f "$KEYS".replay*

# 5. --response-store-bytes 0: no store, an exact resubmission is a
# duplicate; the accepted id still survives kill -9.
rm -f "$D"/*
start_worker --rsa-bits 2048 --keys-file "$KEYS" --response-store-bytes 0
expect_grep "$WORKER_LOG" "ttl 86400 s, no response store, saved to" "store off"
peer send z
rm "$D/z.reply"
peer exact z
echo "duplicate=1 result=0 same=0" | expect_file "$TEST_TMP/peer.out" "store off"
kill -KILL "$WORKER_PID"
wait "$WORKER_PID" || true
start_worker --rsa-bits 2048 --keys-file "$KEYS" --response-store-bytes 0
peer exact z
echo "duplicate=1 result=0 same=0" | expect_file "$TEST_TMP/peer.out" "store off, after kill -9"
stop_worker

# 6. A small store (INI key): the oldest replies make room, and the log says
# so; their exact resubmissions are duplicates.
cat >"$TEST_TMP/store.ini" <<EOF
[tcworker]
bind = tcp://127.0.0.1:*
rsa-bits = 2048
response-store-bytes = 4096
EOF
rm -f "$D"/*
start_worker --config "$TEST_TMP/store.ini"
expect_grep "$WORKER_LOG" "response store 4096 bytes, not persisted" "INI response-store-bytes"
for n in 1 2 3 4 5 6 7 8; do peer send "s$n"; done
rm "$D/s1.reply"
peer exact s1 s8
echo "duplicate=1 result=0 same=1" | expect_file "$TEST_TMP/peer.out" "small store"
stop_worker
expect_grep "$WORKER_LOG" "response store full: [0-9]+ replies dropped to make room so far" \
	"eviction message"

# 7. Bad values.
for bad in "--response-store-bytes abc" "--response-store-bytes 68719476737" \
	"--response-store-bytes -1"; do
	# shellcheck disable=SC2086
	run_worker_fg $bad
	expect_rc 2 "$bad"
	expect_grep "$ERR" "^tcworker: --response-store-bytes: invalid value '${bad#* }' \\(expected an integer from 0 to 68719476736\\)" \
		"$bad message"
done
note "ok"
