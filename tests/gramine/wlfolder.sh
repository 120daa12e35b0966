#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# wlfolder.sh - the Python enclave serving a user's own workloads folder:
# deploy/gramine/Makefile run as `make -f <checkout>/deploy/gramine/Makefile
# ... PYTHON=1 WORKLOADS=<folder>/workloads.json` in an empty folder trusts
# that folder's files (not __pycache__, not hidden ones), refuses a folder of
# more than 200 files, and the enclave serves the reference's Python
# workloads from there unchanged and keeps its identity across a restart.
# Called by run.sh inside a private network namespace.
#
# Usage: wlfolder.sh PREFIX TCCLIENT WORK
#   PREFIX    staging prefix of the installed Python-enabled worker
#   TCCLIENT  the client
#   WORK      an empty folder to work in
set -euo pipefail

PREFIX=$1
TCCLIENT=$2
WORK=$3
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
URL=tcp://127.0.0.1:7777

fail() {
	echo "FAIL [gramine python folder]: $*" >&2
	exit 1
}

ip link set lo up
WL=$WORK/my-workloads
RENDER=$WORK/empty-render
DATA=$WORK/sealed
mkdir -p "$WL/reference/__pycache__" "$WL/.git" "$RENDER"
mkdir -m 0700 "$DATA"
# The reference's sample workloads, as a user would copy them.
cp "$SRC/python/sample_workloads/hello.py" "$SRC/python/sample_workloads/fibonacci.py" \
	"$WL/reference/"
cat >"$WL/workloads.json" <<'EOF'
{
  "python-hello": {"module": "reference.hello", "class": "HelloWorkLoad"},
  "python-fib": {"module": "reference.fibonacci", "class": "FibonacciWorkLoad"}
}
EOF
echo stale >"$WL/reference/__pycache__/hello.cpython-311.pyc"
echo secret >"$WL/.git/config"
echo hidden >"$WL/.env"

mk() {
	(cd "$1" && make -s -f "$SRC/deploy/gramine/Makefile" PREFIX="$PREFIX" DATA_DIR="$DATA" \
		SEAL_KEY=insecure-test PYTHON=1 WORKLOADS="$2" "${@:3}")
}
mk "$RENDER" "$WL/workloads.json" >"$WORK/render.log" 2>&1 ||
	{ cat "$WORK/render.log" >&2; fail "render"; }
mk "$RENDER" "$WL/workloads.json" print-files >"$WORK/files.txt"
for f in workloads.json reference/hello.py reference/fibonacci.py; do
	grep -qx "$WL/$f" "$WORK/files.txt" || fail "$WL/$f is not a trusted file"
done
if grep -q -e __pycache__ -e '/\.git/' -e '/\.env$' "$WORK/files.txt"; then
	fail "a __pycache__ or hidden file became a trusted file"
fi

run() {
	local log=$WORK/run$1.log pid rc=0 i
	gramine-direct tcworker >"$log" 2>&1 &
	pid=$!
	for ((i = 0; i < 1200; i++)); do
		grep -qs 'listening on' "$log" && break
		kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "the enclave exited"; }
		sleep 0.05
	done
	"$TCCLIENT" --connect "$URL" --timeout 60000 --file "$PREFIX/share/tcworker/test_work_orders.json" \
		>"$WORK/orders$1.txt" 2>&1 || { cat "$WORK/orders$1.txt" >&2; fail "sample orders"; }
	[ "$(grep -c '^Work order result verification success$' "$WORK/orders$1.txt")" -eq 9 ] ||
		fail "not every sample order verified"
	grep -q "module reference.hello" "$log" || fail "the workloads did not come from $WL"
	/usr/bin/python3 "$HERE/enclave.py" signup "$URL" "$WORK/signup$1.json"
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || fail "exit status $rc after SIGTERM"
}
(cd "$RENDER" && run 1 && run 2)
cmp -s "$WORK/signup1.json" "$WORK/signup2.json" || fail "the identity changed across a restart"

# More than 200 files under the folder: refused with the reason.
for i in $(seq 1 200); do
	: >"$WL/reference/data$i.txt"
done
mkdir "$WORK/render-big"
rc=0
mk "$WORK/render-big" "$WL/workloads.json" >"$WORK/big.log" 2>&1 || rc=$?
if [ "$rc" -eq 0 ] || ! grep -q 'holds 203 files' "$WORK/big.log"; then
	cat "$WORK/big.log" >&2
	fail "a folder of 203 files was not refused"
fi
echo "[gramine python] WORKLOADS=<folder>/workloads.json from an empty render folder:" \
	"the reference's workloads served, identity kept; __pycache__ and hidden files left out;" \
	"a folder of 203 files refused"
