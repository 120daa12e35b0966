#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run.sh - fuzzes one libFuzzer target for SECONDS with JOBS processes
# (libFuzzer fork mode when JOBS > 1), starting from the seed corpus in
# tests/fuzz/corpus/<target>. New inputs accumulate in WORKDIR/corpus/<target>
# (kept between runs), crash inputs go to WORKDIR/artifacts/.
# Usage: run.sh TARGET_BINARY SECONDS JOBS WORKDIR
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: $0 TARGET_BINARY SECONDS JOBS WORKDIR" >&2; exit 2; }
bin=$1 seconds=$2 jobs=$3 work=$4
name=$(basename "$bin")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ -x "$bin" ] || { echo "run.sh: $bin is not built" >&2; exit 2; }
mkdir -p "$work/corpus/$name" "$work/artifacts"
args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=60
      -artifact_prefix="$work/artifacts/$name-")
[ -f "$here/$name.dict" ] && args+=(-dict="$here/$name.dict")
[ "$jobs" -gt 1 ] && args+=(-fork="$jobs")
# FUZZ_SEED fixes the mutation seed (make test uses it so CI explores the same way).
if [ -n "${FUZZ_SEED:-}" ]; then args+=(-seed="$FUZZ_SEED"); fi
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "run.sh: fuzzing $name for ${seconds}s with $jobs job(s)" >&2
exec "$bin" "${args[@]}" "$work/corpus/$name" "$here/corpus/$name"
