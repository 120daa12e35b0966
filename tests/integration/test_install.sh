#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_install.sh - `make install` into a DESTDIR, then the installed worker
# (no --workload: it finds its installed workloads.json) serves the installed
# reference orders to the installed client; the installed man pages render;
# a plugin built out of tree with `pkg-config --cflags tcw-workload` (the
# upper.c of docs/workloads.md) loads into the installed worker.
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
	share/tcworker/test_work_orders.json include/tcworker/tcw/workload.h \
	share/pkgconfig/tcw-workload.pc share/man/man1/tcworker.1 share/man/man1/tcclient.1 \
	share/man/man7/tcw-workload.7 share/bash-completion/completions/tcworker \
	share/bash-completion/completions/tcclient; do
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

for page in "$PFX"/share/man/man*/*; do
	if ! LC_ALL=C.UTF-8 man --warnings -l "$page" >/dev/null 2>"$TEST_TMP/warn" ||
		[ -s "$TEST_TMP/warn" ]; then
		fail "installed $page does not render cleanly: $(cat "$TEST_TMP/warn")"
	fi
done

# An out-of-tree plugin against the installed tree: the example of
# docs/workloads.md, compiled with the flags pkg-config gives.
export PKG_CONFIG_PATH="$PFX/share/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$DEST"
CFLAGS_PC=$(pkg-config --cflags tcw-workload) || fail "pkg-config --cflags tcw-workload failed"
CFLAGS_PC=${CFLAGS_PC%% } # pkgconf ends with a space
[ "$CFLAGS_PC" = "-I$PFX/include/tcworker" ] || fail "pkg-config --cflags: '$CFLAGS_PC'"
[ "$(pkg-config --modversion tcw-workload)" = 0.1.0 ] || fail "pkg-config --modversion"
PLUG="$TEST_TMP/plugin"
mkdir -p "$PLUG/plugins"
awk '/^## A complete plugin/ { s = 1 } s && /^```c$/ { c = 1; next } c && /^```$/ { exit }
	c { print }' "$TCW_SOURCE_DIR/docs/workloads.md" >"$PLUG/upper.c"
grep -q '#include <tcw/workload.h>' "$PLUG/upper.c" || fail "docs/workloads.md: upper.c not found"
# shellcheck disable=SC2086 # pkg-config output is a list of flags
cc -std=c11 -O2 -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden $CFLAGS_PC \
	-o "$PLUG/plugins/upper.so" "$PLUG/upper.c" 2>"$TEST_TMP/cc.err" ||
	fail "building upper.c against the installed header: $(cat "$TEST_TMP/cc.err")"
[ "$(nm -D --defined-only "$PLUG/plugins/upper.so" | awk '{ print $3 }')" = tcw_workload_entry ] ||
	fail "upper.so exports more than tcw_workload_entry"
echo '{"upper": {"library": "plugins/upper.so"}}' >"$PLUG/workloads.json"
start_worker --rsa-bits 2048 --workload "$PLUG/workloads.json"
expect_grep "$WORKER_LOG" 'workload "upper": plugin "upper" from .*plugins/upper\.so \(thread-safe\)' \
	"upper.so loaded"
RC=0
"$PFX/bin/tcclient" --connect "$ENDPOINT" --timeout "$CLIENT_TIMEOUT_MS" --workload upper \
	--in-data 'abc-XyZ 1' >"$OUT" 2>"$ERR" || RC=$?
expect_rc 0 "installed tcclient, upper"
expect_file "$OUT" "upper result" <<'EOF'
Work order result : ABC-XYZ 1
EOF
stop_worker
note "ok"
