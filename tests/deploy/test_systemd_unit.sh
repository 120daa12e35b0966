#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_systemd_unit.sh - deploy/systemd/tcworker.service (and tcgateway.service
# when tcgateway is built), configured as the packages install them, pass
# `systemd-analyze verify` and score an exposure of at most 2.0 with
# `systemd-analyze security --offline=yes` (no running systemd needed); their
# settings are the ones docs/packaging.md lists.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"

command -v systemd-analyze >/dev/null || fail "systemd-analyze missing (make deps installs systemd)"
BIN=$(dirname "$TCWORKER")

# check_unit NAME: deploy/systemd/NAME.service.in with ExecStart naming the
# built BIN/NAME (systemd-analyze verify wants an existing executable).
check_unit() {
	local name=$1 dir="$TEST_TMP/unit-$1" unit score want
	unit="$dir/$name.service"
	mkdir -p "$dir"
	sed -e "s|@CMAKE_INSTALL_FULL_BINDIR@|$BIN|" -e 's|@CMAKE_INSTALL_FULL_SYSCONFDIR@|/etc|' \
		"$TCW_SOURCE_DIR/deploy/systemd/$name.service.in" >"$unit"
	grep -qE '@[A-Z_]+@' "$unit" && fail "$name: unconfigured @VARIABLE@ left in the unit"
	(cd "$dir" && systemd-analyze verify --man=no "./$name.service") >"$dir/verify.txt" 2>&1 || {
		cat "$dir/verify.txt" >&2
		fail "systemd-analyze verify $name.service failed"
	}
	[ ! -s "$dir/verify.txt" ] || fail "systemd-analyze verify $name.service: $(cat "$dir/verify.txt")"

	(cd "$dir" && systemd-analyze security --offline=yes --no-pager "./$name.service") \
		>"$dir/sec.txt" 2>&1 || true
	score=$(sed -n "s/.*Overall exposure level for $name.service: \([0-9.]*\).*/\1/p" "$dir/sec.txt")
	[ -n "$score" ] || { cat "$dir/sec.txt" >&2; fail "$name: no exposure level in the report"; }
	awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || {
		grep '✗' "$dir/sec.txt" >&2 || true
		fail "$name.service: exposure $score is above 2.0"
	}

	# The settings the service must have (systemd-analyze accepts a unit without them).
	for want in 'Type=notify' "User=$name" "Group=$name" "StateDirectory=$name" \
		'StateDirectoryMode=0700' 'UMask=0077' 'NoNewPrivileges=yes' 'ProtectSystem=strict' \
		'ProtectHome=yes' 'PrivateTmp=yes' 'PrivateDevices=yes' 'CapabilityBoundingSet=' \
		'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' 'SystemCallFilter=@system-service' \
		'MemoryDenyWriteExecute=yes' "ExecStart=$BIN/$name --config /etc/$name/$name.ini"; do
		grep -qxF -- "$want" "$unit" || fail "$name.service lacks '$want'"
	done
	note "$name.service: systemd-analyze verify clean; exposure $score"
}

check_unit tcworker
if [ -x "$BIN/tcgateway" ]; then
	check_unit tcgateway
else
	note "tcgateway not built: its unit not checked"
fi
