#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_replay.sh - replay protection: a resubmitted work order gets "Duplicate
# work order" (also after a restart with the same --keys-file, from the replay
# file saved at shutdown or periodically); --replay-cache 0 turns it off;
# full caches and expired ids; a corrupt replay file stops the start; flags.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KEYS="$TEST_TMP/worker.keys"

# peer.py send URL FILE: submits a fresh order, checks its result, keeps it
# in FILE. peer.py replay URL FILE duplicate|result: submits it again and
# expects "Duplicate work order", or a second valid result.
cat >"$TEST_TMP/peer.py" <<'EOF'
import json, os, sys
sys.path.insert(0, os.path.join(os.environ["TCW_SOURCE_DIR"], "tests/integration"))
from woclient import Order, Peer, error

cmd, url, path = sys.argv[1:4]
peer = Peer(url)
if cmd == "send":
    o = Order(peer, "python-hello", ["replayed " + os.path.basename(path)])
    o.check_result(o.submit())
    with open(path, "w") as f:
        json.dump({"params": o.params, "key": o.key.hex(), "iv": o.iv.hex()}, f)
else:
    saved = json.load(open(path))
    o = Order.__new__(Order)
    o.peer, o.mode, o.out_dek = peer, "session", None
    o.params, o.key, o.iv = saved["params"], bytes.fromhex(saved["key"]), bytes.fromhex(saved["iv"])
    got = o.submit("r")
    if sys.argv[4] == "duplicate":
        want = error(2, "Duplicate work order", "r", o.params["workOrderId"])
        assert got == want, got
    else:
        assert o.check_result(got, "r") == [("Hello replayed " + os.path.basename(path)).encode()]
print("ok:", cmd, os.path.basename(path), *sys.argv[4:])
peer.close()
EOF
peer() {
	"$PYTHON" "$TEST_TMP/peer.py" "$@" >>"$TEST_TMP/peer.out" 2>&1 ||
		{ cat "$TEST_TMP/peer.out" >&2; fail "peer $*"; }
}

# 1. Replays are refused; the history survives a clean restart with the
# same keys (saved at shutdown to <keys-file>.replay, mode 0600).
start_worker --rsa-bits 2048 --keys-file "$KEYS"
expect_grep "$WORKER_LOG" "replay cache: 100000 entries, ttl 86400 s, response store 33554432 bytes, saved to $KEYS.replay \(0 ids, 0 replies loaded\)" \
	"default replay settings"
peer send "$ENDPOINT" "$TEST_TMP/a.json"
peer replay "$ENDPOINT" "$TEST_TMP/a.json" duplicate
peer send "$ENDPOINT" "$TEST_TMP/b.json"
stop_worker
expect_grep "$WORKER_LOG" "replay cache saved to $KEYS.replay \(2 ids, 2 replies\)" "saved at shutdown"
[ "$(stat -c %a "$KEYS.replay")" = 600 ] || fail "replay file mode $(stat -c %a "$KEYS.replay")"
start_worker --keys-file "$KEYS"
expect_grep "$WORKER_LOG" "\(2 ids, 2 replies loaded\)" "loaded at start"
peer replay "$ENDPOINT" "$TEST_TMP/a.json" duplicate
peer replay "$ENDPOINT" "$TEST_TMP/b.json" duplicate
peer send "$ENDPOINT" "$TEST_TMP/c.json"

# 2. The periodic save: without a clean shutdown (SIGKILL), the ids saved
# while running are still known after the restart.
for ((i = 0; i < 600; i++)); do
	[ "$(stat -c %s "$KEYS.replay")" -eq $((24 + 3 * 40 + 32)) ] && break
	sleep 0.1
done
[ "$(stat -c %s "$KEYS.replay")" -eq $((24 + 3 * 40 + 32)) ] || fail "no periodic save"
kill -KILL "$WORKER_PID"
wait "$WORKER_PID" || true
start_worker --keys-file "$KEYS"
peer replay "$ENDPOINT" "$TEST_TMP/c.json" duplicate
stop_worker

# 3. --replay-file wins over the keys file's neighbour; a corrupt replay
# file stops the worker from starting (exit 1) instead of forgetting.
start_worker --keys-file "$KEYS" --replay-file "$TEST_TMP/other.replay"
expect_grep "$WORKER_LOG" "saved to $TEST_TMP/other.replay \(0 ids, 0 replies loaded\)" "--replay-file"
peer replay "$ENDPOINT" "$TEST_TMP/a.json" result
stop_worker
cp "$KEYS.replay" "$TEST_TMP/bad.replay"
printf 'X' | dd of="$TEST_TMP/bad.replay" bs=1 seek=40 conv=notrunc status=none
run_worker_fg --keys-file "$KEYS" --replay-file "$TEST_TMP/bad.replay" \
	--bind 'tcp://127.0.0.1:*' --workload "$WORKLOADS"
expect_rc 1 "corrupt replay file"
expect_grep "$ERR" "$TEST_TMP/bad.replay: checksum mismatch \(corrupt replay file\)" \
	"corrupt file message"
expect_grep "$ERR" "refusing to start without the replay history" "refusal message"

# 4. --replay-cache 0: off (warned), a replay gets a second result. (With
# the unwrap cache on, the replay's session key would count as reused and
# its reference-format layout be refused: test_session_reuse.sh.)
start_worker --rsa-bits 2048 --replay-cache 0 --key-cache 0
expect_grep "$WORKER_LOG" "replay protection is off" "off warning"
peer send "$ENDPOINT" "$TEST_TMP/d.json"
peer replay "$ENDPOINT" "$TEST_TMP/d.json" result
stop_worker

# 5. An expired id is accepted again (settings from the INI file); a full
# cache forgets its oldest id, and says so.
cat >"$TEST_TMP/replay.ini" <<EOF
[tcworker]
bind = tcp://127.0.0.1:*
rsa-bits = 2048
replay-cache = 10
key-cache = 0
replay-ttl = 1
EOF
start_worker --config "$TEST_TMP/replay.ini"
expect_grep "$WORKER_LOG" "replay cache: 10 entries, ttl 1 s, response store 33554432 bytes, not persisted" "INI settings"
peer send "$ENDPOINT" "$TEST_TMP/g.json"
sleep 2.5 # ttl 1 s (whole seconds): g has expired
peer replay "$ENDPOINT" "$TEST_TMP/g.json" result
stop_worker
start_worker --rsa-bits 2048 --replay-cache 2 --replay-ttl 86400 --key-cache 0
peer send "$ENDPOINT" "$TEST_TMP/h.json"
peer send "$ENDPOINT" "$TEST_TMP/i.json"
peer send "$ENDPOINT" "$TEST_TMP/j.json"
peer replay "$ENDPOINT" "$TEST_TMP/j.json" duplicate
peer replay "$ENDPOINT" "$TEST_TMP/i.json" duplicate
peer replay "$ENDPOINT" "$TEST_TMP/h.json" result
stop_worker
expect_grep "$WORKER_LOG" "replay cache full: 2 work order ids dropped before their TTL" \
	"eviction warning"

# 6. Flag values are checked.
for bad in "--replay-cache abc" "--replay-cache 10000001" "--replay-ttl 0" \
	"--workload-timeout-ms 3600001" "--workload-timeout-ms -1"; do
	# shellcheck disable=SC2086
	run_worker_fg $bad
	expect_rc 2 "$bad"
	expect_grep "$ERR" "^tcworker: ${bad%% *}: invalid value '${bad#* }' \(expected an integer from" \
		"$bad message"
done
note "ok"
