#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run.sh - the enclave tests (`make gramine-test`; `make test` runs them too):
# for each enclave variant (native plugins, Python, object detection) builds
# the static-plugin worker in its own build folder, installs it into a
# staging prefix, renders deploy/gramine's manifest with the test sealing
# key (SEAL_KEY=insecure-test) and runs tests/gramine/variant.sh under
# gramine-direct inside a private network namespace. Then the
# reproducible-MRENCLAVE test (repro.sh). Prints one "gramine:" line per
# variant.
#
# Usage: run.sh [--skip-ok | --check] [VARIANT...]
#   VARIANT     native, python or detect; default: all three, then repro.sh
#   --skip-ok   without Gramine, print why the tests are skipped and exit 0
#               (what `make test` does); otherwise that is exit status 2
#   --check     only look for Gramine (exit 0, or 2 with the reason)
# Environment: TCW_BUILD_DIR (default build/), the release tree; the work
# goes to TCW_BUILD_DIR/gramine/. TCW_GRAMINE_ROOT (default /opt/gramine),
# where Gramine is looked for when gramine-direct is not on PATH.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=${TCW_BUILD_DIR:-$SRC/build}
case "$BUILD" in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
OUT=$BUILD/gramine
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

skip_ok=0 check=0
case "${1:-}" in
--skip-ok) skip_ok=1 && shift ;;
--check) check=1 && shift ;;
esac
variants=("$@")
repro=1
if [ ${#variants[@]} -eq 0 ]; then
	variants=(native python detect)
else
	repro=0 # a chosen variant: no reproducibility test
fi

# ---- Gramine: on PATH, or under /opt/gramine ----------------------------------
skip() {
	echo "gramine: enclave tests skipped: $*"
	[ "$skip_ok" = 1 ] && exit 0
	exit 2
}
ROOT=${TCW_GRAMINE_ROOT:-/opt/gramine}
if ! command -v gramine-direct >/dev/null 2>&1; then
	if [ -x "$ROOT/bin/gramine-direct" ]; then
		PATH=$ROOT/bin:$PATH
		for d in "$ROOT"/lib/python3*/site-packages; do
			PYTHONPATH=$d${PYTHONPATH:+:$PYTHONPATH}
			break
		done
		export PATH PYTHONPATH
	else
		skip "Gramine not found (no gramine-direct on PATH or in $ROOT/bin;" \
			"docs/sgx.md says how to install it)"
	fi
fi
for tool in gramine-manifest gramine-sgx-sign gramine-sgx-sigstruct-view; do
	command -v "$tool" >/dev/null 2>&1 || skip "Gramine found without $tool"
done
gramine-manifest --help >/dev/null 2>&1 ||
	skip "gramine-manifest does not run (its Python package graminelibos is not on PYTHONPATH)"
# A private network namespace: as root, or as a user with user namespaces.
if unshare -n true 2>/dev/null; then
	NETNS=(unshare -n)
elif unshare -rn true 2>/dev/null; then
	NETNS=(unshare -rn)
else
	skip "neither 'unshare -n' nor 'unshare -rn' works here (a private network namespace" \
		"keeps the enclave's tcp://*:7777 off the real network)"
fi
command -v ip >/dev/null || skip "no 'ip' command (iproute2) to bring up the loopback"
[ "$check" = 0 ] || exit 0

fail() {
	echo "FAIL [gramine]: $*" >&2
	exit 1
}

have_opencv() {
	[ -f "$BUILD/CMakeCache.txt" ] && grep -q '^TCW_HAVE_OPENCV:INTERNAL=ON' "$BUILD/CMakeCache.txt"
}

mkdir -p "$OUT"
rm -f "$OUT"/build-*.done # each run builds the current sources once
start=$(date +%s)
results=()
for v in "${variants[@]}"; do
	base="-DCMAKE_BUILD_TYPE=Release -DTCW_STATIC_PLUGINS=ON -DTCW_BUILD_TESTS=OFF"
	mkflag=
	# The Python enclave's worker does not link libpython (the Python host
	# is the pyhost.so module); the native enclave's is built without
	# Python, which lets it link libcrypto statically (cmake/deploy.cmake,
	# TCW_STATIC_LIBS: fewer bytes for Gramine to hash at start).
	case "$v" in
	native) key=native ;;
	python) key=core mkflag=PYTHON=1 ;;
	detect)
		if ! have_opencv || [ ! -f "$SRC/.cache/images/astronaut.png" ]; then
			results+=("gramine: detect: skipped: OpenCV or the sample images are missing (make deps-detect)")
			continue
		fi
		key=detect mkflag=DETECT=1
		;;
	*) fail "unknown variant '$v' (native, python or detect)" ;;
	esac
	case "$key" in
	native) args="$base -DTCW_PYTHON=OFF -DTCW_OPENCV=OFF" ;;
	core) args="$base -DTCW_PYTHON=ON -DTCW_PYHOST_LINKED=OFF -DTCW_OPENCV=OFF" ;;
	detect) args="$base -DTCW_PYTHON=OFF -DTCW_OPENCV=ON" ;;
	esac
	dir=$OUT/$v
	build=$OUT/build-$key
	stage=$OUT/stage-$key
	render=$dir/render
	data=$dir/data
	mkdir -p "$dir"
	if [ ! -f "$build.done" ]; then
		echo "[gramine $v] building and installing into $stage"
		# shellcheck disable=SC2086
		{ cmake -S "$SRC" -B "$build" $args -DCMAKE_INSTALL_PREFIX="$stage" &&
			nice -n 5 cmake --build "$build" -j "$JOBS" &&
			rm -rf "$stage" && cmake --install "$build"; } >"$build.log" 2>&1 ||
			{ tail -n 40 "$build.log" >&2; fail "$v: build or install failed ($build.log)"; }
		if [ "$key" = core ] && ! grep -q 'Python workloads: yes' "$build.log"; then
			fail "the build has no embedded Python (make deps installs python3-dev)"
		fi
		touch "$build.done"
	fi
	rm -rf "$render" "$data"
	mkdir -p "$render"
	mkdir -m 0700 "$data"
	make -s -C "$render" -f "$SRC/deploy/gramine/Makefile" PREFIX="$stage" DATA_DIR="$data" \
		SEAL_KEY=insecure-test $mkflag >"$dir.render.log" 2>&1 ||
		{ cat "$dir.render.log" >&2; fail "$v: rendering the manifest failed"; }
	"${NETNS[@]}" bash "$HERE/variant.sh" "$v" "$render" "$stage" "$data" \
		"$build/bin/tcclient" "$dir/result.txt" || fail "$v: enclave checks failed"
	results+=("$(cat "$dir/result.txt")")
	if [ "$v" = python ]; then
		rm -rf "$dir/folder"
		mkdir -p "$dir/folder"
		"${NETNS[@]}" bash "$HERE/wlfolder.sh" "$stage" "$build/bin/tcclient" "$dir/folder" ||
			fail "python: a workloads folder of the user's"
	fi
done

if [ "$repro" = 1 ]; then
	bash "$HERE/repro.sh" "$OUT/repro" || fail "reproducible MRENCLAVE"
	results+=("$(cat "$OUT/repro/result.txt")")
fi

printf '%s\n' "${results[@]}"
echo "gramine: all functional checks passed in $(($(date +%s) - start)) s"
