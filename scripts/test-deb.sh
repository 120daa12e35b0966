#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test-deb.sh - what `make test-deb` runs (root): the packages of `make deb`
# in a fresh Debian 12 chroot (debootstrap --variant=minbase bookworm, cached
# as a tarball under BUILD_DIR/deb-chroot, with the host's Debian apt sources
# including security and updates):
#   1. apt-get install ./*.deb; tcworker --version; the tcworker user and
#      /var/lib/tcworker (0700);
#   2. the daemon itself, as user tcworker, from /etc/tcworker/tcworker.ini
#      (outside systemd, in a network namespace of its own so the configured
#      tcp://127.0.0.1:7777 is free), serving the installed reference orders
#      to the installed tcclient, then a Python and a detection order;
#   3. an upgrade over itself (dpkg -i of the same packages): same keys;
#   4. purge (and autoremove): nothing is left but what Debian policy keeps
#      (the system user in /etc/passwd and friends, dpkg's and apt's own
#      records and logs).
# Usage: scripts/test-deb.sh [BUILD_DIR]     (default build)
# shellcheck disable=SC2016 # '${Package}' etc. are dpkg-query formats
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
build_arg=${1:-build}
BUILD=$(cd "$build_arg" && pwd -P)
DEBS="$BUILD/deb"
CACHE="$BUILD/deb-chroot"
BASE="$CACHE/bookworm-minbase.tar"
ARCHIVES="$CACHE/archives"
CH="$CACHE/root"
SUITE=bookworm

say() { echo "test-deb: $*" >&2; }
die() {
	echo "FAIL [test-deb]: $*" >&2
	exit 1
}
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot)"
for t in debootstrap unshare chroot ip; do
	command -v "$t" >/dev/null || die "$t missing (make deps)"
done
mapfile -t PKGS < <(cd "$DEBS" && ls ./*.deb 2>/dev/null)
[ "${#PKGS[@]}" -ge 4 ] || die "fewer than 4 packages in $DEBS (make deb)"

MOUNTS=()
cleanup() {
	local m i
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		m=${MOUNTS[i]}
		umount -l "$m" 2>/dev/null || true
	done
}
trap cleanup EXIT

# The Debian mirror the host's apt uses for $SUITE (deb822 or one-line form).
host_mirror() {
	local uri
	uri=$(awk '/^URIs:/ { u = $2 } /^Suites:/ && / '"$SUITE"'( |$)/ { print u; exit }' \
		/etc/apt/sources.list.d/*.sources 2>/dev/null || true)
	[ -n "$uri" ] || uri=$(awk '$1 == "deb" && $3 == "'"$SUITE"'" { print $2; exit }' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
	echo "${uri:-http://deb.debian.org/debian}"
}

# Copies the host's Debian apt sources and its Acquire settings (validity
# checks, proxies) into chroot $1.
copy_apt_config() {
	local f
	rm -f "$1"/etc/apt/sources.list "$1"/etc/apt/sources.list.d/*
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && grep -q 'debian' "$f" && ! grep -qE 'cloud\.google|nodesource' "$f" &&
			cp "$f" "$1$f"
	done
	for f in /etc/apt/apt.conf.d/*; do
		[ -f "$f" ] && grep -q '^Acquire::' "$f" && cp "$f" "$1/etc/apt/apt.conf.d/"
	done
	grep -rqs 'security' "$1"/etc/apt/sources.list* || die "no security source copied from the host"
}

# 0. The base chroot: built once, kept as a tarball.
if [ ! -s "$BASE" ]; then
	mirror=$(host_mirror)
	say "debootstrap --variant=minbase $SUITE from $mirror (once; cached in $BASE)"
	rm -rf "$CACHE/base"
	mkdir -p "$CACHE"
	debootstrap --variant=minbase "$SUITE" "$CACHE/base" "$mirror" >"$CACHE/debootstrap.log" 2>&1 ||
		{ tail -n 30 "$CACHE/debootstrap.log" >&2; die "debootstrap failed"; }
	tar -C "$CACHE/base" -cf "$BASE.tmp" . && mv "$BASE.tmp" "$BASE"
	rm -rf "$CACHE/base"
fi

say "fresh chroot from $BASE"
rm -rf "$CH"
mkdir -p "$CH" "$ARCHIVES"
tar -C "$CH" -xf "$BASE"
copy_apt_config "$CH"
# no service is started from maintainer scripts in the chroot
printf '#!/bin/sh\nexit 101\n' >"$CH/usr/sbin/policy-rc.d"
chmod 0755 "$CH/usr/sbin/policy-rc.d"
mount -t proc proc "$CH/proc"
MOUNTS+=("$CH/proc")
mkdir -p "$CH/var/cache/apt/archives"
mount --bind "$ARCHIVES" "$CH/var/cache/apt/archives"
MOUNTS+=("$CH/var/cache/apt/archives")
mkdir -p "$CH/tmp/debs"
cp "$DEBS"/*.deb "$CH/tmp/debs/"

in_ch() { chroot "$CH" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
	DEBIAN_FRONTEND=noninteractive "$@"; }
# What the chroot holds (type, mode, owner, path), for the purge check.
snapshot() {
	(cd "$CH" && find . -xdev \( -path ./proc -o -path ./tmp -o -path ./var/cache/apt \
		-o -path ./var/lib/apt/lists -o -path ./var/log -o -path ./dev -o -path ./run \) -prune \
		-o -printf '%y %m %u %g %p\n' | sort)
}

say "apt-get update"
in_ch apt-get update -qq >"$CACHE/apt.log" 2>&1 || { cat "$CACHE/apt.log" >&2; die "apt-get update"; }
snapshot >"$CACHE/before.txt"
in_ch dpkg-query -W -f='${Package}\n' | sort >"$CACHE/packages-before.txt"

# 1. Install.
say "apt-get install ./*.deb (${PKGS[*]})"
(cd "$CH/tmp/debs" && in_ch sh -c 'cd /tmp/debs && apt-get install -y -q ./*.deb') \
	>"$CACHE/install.log" 2>&1 || { tail -n 40 "$CACHE/install.log" >&2; die "apt-get install"; }
ver=$(in_ch tcworker --version | head -n 1)
[ "$ver" = "tcworker 0.1.0" ] || die "tcworker --version: '$ver'"
in_ch tcworker --version | grep -qxE 'python: yes \(3\.[0-9]+, module /usr/lib/[^/]+/tcworker/pyhost\.so\)' ||
	die "tcworker --version: $(in_ch tcworker --version | tail -n 1)"
# The Python split: the daemon does not link libpython, tcworker-python does.
in_ch ldd /usr/bin/tcworker >"$CACHE/ldd.txt" || die "ldd /usr/bin/tcworker"
grep -q libpython "$CACHE/ldd.txt" && die "/usr/bin/tcworker links libpython"
for p in "${PKGS[@]}"; do
	case "$p" in
	*/tcworker_*) dpkg-deb -f "$DEBS/$p" Depends | grep -q libpython && die "tcworker depends on libpython" ;;
	*/tcworker-python_*) dpkg-deb -f "$DEBS/$p" Depends | grep -q libpython3 ||
		die "tcworker-python does not depend on libpython" ;;
	esac
done
in_ch tcdetect --version | grep -qx 'tcdetect 0\.1\.0' || die "tcdetect --version"
in_ch getent passwd tcworker | grep -q ':/var/lib/tcworker:/usr/sbin/nologin$' ||
	die "no system user tcworker: $(in_ch getent passwd tcworker)"
# (stat inside the chroot: its user database names the ids)
[ "$(in_ch stat -c '%a %U %G' /var/lib/tcworker)" = "700 tcworker tcworker" ] ||
	die "/var/lib/tcworker: $(in_ch stat -c '%a %U %G' /var/lib/tcworker)"
in_ch dpkg-query -W -f='${Conffiles}\n' tcworker | grep -q '/etc/tcworker/tcworker.ini' ||
	die "/etc/tcworker/tcworker.ini is not a conffile"
[ -f "$CH/lib/systemd/system/tcworker.service" ] || die "tcworker.service not installed"
if [ -x "$CH/usr/bin/pkg-config" ]; then # libtcw-workload-dev recommends pkgconf
	in_ch pkg-config --cflags tcw-workload | grep -q -- '-I/usr/include/tcworker' ||
		die "pkg-config --cflags tcw-workload"
fi
say "installed: $ver; user tcworker; /var/lib/tcworker 0700"

# 2. The daemon as user tcworker from the installed configuration, in a
# network namespace of its own (its loopback only).
run_daemon() {
	unshare --net bash -s "$CH" "$ROOT" <<'EOS'
set -euo pipefail
CH=$1
. "$2/scripts/daemon-lib.sh"
ip link set lo up
fail() { echo "FAIL [test-deb]: $*" >&2; [ -n "${TCW_PID:-}" ] && tcw_kill "$TCW_PID"; exit 1; }
in_ch() { chroot "$CH" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 "$@"; }
LOG=$CH/tmp/worker.log
tcw_spawn "$LOG" chroot "$CH" setpriv --reuid=tcworker --regid=tcworker --init-groups \
	env -i PATH=/usr/bin:/bin LC_ALL=C.UTF-8 tcworker --config /etc/tcworker/tcworker.ini
tcw_wait_listening "$TCW_PID" "$LOG" 120 || fail "the installed daemon did not start"
[ "$TCW_ENDPOINT" = tcp://127.0.0.1:7777 ] || fail "listening on $TCW_ENDPOINT, not the configured port"
in_ch tcclient --connect tcp://127.0.0.1:7777 --file /usr/share/tcworker/test_work_orders.json \
	>"$CH/tmp/orders.out" 2>"$CH/tmp/orders.err" || { cat "$CH/tmp/orders.err" >&2; fail "tcclient"; }
[ "$(grep -c '^Work order result : ' "$CH/tmp/orders.out")" -eq 9 ] || fail "not 9 results: $(cat "$CH/tmp/orders.out")"
grep -qx 'Work order result : Fibonacci number at position 15 = 610' "$CH/tmp/orders.out" || fail "fib result"
# chroot, setpriv and env exec one another: the pid is the daemon's
[ "$(stat -c %u "/proc/$TCW_PID")" = "$(in_ch id -u tcworker)" ] || fail "the daemon does not run as tcworker"
tcw_stop "$TCW_PID" 60 || fail "the daemon exited with status $? at SIGTERM"
[ "$(in_ch stat -c '%a %U' /var/lib/tcworker/worker.keys)" = "600 tcworker" ] ||
	fail "keys file: $(ls -l "$CH/var/lib/tcworker" 2>&1)"
[ -f "$CH/var/lib/tcworker/worker.keys.replay" ] || fail "no replay cache saved"
# Python workloads and detection (tcworker-python, tcworker-detect) on another port.
tcw_spawn "$CH/tmp/py.log" chroot "$CH" setpriv --reuid=tcworker --regid=tcworker --init-groups \
	env -i PATH=/usr/bin:/bin tcworker --bind 'tcp://127.0.0.1:*' --rsa-bits 2048 \
	--workload /usr/share/tcworker/workloads-python.json
tcw_wait_listening "$TCW_PID" "$CH/tmp/py.log" 120 || fail "worker with Python workloads"
out=$(in_ch tcclient --connect "$TCW_ENDPOINT" --workload python-hello --in-data Krsna 2>/dev/null) ||
	fail "python-hello order"
[ "$out" = "Work order result : Hello Krsna" ] || fail "python-hello: '$out'"
grep -q 'python class HelloWorkLoad' "$CH/tmp/py.log" || fail "python-hello did not run in Python"
tcw_stop "$TCW_PID" 60 || fail "Python worker exit status $?"
echo "test-deb: daemon as tcworker on the configured tcp://127.0.0.1:7777: 9 reference orders; python-hello in Python"
# tcgateway (when packaged): as user tcgateway from its configuration, in
# front of the configured worker; the reference orders through it.
if [ -x "$CH/usr/bin/tcgateway" ]; then
	tcw_spawn "$LOG" chroot "$CH" setpriv --reuid=tcworker --regid=tcworker --init-groups \
		env -i PATH=/usr/bin:/bin tcworker --config /etc/tcworker/tcworker.ini
	WPID=$TCW_PID
	tcw_wait_listening "$WPID" "$LOG" 120 || fail "the worker behind the gateway did not start"
	# what RuntimeDirectory=tcgateway gives the service under systemd
	in_ch install -d -m 0700 -o tcgateway -g tcgateway /run/tcgateway
	tcw_spawn "$CH/tmp/gw.log" chroot "$CH" setpriv --reuid=tcgateway --regid=tcgateway \
		--init-groups env -i PATH=/usr/bin:/bin tcgateway --config /etc/tcgateway/tcgateway.ini
	GPID=$TCW_PID
	tcw_wait_listening "$GPID" "$CH/tmp/gw.log" 120 || { tcw_kill "$WPID"; fail "tcgateway did not start"; }
	[ "$TCW_ENDPOINT" = http://127.0.0.1:1947 ] || fail "tcgateway listens on $TCW_ENDPOINT"
	[ "$(stat -c %u "/proc/$GPID")" = "$(in_ch id -u tcgateway)" ] || fail "tcgateway does not run as tcgateway"
	in_ch tcclient --gateway http://127.0.0.1:1947 --worker-name local \
		--file /usr/share/tcworker/test_work_orders.json >"$CH/tmp/gw.out" 2>"$CH/tmp/gw.err" ||
		{ cat "$CH/tmp/gw.err" "$CH/tmp/gw.log" >&2; tcw_kill "$WPID"; fail "tcclient --gateway"; }
	[ "$(grep -c '^Work order result : ' "$CH/tmp/gw.out")" -eq 9 ] || fail "gateway: $(cat "$CH/tmp/gw.out")"
	tcw_stop "$GPID" 60 || { tcw_kill "$WPID"; fail "tcgateway exit status $? at SIGTERM"; }
	tcw_stop "$WPID" 60 || fail "worker exit status $?"
	[ -s "$CH/var/lib/tcgateway/tcgateway.db" ] || fail "no tcgateway store in /var/lib/tcgateway"
	echo "test-deb: tcgateway as tcgateway on the configured 127.0.0.1:1947: 9 orders through it"
fi
EOS
}
run_daemon || die "running the installed daemon (above)"
keys_sum=$(sha256sum "$CH/var/lib/tcworker/worker.keys" | cut -d' ' -f1)

# 3. Upgrade over itself.
say "upgrade over itself (dpkg -i of the same packages)"
in_ch sh -c 'cd /tmp/debs && dpkg -i ./*.deb' >"$CACHE/upgrade.log" 2>&1 ||
	{ tail -n 40 "$CACHE/upgrade.log" >&2; die "dpkg -i over the installed packages"; }
[ "$(sha256sum "$CH/var/lib/tcworker/worker.keys" | cut -d' ' -f1)" = "$keys_sum" ] ||
	die "the upgrade changed the worker keys"
[ "$(in_ch stat -c '%a %U' /var/lib/tcworker)" = "700 tcworker" ] || die "upgrade: /var/lib/tcworker"
in_ch tcworker --version | head -n 1 | grep -qx 'tcworker 0\.1\.0' || die "tcworker after the upgrade"

# 4. Purge.
say "purge"
names=()
for p in "${PKGS[@]}"; do
	names+=("$(dpkg-deb -f "$DEBS/$p" Package)")
done
in_ch apt-get purge -y -q "${names[@]}" >"$CACHE/purge.log" 2>&1 ||
	{ tail -n 40 "$CACHE/purge.log" >&2; die "apt-get purge"; }
in_ch apt-get autoremove --purge -y -q >>"$CACHE/purge.log" 2>&1 || die "apt-get autoremove"
# Dependencies apt keeps because a base package recommends them (apt ->
# ca-certificates -> openssl) are not ours: purge them too, to compare
# with the chroot as it was.
in_ch dpkg-query -W -f='${Package}\n' | sort >"$CACHE/packages-after.txt"
mapfile -t extra < <(comm -13 "$CACHE/packages-before.txt" "$CACHE/packages-after.txt")
if [ "${#extra[@]}" -gt 0 ]; then
	say "purging what the installation pulled in and apt kept: ${extra[*]}"
	in_ch apt-get purge -y -q "${extra[@]}" >>"$CACHE/purge.log" 2>&1 || die "apt-get purge ${extra[*]}"
fi
snapshot >"$CACHE/after.txt"
# Debian keeps: the system user and group (passwd, group, shadow, gshadow and
# their backups), dpkg's database, apt's auto-installed marks, debconf's
# cache, the linker cache.
keep='^[a-z] [0-7]+ [a-z]+ [a-z]+ \./(etc/(passwd|group|shadow|gshadow|subuid|subgid)-?|etc/ld\.so\.cache|var/lib/dpkg(/.*)?|var/lib/apt/extended_states|var/cache/debconf(/.*)?)$'
diff "$CACHE/before.txt" "$CACHE/after.txt" | grep '^[<>]' | sed 's/^[<>] //' |
	grep -Ev "$keep" >"$CACHE/left.txt" || true
if [ -s "$CACHE/left.txt" ]; then
	cat "$CACHE/left.txt" >&2
	die "purge left or changed the files above"
fi
in_ch getent passwd tcworker >/dev/null || die "the purge removed the system user (Debian keeps it)"
[ ! -e "$CH/var/lib/tcworker" ] || die "/var/lib/tcworker left after purge"
[ ! -e "$CH/etc/tcworker" ] || die "/etc/tcworker left after purge"
say "ok: install, daemon as tcworker, upgrade over itself, purge (only the tcworker user and dpkg's records remain)"
