#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_gateway_demo.sh - scripts/demo-gateway.sh (make demo-gateway): the nine
# reference results through tcgateway, exactly, and the store's counts.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT="$TEST_TMP/demo.out" ERR="$TEST_TMP/demo.err" RC=0
bash "$TCW_SOURCE_DIR/scripts/demo-gateway.sh" "$TCW_BUILD_DIR" >"$OUT" 2>"$ERR" || RC=$?
expect_rc 0 "demo-gateway"
expected_reference_lines | expect_file "$OUT" "demo-gateway results"
expect_grep "$ERR" '^tcgw_orders\{state="done"\} 9$' "nine orders done"
expect_grep "$ERR" '^demo-gateway: tcgateway serving the EEA JSON-RPC API on http://127.0.0.1:[0-9]+$' "gateway line"
note "ok"
