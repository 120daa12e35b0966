#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_systemd_unit.sh - deploy/systemd/tcworker.service, configured as the
# packages install it, passes `systemd-analyze verify` and scores an
# exposure of at most 2.0 with `systemd-analyze security --offline=yes`
# (no running systemd needed); its settings are the ones docs/packaging.md
# lists.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"

command -v systemd-analyze >/dev/null || fail "systemd-analyze missing (make deps installs systemd)"
UNIT_DIR="$TEST_TMP/unit"
mkdir -p "$UNIT_DIR"
# ExecStart must name an existing executable: the built worker.
sed -e "s|@CMAKE_INSTALL_FULL_BINDIR@|$(dirname "$TCWORKER")|" \
	-e 's|@CMAKE_INSTALL_FULL_SYSCONFDIR@|/etc|' \
	"$TCW_SOURCE_DIR/deploy/systemd/tcworker.service.in" >"$UNIT_DIR/tcworker.service"
grep -qE '@[A-Z_]+@' "$UNIT_DIR/tcworker.service" && fail "unconfigured @VARIABLE@ left in the unit"

cd "$UNIT_DIR"
systemd-analyze verify --man=no ./tcworker.service >"$TEST_TMP/verify.txt" 2>&1 || {
	cat "$TEST_TMP/verify.txt" >&2
	fail "systemd-analyze verify failed"
}
[ ! -s "$TEST_TMP/verify.txt" ] || fail "systemd-analyze verify: $(cat "$TEST_TMP/verify.txt")"

systemd-analyze security --offline=yes --no-pager ./tcworker.service >"$TEST_TMP/sec.txt" 2>&1 || true
score=$(sed -n 's/.*Overall exposure level for tcworker.service: \([0-9.]*\).*/\1/p' "$TEST_TMP/sec.txt")
[ -n "$score" ] || { cat "$TEST_TMP/sec.txt" >&2; fail "no exposure level in the security report"; }
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || {
	grep '✗' "$TEST_TMP/sec.txt" >&2 || true
	fail "exposure $score is above 2.0"
}

# The settings the service must have (systemd-analyze accepts a unit without them).
for want in 'Type=notify' 'User=tcworker' 'Group=tcworker' 'StateDirectory=tcworker' \
	'StateDirectoryMode=0700' 'UMask=0077' 'NoNewPrivileges=yes' 'ProtectSystem=strict' \
	'ProtectHome=yes' 'PrivateTmp=yes' 'PrivateDevices=yes' 'CapabilityBoundingSet=' \
	'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' 'SystemCallFilter=@system-service' \
	'MemoryDenyWriteExecute=yes' \
	"ExecStart=$(dirname "$TCWORKER")/tcworker --config /etc/tcworker/tcworker.ini"; do
	grep -qxF -- "$want" tcworker.service || fail "tcworker.service lacks '$want'"
done
note "systemd-analyze verify clean; exposure $score"
