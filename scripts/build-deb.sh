#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# build-deb.sh - what `make deb` runs: copies the source tree (the files git
# knows, committed or not) to BUILD_DIR/deb/src/tcworker-<version>, builds the
# binary packages there with dpkg-buildpackage (debian/, debhelper's cmake
# build system, tests off: `make test` runs them), moves the .deb files to
# BUILD_DIR/deb/ and runs lintian on them.
# Usage: scripts/build-deb.sh [BUILD_DIR]        (default build)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
build_arg=${1:-build}
mkdir -p "$build_arg"
OUT=$(cd "$build_arg" && pwd -P)/deb
cd "$ROOT"
for t in dpkg-buildpackage dh lintian; do
	command -v "$t" >/dev/null || { echo "deb: $t missing (make deps)" >&2; exit 2; }
done
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
SRC="$OUT/src/tcworker-$version"

echo "deb: copying the source tree to $SRC" >&2
rm -rf "$OUT"
mkdir -p "$SRC"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar -C "$ROOT" --null -T - -cf - | tar -C "$SRC" -xf -
else
	tar -C "$ROOT" --exclude=./build --exclude='./build-*' --exclude=./.cache \
		--exclude=./output -cf - . | tar -C "$SRC" -xf -
fi

# The tcgateway package only when the tree has the gateway (build profile).
profiles=()
[ -f "$SRC/gateway/CMakeLists.txt" ] || profiles=(-Ppkg.tcworker.nogateway)
echo "deb: dpkg-buildpackage -us -uc -b ${profiles[*]} (log: $OUT/build.log)" >&2
if ! (cd "$SRC" && DEB_BUILD_OPTIONS="nocheck noddebs parallel=${JOBS:-2}" \
	dpkg-buildpackage -us -uc -b "${profiles[@]}") >"$OUT/build.log" 2>&1; then
	tail -n 60 "$OUT/build.log" >&2
	echo "deb: dpkg-buildpackage failed (full log: $OUT/build.log)" >&2
	exit 1
fi
echo "deb: lintian" >&2
lintian --info --display-info --pedantic "$OUT"/src/*.changes 2>&1 |
	grep -v '^running with root privileges' >"$OUT/lintian.txt" || true
mv "$OUT"/src/*.deb "$OUT"/
cat "$OUT/lintian.txt"
if grep -q '^E: ' "$OUT/lintian.txt"; then
	echo "deb: lintian reports errors" >&2
	exit 1
fi
echo "deb: packages in $OUT:" >&2
(cd "$OUT" && ls -1 ./*.deb) >&2
