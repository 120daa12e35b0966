#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# repro.sh - the measurement is reproducible: the current commit, cloned into
# two folders of different names and built in build folders of different
# names (TCW_STATIC_PLUGINS, the Python host as the pyhost.so module),
# installed to one prefix,
# rendered in two folders and signed with a throw-away key, gives the same
# MRENCLAVE, for the native and the PYTHON=1 manifest; a worker binary
# changed by one byte gives another. Also: SGX=1 with SEAL_KEY=insecure-test
# is refused. Gramine's tools must be on PATH (run.sh sees to it).
#
# Usage: repro.sh OUT     (OUT/result.txt: the "gramine:" summary line)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
OUT=$1
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
MK=$SRC/deploy/gramine/Makefile

fail() {
	echo "FAIL [gramine repro]: $*" >&2
	exit 1
}
note() {
	echo "[gramine repro] $*"
}

commit=$(git -C "$SRC" rev-parse HEAD 2>/dev/null) || fail "$SRC is not a git checkout"
if [ -n "$(git -C "$SRC" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	note "note: uncommitted changes in $SRC are not part of this test (it builds $commit)"
fi
rm -rf "$OUT"
mkdir -p "$OUT"
PREFIX=$OUT/prefix
KEY=$OUT/throwaway-key.pem
openssl genrsa -3 -out "$KEY" 3072 2>/dev/null || fail "openssl genrsa"

# mrenclave RENDER_DIR [make settings]: renders and signs there, prints MRENCLAVE.
mrenclave() {
	local dir=$1
	shift
	mkdir -p "$dir"
	make -s -C "$dir" -f "$MK" PREFIX="$PREFIX" SGX=1 SGX_SIGNING_KEY="$KEY" "$@" \
		>"$dir/make.log" 2>&1 || { cat "$dir/make.log" >&2; fail "render and sign in $dir"; }
	gramine-sgx-sigstruct-view "$dir/tcworker.sig" >"$dir/sigstruct.txt" 2>&1 ||
		fail "gramine-sgx-sigstruct-view in $dir"
	awk '/mr_enclave/ { print $NF; exit }' "$dir/sigstruct.txt"
}

# build NAME SRC_FOLDER BUILD_FOLDER: clone, build, install into PREFIX.
build() {
	local log=$OUT/$1.log
	if ! { git clone -q --no-checkout "$SRC" "$2" && git -C "$2" checkout -q "$commit"; }; then
		fail "cannot clone $commit into $2"
	fi
	note "building $commit in $2 (build folder $3)"
	{ cmake -S "$2" -B "$3" -DCMAKE_BUILD_TYPE=Release -DTCW_STATIC_PLUGINS=ON -DTCW_PYTHON=ON \
		-DTCW_PYHOST_LINKED=OFF -DTCW_OPENCV=OFF -DTCW_BUILD_TESTS=OFF \
		-DCMAKE_INSTALL_PREFIX="$PREFIX" &&
		nice -n 5 cmake --build "$3" -j "$JOBS" &&
		rm -rf "$PREFIX" && cmake --install "$3"; } >"$log" 2>&1 ||
		{ tail -n 30 "$log" >&2; fail "build in $2"; }
	grep -q 'Python workloads: yes' "$log" || fail "the build has no embedded Python"
}

build one "$OUT/a/checkout" "$OUT/a/checkout/build"
a_native=$(mrenclave "$OUT/a/render-native")
a_python=$(mrenclave "$OUT/a/render-python" PYTHON=1)
sha_a=$(sha256sum "$PREFIX/bin/tcworker" | cut -c1-64)

build two "$OUT/b/another-folder/src" "$OUT/b/elsewhere-build"
b_native=$(mrenclave "$OUT/b/render/native/here")
b_python=$(mrenclave "$OUT/b/render/python/there" PYTHON=1)
sha_b=$(sha256sum "$PREFIX/bin/tcworker" | cut -c1-64)

note "worker sha256 $sha_a / $sha_b"
note "native MRENCLAVE $a_native / $b_native"
note "python MRENCLAVE $a_python / $b_python"
[[ "$a_native" =~ ^[0-9a-f]{64}$ && "$a_python" =~ ^[0-9a-f]{64}$ ]] ||
	fail "no MRENCLAVE in the sigstruct output ($OUT/a/render-native/sigstruct.txt)"
[ "$sha_a" = "$sha_b" ] || fail "the two checkouts built different worker binaries"
cmp -s "$OUT/a/render-python/tcworker.manifest" "$OUT/b/render/python/there/tcworker.manifest" ||
	fail "the two python manifests differ"
grep -q "file:$PREFIX/lib/tcworker/pyhost.so" "$OUT/a/render-python/tcworker.manifest" ||
	fail "pyhost.so is not a trusted file of the python manifest"
grep -q 'file:[^"]*/libpython3[.0-9]*so[.0-9]*"' "$OUT/a/render-python/tcworker.manifest" ||
	fail "libpython is not a trusted file of the python manifest"
if grep -q -e pyhost.so -e libpython "$OUT/a/render-native/tcworker.manifest"; then
	fail "the native manifest trusts the Python host"
fi
[ "$a_native" = "$b_native" ] || fail "native MRENCLAVE differs between the checkouts"
[ "$a_python" = "$b_python" ] || fail "python MRENCLAVE differs between the checkouts"
[ "$a_native" != "$a_python" ] || fail "native and python MRENCLAVE are equal"

printf '\0' >>"$PREFIX/bin/tcworker"
c_native=$(mrenclave "$OUT/c/render-native")
[ "$c_native" != "$a_native" ] || fail "a changed worker binary kept the MRENCLAVE"

rc=0
make -s -C "$OUT/c" -f "$MK" PREFIX="$PREFIX" SGX=1 SEAL_KEY=insecure-test \
	>"$OUT/c/refused.log" 2>&1 || rc=$?
if [ "$rc" -eq 0 ] ||
	! grep -q 'SEAL_KEY=insecure-test is for gramine-direct tests only' "$OUT/c/refused.log"; then
	fail "SGX=1 SEAL_KEY=insecure-test was not refused"
fi

echo "gramine: reproducible MRENCLAVE: native ${a_native:0:16}... and python" \
	"${a_python:0:16}... identical from two checkouts of ${commit:0:12} and two render folders;" \
	"a one-byte change of the worker changes it; SGX=1 with the test key refused" >"$OUT/result.txt"
cat "$OUT/result.txt"
