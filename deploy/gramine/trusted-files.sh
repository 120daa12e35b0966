#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# trusted-files.sh - the files an enclave variant opens besides the shared
# libraries (trusted-libs.sh adds those), one absolute path per line, sorted.
#
# Usage: trusted-files.sh VARIANT PREFIX WORKLOADS CASCADE_DIR [CASCADE...]
#   VARIANT      native, python or detect
#   PREFIX       install prefix of the worker
#   WORKLOADS    the workloads file the trusted command line names
#   CASCADE_DIR  base folder of the cascade files (detect)
#   CASCADE      cascade files relative to CASCADE_DIR (detect)
# Environment: DESTDIR, the staging root the files are read from (paths are
# printed without it).
#
# native  the worker and WORKLOADS.
# python  the worker; the standard library zip and the lib-dynload modules
#         listed in PREFIX/lib/tcworker/python-dynload.txt; the Python host
#         module and libpython when the worker loads them with dlopen; the
#         bundled avalon_worker package; WORKLOADS and every regular file
#         under its folder (not in __pycache__, not hidden), at most
#         MAX_FILES files and MAX_BYTES bytes.
# detect  the worker, WORKLOADS and the cascades.
set -euo pipefail

MAX_FILES=200
MAX_BYTES=$((20 * 1024 * 1024))
PY_VERSION=3.11

die() {
	echo "trusted-files.sh: $*" >&2
	exit 1
}

[ $# -ge 4 ] || die "usage: $0 native|python|detect PREFIX WORKLOADS CASCADE_DIR [CASCADE...]"
variant=$1
prefix=$2
workloads=$3
cascade_dir=$4
shift 4
dest=${DESTDIR:-}

# Prints path after checking that it exists (under DESTDIR for the prefix).
need() {
	local real=$1
	case "$1" in "$prefix"/*) real=$dest$1 ;; esac
	[ -f "$real" ] || die "$1: no such file${dest:+ (looked at $real)}"
	printf '%s\n' "$1"
}

# Regular files under folder $1 (recursively, not hidden, not __pycache__),
# printed as paths under $2.
tree() {
	local real=$1 shown=$2
	[ -d "$real" ] || die "$shown: no such folder"
	(cd "$real" && find . \( -name '.?*' -o -name __pycache__ \) -prune -o -type f -print) |
		sed "s|^\./|$shown/|"
}

list() {
	need "$prefix/bin/tcworker"
	case "$variant" in
	native)
		need "$workloads"
		;;
	detect)
		need "$workloads"
		for c in "$@"; do
			need "$cascade_dir/$c"
		done
		;;
	python)
		local libdir=$prefix/lib/tcworker dyn wdir real n bytes
		need "$libdir/python${PY_VERSION/./}.zip"
		dyn=$dest$libdir/python-dynload.txt
		[ -f "$dyn" ] || die "$libdir/python-dynload.txt: no such file (install a TCW_PYTHON=ON build)"
		while read -r m; do
			[ -n "$m" ] && need "/usr/lib/python$PY_VERSION/lib-dynload/$m"
		done <"$dyn"
		# The Python host module the worker loads with dlopen, and the
		# libpython it links: invisible to ldd on the worker itself.
		if [ -f "$dest$libdir/pyhost.so" ]; then
			need "$libdir/pyhost.so"
			LC_ALL=C ldd "$dest$libdir/pyhost.so" | awk '$1 ~ /^libpython/ && $3 ~ /^\// { print $3 }'
		fi
		tree "$dest$prefix/share/tcworker/python/avalon_worker" \
			"$prefix/share/tcworker/python/avalon_worker"
		need "$workloads"
		wdir=${workloads%/*}
		real=$wdir
		case "$wdir" in "$prefix" | "$prefix"/*) real=$dest$wdir ;; esac
		n=$(tree "$real" "$wdir" | wc -l)
		bytes=$( (cd "$real" && find . \( -name '.?*' -o -name __pycache__ \) -prune -o -type f \
			-printf '%s\n') | awk '{ s += $1 } END { print s + 0 }')
		if [ "$n" -gt "$MAX_FILES" ] || [ "$bytes" -gt "$MAX_BYTES" ]; then
			die "WORKLOADS folder $wdir holds $n files ($bytes bytes); at most $MAX_FILES files" \
				"and $((MAX_BYTES / 1048576)) MiB become trusted files: put the workloads file" \
				"and its Python modules in a folder of their own"
		fi
		tree "$real" "$wdir"
		;;
	*) die "unknown variant '$variant' (native, python or detect)" ;;
	esac
}

list "$@" | LC_ALL=C sort -u
