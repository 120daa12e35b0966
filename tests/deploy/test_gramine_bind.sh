#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_gramine_bind.sh - inside Gramine (simulated with TCW_GRAMINE=1, which
# the manifest sets) the worker refuses to bind a literal address, which
# would make libzmq abort there, and still binds the wildcard; outside
# Gramine nothing changes.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"

# Each literal endpoint: exit 2 before anything else happens, and a message
# naming the endpoint and the wildcard form to use instead.
check_refused() {
	local endpoint=$1 suggestion=$2
	TCW_GRAMINE=1 run_worker_fg --bind "$endpoint" --workload "$WORKLOADS"
	expect_rc 2 "TCW_GRAMINE=1 --bind $endpoint"
	expect_grep "$ERR" 'INFO running inside Gramine$' "$endpoint: detection logged"
	expect_grep "$ERR" "ERROR --bind: cannot bind ${endpoint//[\[\]*.]/.} inside Gramine: libzmq aborts when it binds a literal address there \\(no netlink\\); bind the wildcard instead, e\\.g\\. ${suggestion//[*.]/.}\$" \
		"$endpoint: refusal message"
	expect_no_grep "$ERR" 'generating|listening' "$endpoint: refused before keys and bind"
}

check_refused 'tcp://127.0.0.1:7777' 'tcp://*:7777'
check_refused 'tcp://localhost:*' 'tcp://*:*'
check_refused 'tcp://[::1]:7777' 'tcp://*:7777'
check_refused 'tcp://eth0:7777' 'tcp://*:7777'
check_refused 'ws://127.0.0.1:8080/tcw' 'ws://*:8080/tcw'

# The same refusal when the endpoint comes from a --config file.
printf '[tcworker]\nbind = tcp://127.0.0.1:7777\n' >"$TEST_TMP/worker.ini"
TCW_GRAMINE=1 run_worker_fg --config "$TEST_TMP/worker.ini" --workload "$WORKLOADS"
expect_rc 2 "TCW_GRAMINE=1 with bind from --config"
expect_grep "$ERR" 'cannot bind tcp://127\.0\.0\.1:7777 inside Gramine' "bind from --config"

# TCW_GRAMINE=0 or empty is "not Gramine": the literal address is fine.
for v in 0 ''; do
	TCW_GRAMINE=$v start_worker --rsa-bits 2048
	expect_no_grep "$WORKER_LOG" 'Gramine' "TCW_GRAMINE='$v' is not Gramine"
	run_client --workload python-hello --in-data plain
	expect_rc 0 "TCW_GRAMINE='$v' order"
	stop_worker
done

# Inside Gramine the wildcard binds (here on an ephemeral port) and a client
# reaches it through the loopback address.
TCW_GRAMINE=1 start_worker --rsa-bits 2048 --bind 'tcp://*:*'
expect_grep "$WORKER_LOG" 'INFO running inside Gramine$' "wildcard: detection logged"
port=${ENDPOINT##*:}
[[ "$port" =~ ^[0-9]+$ ]] || fail "no port in '$ENDPOINT'"
ENDPOINT="tcp://127.0.0.1:$port"
run_client --workload python-hello --in-data enclave
expect_rc 0 "order to the wildcard-bound worker"
echo "Work order result : Hello enclave" | expect_file "$OUT" "wildcard-bound worker result"
stop_worker

# Transports that resolve no address are not checked.
TCW_GRAMINE=1 start_worker --rsa-bits 2048 --bind "ipc://$TEST_TMP/worker.sock"
run_client --workload python-hello --in-data ipc
expect_rc 0 "order over ipc:// with TCW_GRAMINE=1"
stop_worker
note "ok"
