#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_shellcheck.sh - every shell script in the repository (*.sh, and files
# starting with a sh or bash #! line) passes shellcheck with the settings in
# .shellcheckrc. Build directories and .git are skipped.
set -euo pipefail

if [ "${TCW_SANITIZE:-0}" = 1 ]; then
	echo "test_shellcheck: skipped in the sanitizer build (the release build runs it)"
	exit 0
fi
: "${TCW_SOURCE_DIR:?TCW_SOURCE_DIR must be set}"
command -v shellcheck >/dev/null || {
	echo "FAIL [test_shellcheck]: shellcheck is not installed (make deps)" >&2
	exit 1
}
cd "$TCW_SOURCE_DIR"

scripts=()
while IFS= read -r -d '' f; do
	case "$f" in
	*.sh) scripts+=("$f") ;;
	*)
		if head -n 1 "$f" 2>/dev/null | grep -Eq '^#!\s*(/usr)?/bin/(env\s+)?(ba)?sh\b'; then
			scripts+=("$f")
		fi
		;;
	esac
done < <(find . \( -name .git -o -name 'build' -o -name 'build-*' -o -name output \
	-o -name .cache -o -name node_modules \) -prune -o -type f -print0)
[ "${#scripts[@]}" -ge 10 ] || {
	echo "FAIL [test_shellcheck]: found only ${#scripts[@]} scripts" >&2
	exit 1
}

# The linter must catch a planted mistake, or the run below proves nothing.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tcw-shellcheck.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
printf '#!/usr/bin/env bash\nrm -rf %s/*\n' "\$1" >"$tmp/bad.sh"
if shellcheck "$tmp/bad.sh" >/dev/null 2>&1; then
	echo "FAIL [test_shellcheck]: shellcheck accepted an unquoted \$1" >&2
	exit 1
fi

if ! shellcheck "${scripts[@]}" >"$tmp/report.txt" 2>&1; then
	cat "$tmp/report.txt" >&2
	echo "FAIL [test_shellcheck]: the scripts above need fixing" >&2
	exit 1
fi
echo "[test_shellcheck] ${#scripts[@]} scripts pass shellcheck $(shellcheck --version | sed -n 's/^version: //p')"
