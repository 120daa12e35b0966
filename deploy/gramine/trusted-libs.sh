#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# trusted-libs.sh - the shared libraries a binary loads, from `ldd`, split the
# way the Gramine manifest needs them.
#
# Usage: trusted-libs.sh host|glibc FILE...
#   host   absolute paths of the host libraries (one per line, sorted): every
#          library ldd resolves except glibc's, which Gramine brings itself
#   glibc  file names of the glibc libraries the files load (sorted); inside
#          the enclave they come from Gramine's runtime directory
# FILEs that are not ELF files are skipped. Environment: DESTDIR, a staging
# root the files under it are read from (the library paths are the host's).
# Fails when ldd fails or cannot resolve a library.
set -euo pipefail

# The libraries Gramine's patched glibc provides (its runtime/glibc folder).
declare -A GLIBC=()
for n in ld-linux-x86-64.so.2 libanl.so.1 libc.so.6 libdl.so.2 libm.so.6 libmvec.so.1 \
	libnsl.so.1 libnss_compat.so.2 libnss_db.so.2 libnss_dns.so.2 libnss_files.so.2 \
	libpthread.so.0 libresolv.so.2 librt.so.1 libthread_db.so.1 libutil.so.1; do
	GLIBC[$n]=1
done

usage() {
	echo "usage: $0 host|glibc FILE..." >&2
	exit 2
}

[ $# -ge 2 ] || usage
mode=$1
shift
case "$mode" in
host | glibc) ;;
*) usage ;;
esac

paths=
for f in "$@"; do
	bin=${DESTDIR:-}$f
	[ -f "$bin" ] || bin=$f
	[ -f "$bin" ] || {
		echo "$0: $f: no such file" >&2
		exit 1
	}
	[ "$(head -c 4 "$bin" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
	out=$(LC_ALL=C ldd "$bin") || {
		echo "$0: ldd $bin failed" >&2
		exit 1
	}
	if grep -q 'not found' <<<"$out"; then
		echo "$0: ldd cannot resolve every library of $bin:" >&2
		grep 'not found' <<<"$out" >&2
		exit 1
	fi
	# ldd prints "name => /path (0x...)" or "/path (0x...)"; the vDSO has no path.
	paths+=$(awk '$2 == "=>" && $3 ~ /^\// { print $3; next }
		$1 ~ /^\// { print $1 }' <<<"$out")$'\n'
done

for p in $paths; do
	name=${p##*/}
	if [ -n "${GLIBC[$name]:-}" ]; then
		if [ "$mode" = glibc ]; then
			echo "$name"
		fi
	elif [ "$mode" = host ]; then
		echo "$p"
	fi
done | LC_ALL=C sort -u
