#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run-all.sh - `make fuzz`: fuzzes every target of a TCW_FUZZ build in turn,
# SECONDS each, with JOBS processes (run.sh); stops at the first crash.
# Usage: run-all.sh FUZZ_BUILD_DIR SECONDS JOBS
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 FUZZ_BUILD_DIR SECONDS JOBS" >&2; exit 2; }
dir=$1 seconds=$2 jobs=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
list="$dir/tests/fuzz/targets.txt"
[ -f "$list" ] || { echo "run-all.sh: $list missing (configure with -DTCW_FUZZ=ON)" >&2; exit 2; }
status=0
while read -r t; do
	[ -n "$t" ] || continue
	if ! bash "$here/run.sh" "$dir/bin/$t" "$seconds" "$jobs" "$dir/fuzz"; then
		echo "run-all.sh: $t failed; crash inputs in $dir/fuzz/artifacts/" >&2
		status=1
		break
	fi
done <"$list"
exit "$status"
