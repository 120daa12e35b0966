#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_keysfile.sh - --keys-file: a restarted worker keeps its identity and
# serves clients that kept its old signup; corrupt or unreadable files are
# refused (exit 2) with a message saying how to start afresh; --regenerate-keys.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SGXQ="$(dirname "$0")/sgxquote.py"
ORDERS="$TCW_SOURCE_DIR/tests/test_work_orders.json"
KDIR="$TEST_TMP/keys"
KEYS="$KDIR/worker.keys"
OLD="$TEST_TMP/old-signup.json"
mkdir -m 700 "$KDIR"

# Fails unless the signup JSON files $1 and $2 carry the same keys ($3 = same|different).
compare_keys() {
	"$PYTHON" - "$1" "$2" "$3" <<'EOF' || fail "signup keys: expected $3"
import json, sys
a, b = (json.load(open(p, encoding="utf-8")) for p in sys.argv[1:3])
same = all(a[k] == b[k] for k in ("verifying_key", "encryption_key"))
differ = all(a[k] != b[k] for k in ("verifying_key", "encryption_key"))
sys.exit(0 if (same if sys.argv[3] == "same" else differ) else 1)
EOF
}

# Runs a worker in the foreground that must refuse to start (exit 2) with
# a message matching $1 and the way out (--regenerate-keys).
expect_refused() {
	local why=$1
	shift
	run_worker_fg --bind 'tcp://127.0.0.1:*' --workload "$WORKLOADS" "$@"
	[ "$RC" -eq 2 ] || { cat "$ERR" >&2; fail "$why: exit status $RC, expected 2"; }
	expect_grep "$ERR" "$why" "$why: reason in the message"
	expect_no_grep "$ERR" ' listening on ' "$why: must not serve"
}

# ---- first start: keys generated and stored (mode 0600, nothing else left behind)
start_worker --rsa-bits 2048 --keys-file "$KEYS"
expect_grep "$WORKER_LOG" "INFO keys file $KEYS does not exist yet: first start\$" "first start"
expect_grep "$WORKER_LOG" "INFO stored the new keys in $KEYS\$" "keys stored"
[ "$(stat -c %a "$KEYS")" = 600 ] || fail "keys file mode $(stat -c %a "$KEYS"), expected 600"
expect_no_grep <(ls -A "$KDIR") '\.tmp-' "no temporary file left beside the keys file"
run_client --workload python-hello --in-data before --save-signup "$OLD"
expect_rc 0 "order before the restart"
echo "Work order result : Hello before" | expect_file "$OUT" "order before the restart"
stop_worker
cp "$KEYS" "$TEST_TMP/keys.orig"

# ---- restart: same keys (the configured --rsa-bits only applies to new keys)
start_worker --keys-file "$KEYS"
expect_grep "$WORKER_LOG" "INFO loaded the worker keys from $KEYS \(same identity as before\)\$" \
	"keys loaded"
expect_no_grep "$WORKER_LOG" 'generating' "no key generation on restart"
"$PYTHON" "$SGXQ" fetch "$ENDPOINT" "$TEST_TMP/new-signup.json"
compare_keys "$OLD" "$TEST_TMP/new-signup.json" same
[ "$(signup_rsa_bits "$ENDPOINT")" = 2048 ] || fail "restarted worker changed its RSA size"
# A client that kept the old signup never asks again and completes every order.
run_client --signup-file "$OLD" --file "$ORDERS"
expect_rc 0 "old signup against the restarted worker"
expected_reference_lines | expect_file "$OUT" "old signup against the restarted worker"
expect_grep "$ERR" "^worker signup: from $OLD, RSA 2048-bit encryption key, signature verified\$" \
	"client used the saved signup"
stop_worker
cmp -s "$KEYS" "$TEST_TMP/keys.orig" || fail "loading the keys file changed it"

# ---- corrupt, truncated, foreign and unreadable files are refused, and left alone
cp "$TEST_TMP/keys.orig" "$KEYS"
printf '\x55' | dd of="$KEYS" bs=1 seek=600 conv=notrunc status=none
cp "$KEYS" "$TEST_TMP/keys.corrupt"
expect_refused 'corrupt: checksum mismatch \(file is corrupt\)' --keys-file "$KEYS"
expect_grep "$ERR" 'refusing to start: .*start afresh with --regenerate-keys' "how to start afresh"
cmp -s "$KEYS" "$TEST_TMP/keys.corrupt" || fail "a refused keys file was modified"
head -c 100 "$TEST_TMP/keys.orig" >"$KEYS"
expect_refused "corrupt: truncated \\(100 bytes, expected $(stat -c %s "$TEST_TMP/keys.orig")\\)" \
	--keys-file "$KEYS"
: >"$KEYS"
expect_refused 'corrupt: not a tcworker keys file \(bad magic, 0 bytes\)' --keys-file "$KEYS"
printf -- '-----BEGIN PRIVATE KEY-----\n' >"$KEYS"
expect_refused 'corrupt: not a tcworker keys file \(bad magic, 28 bytes\)' --keys-file "$KEYS"
{ head -c 8 "$TEST_TMP/keys.orig"; printf '\x02'; tail -c +10 "$TEST_TMP/keys.orig"; } >"$KEYS"
expect_refused 'corrupt: unsupported format version 2 \(this build reads 1\)' --keys-file "$KEYS"
expect_refused 'corrupt: not a regular file' --keys-file "$KDIR"
expect_refused 'cannot store the new keys: cannot create a temporary file beside it: No such file or directory' \
	--rsa-bits 2048 --keys-file "$TEST_TMP/no/such/dir/worker.keys"
expect_refused 'needs --keys-file' --regenerate-keys

# ---- --regenerate-keys: a new identity, stored, then kept
cp "$TEST_TMP/keys.corrupt" "$KEYS"
start_worker --rsa-bits 2048 --keys-file "$KEYS" --regenerate-keys
expect_grep "$WORKER_LOG" "WARN --regenerate-keys: replacing the keys in $KEYS with new ones" \
	"--regenerate-keys warns"
"$PYTHON" "$SGXQ" fetch "$ENDPOINT" "$TEST_TMP/regen-signup.json"
compare_keys "$OLD" "$TEST_TMP/regen-signup.json" different
[ "$(stat -c %a "$KEYS")" = 600 ] || fail "regenerated keys file mode $(stat -c %a "$KEYS")"
# The old signup no longer fits: the worker cannot open its session key.
run_client --signup-file "$OLD" --workload python-hello --in-data stale
expect_rc 1 "old signup after --regenerate-keys"
expect_grep "$OUT" 'Work order integrity check failed' "stale signup is refused by the worker"
stop_worker
start_worker --keys-file "$KEYS"
"$PYTHON" "$SGXQ" fetch "$ENDPOINT" "$TEST_TMP/after-signup.json"
compare_keys "$TEST_TMP/regen-signup.json" "$TEST_TMP/after-signup.json" same
stop_worker

# ---- the INI file takes keys-file (and a missing signup file is a usage error)
printf '[tcworker]\nkeys-file = %s\nbind = tcp://127.0.0.1:*\nattestation-dir = %s\n' \
	"$KEYS" "$TEST_TMP/absent" >"$TEST_TMP/tcworker.ini"
start_worker --config "$TEST_TMP/tcworker.ini"
expect_grep "$WORKER_LOG" "INFO loaded the worker keys from $KEYS " "keys-file from the INI file"
expect_grep "$WORKER_LOG" "WARN no attestation files at $TEST_TMP/absent " "attestation-dir from the INI file"
run_client --signup-file "$TEST_TMP/after-signup.json" --workload python-hello --in-data ini
expect_rc 0 "order with the INI-configured worker"
run_client --signup-file "$TEST_TMP/missing.json" --workload python-hello --in-data x
expect_rc 2 "missing --signup-file"
stop_worker

note "ok"
