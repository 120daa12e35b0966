#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_flags.sh - tcworker command line, config file, log levels and signals.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Runs one hello order and checks the RSA size tcclient reports.
# Usage: check_order_and_bits BITS WHAT
check_order_and_bits() {
	run_client --workload python-hello --in-data "$2"
	expect_rc 0 "$2"
	echo "Work order result : Hello $2" | expect_file "$OUT" "$2"
	expect_grep "$ERR" "^worker signup: RSA $1-bit encryption key, signature verified\$" \
		"$2: RSA size in tcclient's signup line"
}

# ---- --rsa-bits ----
for bits in 2048 3072 4096; do
	start_worker --rsa-bits "$bits"
	check_order_and_bits "$bits" "rsa$bits"
	got=$(signup_rsa_bits "$ENDPOINT") || fail "python signup check failed"
	[ "$got" = "$bits" ] || fail "--rsa-bits $bits: encryption_key has $got bits"
	stop_worker
done

# Default size: 3072 (what Avalon registers).
start_worker
check_order_and_bits 3072 default-bits
stop_worker

for bad in 1000 2047 abc ''; do
	run_worker_fg --bind 'tcp://127.0.0.1:*' --workload "$WORKLOADS" --rsa-bits "$bad"
	[ "$RC" -eq 2 ] || fail "--rsa-bits '$bad': exit status $RC, expected 2"
	expect_grep "$ERR" 'rsa-bits' "--rsa-bits '$bad': message names the flag"
done

# ---- --help, --version, unknown flags, bad values ----
run_worker_fg --help
[ "$RC" -eq 0 ] || fail "--help: exit status $RC"
expect_grep "$OUT" '--bind' "--help lists --bind"
expect_grep "$OUT" '--rsa-bits' "--help lists --rsa-bits"
run_worker_fg --version
[ "$RC" -eq 0 ] || fail "--version: exit status $RC"
expect_grep "$OUT" '^tcworker 0\.1\.0$' "--version"
run_worker_fg --no-such-flag
[ "$RC" -eq 2 ] || fail "unknown flag: exit status $RC, expected 2"
expect_grep "$ERR" 'no-such-flag' "unknown flag is named"
run_worker_fg --bind 'tcp://127.0.0.1:*' --workload "$WORKLOADS" --log-level loud
[ "$RC" -eq 2 ] || fail "--log-level loud: exit status $RC, expected 2"
expect_grep "$ERR" 'log-level' "bad --log-level is named"
run_worker_fg --bind 'tcp://127.0.0.1:*' --workload "$TEST_TMP/missing.json"
[ "$RC" -eq 2 ] || fail "missing --workload file: exit status $RC, expected 2"
expect_grep "$ERR" 'missing\.json' "missing workload file is named"

# ---- --log-level ----
start_worker --rsa-bits 2048 --log-level debug
check_order_and_bits 2048 debug-level
expect_grep "$WORKER_LOG" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z DEBUG ' \
	"--log-level debug writes debug lines"
expect_grep "$WORKER_LOG" ' INFO listening on ' "info lines at debug level"
stop_worker

# At level error nothing is logged while all goes well, so there is no
# "listening on" line: use a private ipc endpoint (tcclient retries the
# connection until the worker has bound it).
sock="ipc://$TEST_TMP/error-level.sock"
spawn_worker --rsa-bits 2048 --log-level error --bind "$sock"
ENDPOINT=$sock
check_order_and_bits 2048 error-level
stop_worker
expect_no_grep "$WORKER_LOG" ' (INFO|DEBUG|WARN) ' "--log-level error"

# ---- --config ----
cfg="$TEST_TMP/top.ini"
cat >"$cfg" <<EOF
; top-level keys, no section
bind = ipc://$TEST_TMP/config.sock
rsa-bits = 2048
log-level = debug
workload = $WORKLOADS
EOF
start_worker --config "$cfg" --no-default-workload
[ "$ENDPOINT" = "ipc://$TEST_TMP/config.sock" ] ||
	fail "config bind not used: listening on $ENDPOINT"
check_order_and_bits 2048 config-top
expect_grep "$WORKER_LOG" ' DEBUG ' "config log-level debug"
stop_worker

cfg="$TEST_TMP/section.ini"
cat >"$cfg" <<EOF
[tcworker]
rsa-bits = 4096
log-level = error
bind = tcp://127.0.0.1:*
EOF
# Flags win over the file, whatever their order on the command line.
start_worker --rsa-bits 2048 --config "$cfg" --log-level info
check_order_and_bits 2048 config-override
stop_worker
start_worker --config "$cfg" --log-level info
check_order_and_bits 4096 config-section
stop_worker

cat >"$TEST_TMP/badkey.ini" <<EOF
[tcworker]
rsa-bits = 2048
colour = blue
EOF
run_worker_fg --config "$TEST_TMP/badkey.ini"
[ "$RC" -eq 2 ] || fail "bad config key: exit status $RC, expected 2"
expect_grep "$ERR" 'colour' "bad config key is named"
expect_grep "$ERR" 'badkey\.ini' "bad config file is named"

printf 'rsa-bits = 1000\n' >"$TEST_TMP/badval.ini"
run_worker_fg --config "$TEST_TMP/badval.ini"
[ "$RC" -eq 2 ] || fail "bad config value: exit status $RC, expected 2"
expect_grep "$ERR" 'rsa-bits' "bad config value names the key"

run_worker_fg --config "$TEST_TMP/no-such.ini"
[ "$RC" -eq 2 ] || fail "missing config: exit status $RC, expected 2"
expect_grep "$ERR" 'no-such\.ini' "missing config file is named"

# ---- signals: exit 0 and a "stopping" line, idle or after work ----
for sig in TERM INT; do
	start_worker --rsa-bits 2048
	check_order_and_bits 2048 "sig$sig"
	stop_worker "$sig"
	expect_grep "$WORKER_LOG" ' INFO stopping' "SIG$sig logs stopping"
	start_worker --rsa-bits 2048
	stop_worker "$sig"
	expect_grep "$WORKER_LOG" ' INFO stopping' "idle SIG$sig logs stopping"
done

note "ok"
