#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_install.sh - `make install` into a DESTDIR, then the installed worker
# (no --workload: it finds its installed workloads.json) serves the installed
# reference orders to the installed client.
set -euo pipefail

if [ "${TCW_SANITIZE:-0}" = 1 ]; then
	echo "test_install: skipped in the sanitizer build (installs the release build)"
	exit 0
fi
. "$(dirname "$0")/lib.sh"

DEST="$TEST_TMP/dest"
PFX="$DEST/usr/local"
note "installing into $DEST"
make -C "$TCW_SOURCE_DIR" install DESTDIR="$DEST" PREFIX=/usr/local \
	BUILD_DIR="$TCW_BUILD_DIR" >"$TEST_TMP/install.log" 2>&1 || {
	cat "$TEST_TMP/install.log" >&2
	fail "make install failed"
}

for f in bin/tcworker bin/tcclient share/tcworker/workloads.json \
	share/tcworker/test_work_orders.json include/tcw/workload.h; do
	[ -f "$PFX/$f" ] || fail "not installed: $f"
done
{ [ -x "$PFX/bin/tcworker" ] && [ -x "$PFX/bin/tcclient" ]; } || fail "binaries not executable"
ls "$PFX"/lib*/tcworker/hello.so "$PFX"/lib*/tcworker/fib.so >/dev/null 2>&1 ||
	fail "plugins not installed under $PFX/lib*/tcworker"
"$PFX/bin/tcclient" --version | grep -qx 'tcclient 0\.1\.0' || fail "installed tcclient --version"
"$PFX/bin/tcworker" --version | grep -qx 'tcworker 0\.1\.0' || fail "installed tcworker --version"

# Run from a directory without workloads.json, without --workload.
RUN="$TEST_TMP/run"
mkdir -p "$RUN"
cd "$RUN"
TCWORKER="$PFX/bin/tcworker"
start_worker --rsa-bits 2048 --no-default-workload

RC=0
"$PFX/bin/tcclient" --connect "$ENDPOINT" --timeout "$CLIENT_TIMEOUT_MS" \
	--file "$PFX/share/tcworker/test_work_orders.json" \
	>"$TEST_TMP/out" 2>"$TEST_TMP/err" || RC=$?
OUT="$TEST_TMP/out"
ERR="$TEST_TMP/err"
expect_rc 0 "installed tcclient"
expected_reference_lines | expect_file "$OUT" "installed tcclient results"
stop_worker
[ ! -e "$RUN/workloads.json" ] || fail "the worker created workloads.json in its cwd"
note "ok"
