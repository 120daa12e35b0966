#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_gateway_sdk.sh - Avalon's SDK connector classes (JRPCWorkerRegistryImpl,
# JRPCWorkOrderImpl, JRPCWorkOrderReceiptImpl) called directly against
# tcgateway + tcworker (tests/gateway/sdk_client.py), from Avalon's client
# bundle in ../shared/peers/avalon-generic-client, set up into the build tree.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

avalon_bundle "Avalon's SDK"

W=graphene-worker-1
ADMIN="$TEST_TMP/admin.sock"
start_worker --threads 2
start_gw --worker "$W=$ENDPOINT" --db "sqlite:$TEST_TMP/gw.db" --keys-file "$TEST_TMP/gw.keys" \
	--admin-socket "$ADMIN"
# the bundle's module path, as its run-generic-client sets it
D=$CLIENT_DIR
TCF_HOME=$D PYTHONNOUSERSITE=1 \
	PYTHONPATH="$D/stubs:$D/common/python:$D/common/crypto_utils:$D/common/verify_report_utils:$D/sdk" \
	"$PYTHON" "$GW_DIR/sdk_client.py" "$GW_URL" "$W" "$ADMIN" >"$TEST_TMP/sdk.out" 2>&1 ||
	{ cat "$TEST_TMP/sdk.out" >&2; fail "Avalon SDK connectors"; }
cat "$TEST_TMP/sdk.out" >&2
expect_grep "$TEST_TMP/sdk.out" "^[0-9]+ checks of Avalon's SDK connectors passed$" "SDK checks"
stop_gw
note "ok"
