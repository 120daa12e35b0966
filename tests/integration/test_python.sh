#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_python.sh - Python (module/class) workloads in the embedded CPython
# host: the execute() contract, every failure path, the module search path,
# isolation, a reference-style workload package next to its workloads.json,
# Python and native workloads under concurrent clients, make demo-python's
# script. In a build without Python: the load-time refusal only.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd -P)
ORDERS="$TCW_SOURCE_DIR/tests/test_work_orders.json"
PYCLIENT=("$PYTHON" -B "$HERE/pyhost_client.py")
WL_ERROR="Work order execution failed: 2 Error processing work load"

run_worker_fg --version
[ "$RC" -eq 0 ] || fail "--version: exit status $RC"
if grep -qx 'python: no' "$OUT"; then
	# ---- a build without python3-embed refuses module/class entries ----
	echo '{"python-hello": {"module": "sample_workloads.hello", "class": "HelloWorkLoad"}}' \
		>"$TEST_TMP/py.json"
	run_worker_fg --workload "$TEST_TMP/py.json" --bind 'tcp://127.0.0.1:*'
	[ "$RC" -eq 2 ] || fail "module/class entry without Python: exit status $RC, expected 2"
	expect_grep "$ERR" 'entry "python-hello": Python \(module/class\) workloads need a tcworker built with Python support' \
		"load-time message without Python"
	note "built without Python: module/class entries refused at load time; ok"
	exit 0
fi
# The default build loads the Python host module (pyhost.so, which links
# libpython) with dlopen; a TCW_PYHOST_LINKED build has it linked in.
MODULE=""
if grep -q '^python: yes (3\.[0-9]*, linked in)$' "$OUT"; then
	note "Python host linked into tcworker"
else
	expect_grep "$OUT" '^python: yes \(3\.[0-9]+, module /.*/pyhost\.so\)$' "--version python line"
	MODULE=$(sed -n 's/^python: yes (3\.[0-9]*, module \(.*\))$/\1/p' "$OUT")
	[ -f "$MODULE" ] || fail "--version names a module that does not exist: $MODULE"
	[ "$(realpath "$(dirname "$MODULE")")" = "$(realpath "$TCW_BUILD_DIR/lib/tcworker")" ] ||
		fail "module $MODULE is not in the build tree's lib/tcworker"
	# ldd's output captured first: with pipefail, grep -q closing the pipe
	# early can fail the pipeline (SIGPIPE) under load
	deps=$(ldd "$TCWORKER")
	! grep -q libpython <<<"$deps" || fail "tcworker links libpython: $(grep libpython <<<"$deps")"
	deps=$(ldd "$MODULE")
	grep -q 'libpython3\.[0-9]*\.so' <<<"$deps" || fail "$MODULE does not link libpython"
fi

# Test workloads copied to a private place: the worker must not write
# __pycache__ anywhere, which is checked on these copies.
PW="$TEST_TMP/pw"
cp -r "$TCW_SOURCE_DIR/tests/python_workloads" "$PW"
SO="$TCW_BUILD_DIR/workloads"
PKG=$(realpath "$TCW_SOURCE_DIR/python")
touch "$TEST_TMP/start-marker" # no bytecode may appear in $PKG after this

# Module search order probes: tcw_probe_a exists in all three places,
# _b in --python-path and $PYTHONPATH, _c only in $PYTHONPATH.
WLDIR="$TEST_TMP/wl"
PPDIR="$TEST_TMP/pp"
ENVDIR="$TEST_TMP/envpp"
mkdir -p "$WLDIR" "$PPDIR" "$ENVDIR"
for d in "$WLDIR:a" "$PPDIR:a b" "$ENVDIR:a b c"; do
	for p in ${d#*:}; do
		echo "WHERE = \"$(basename "${d%%:*}")\"" >"${d%%:*}/tcw_probe_$p.py"
	done
done

py() { printf '"%s": {"module": "%s", "class": "%s"},\n' "$1" "$2" "$3"; }
{
	echo '{'
	py python-hello sample_workloads.hello HelloWorkLoad
	py python-fib sample_workloads.fibonacci FibonacciWorkLoad
	for c in Echo Str List Inspect Count Env Slow; do
		py "py-$(echo "$c" | tr '[:upper:]' '[:lower:]')" contract "${c}WorkLoad"
	done
	py py-raise failures RaiseWorkLoad
	py py-false failures FalseWorkLoad
	py py-bare failures BareBytesWorkLoad
	py py-none failures NoneWorkLoad
	py py-triple failures TripleWorkLoad
	py py-int failures IntOutputWorkLoad
	py py-nonbool failures NonBoolWorkLoad
	py py-badlist failures BadListItemWorkLoad
	py py-toomany failures TooManyWorkLoad
	py py-surrogate failures SurrogateWorkLoad
	py py-ctor failures CtorRaisesWorkLoad
	py py-abstract failures MissingExecuteWorkLoad
	py py-nomodule tcw_no_such_module AnyWorkLoad
	py py-brokenimport broken_import UnreachableWorkLoad
	py py-noclass contract NoSuchWorkLoad
	echo "\"hello\": {\"library\": \"$SO/hello.so\"},"
	echo "\"fib\": {\"library\": \"$SO/fib.so\", \"config\": {\"max_n\": 100000}}"
	echo '}'
} >"$WLDIR/workloads.json"

# Runs one order; expects exit status $1 and exactly the stdout lines that
# follow the arguments on stdin.
# Usage: order STATUS WORKLOAD INPUT <<EOF ... EOF
order() {
	run_client --workload "$2" --in-data "$3"
	expect_rc "$1" "$2($3)"
	expect_file "$OUT" "$2($3)"
}

# ---- a native-only workloads file never starts the interpreter ----
# (nor loads the module or libpython)
start_worker --rsa-bits 2048
run_client --workload python-hello --in-data native
expect_rc 0 "native python-hello"
if [ -n "$MODULE" ]; then
	expect_grep "$WORKER_LOG" 'INFO python: module pyhost\.so, loaded at the first module/class entry$' \
		"start-up python line"
	grep -q 'libpython\|pyhost\.so' "/proc/$WORKER_PID/maps" &&
		fail "a native-only worker mapped libpython or pyhost.so"
else
	expect_grep "$WORKER_LOG" 'INFO python: yes \(3\.[0-9]+, linked in\)$' "start-up python line"
fi
expect_no_grep "$WORKER_LOG" 'python 3\.[0-9]+ started' "interpreter without Python entries"
stop_worker

# ---- the main worker: debug log, module path from every source ----
# A virtual environment's python3 first on PATH must not change the
# interpreter's prefix or site-packages.
VENV="$TEST_TMP/venv"
mkdir -p "$VENV/bin" "$VENV/lib/python3/site-packages" "$TEST_TMP/cwd"
ln -s "$PYTHON" "$VENV/bin/python3"
printf 'home = %s\ninclude-system-site-packages = false\n' "$(dirname "$PYTHON")" >"$VENV/pyvenv.cfg"
cd "$TEST_TMP/cwd"
PATH="$VENV/bin:$PATH" PYTHONPATH="$ENVDIR::" start_worker --rsa-bits 2048 --log-level debug \
	--workload "$WLDIR/workloads.json" --python-path "$PPDIR" --python-path "$PW"
[ "$(grep -c 'python 3\.[0-9]* started' "$WORKER_LOG")" -eq 1 ] ||
	fail "expected exactly one interpreter start line"
expect_grep "$WORKER_LOG" "python 3\.[0-9]+ started \(isolated\); module path: $WLDIR:$PPDIR:$PW:$ENVDIR:$PKG, then the standard library\$" \
	"module path order"
expect_grep "$WORKER_LOG" 'loaded 26 workloads from .* \(2 native, 24 python\)$' "entry count"
if [ -n "$MODULE" ]; then
	expect_grep "$WORKER_LOG" "INFO python: yes \\(3\\.[0-9]+, module $MODULE\\)\$" "module loaded line"
	grep -q libpython "/proc/$WORKER_PID/maps" || fail "libpython not mapped after loading the module"
fi

# The reference orders through the Python samples.
run_client --file "$ORDERS"
expect_rc 0 "reference orders through the Python samples"
expected_reference_lines | expect_file "$OUT" "reference orders (Python samples)"

# Success paths of the contract.
order 0 py-echo 'abc' <<<'Work order result : echo:abc'
order 0 py-str 'x' <<<'Work order result : str:x ü€'
printf 'Work order result : %s\n' 'first in' second third | order 0 py-list in
order 0 python-fib 100 <<<'Work order result : Fibonacci number at position 100 = 354224848179261915075'
order 0 py-count a <<<'Work order result : constructed=1 calls=1'
order 0 py-count b <<<'Work order result : constructed=1 calls=2'
expect_grep "$WORKER_LOG" 'python workload py-count: created a contract\.CountWorkLoad instance$' \
	"instance creation logged"
[ "$(grep -c 'created a contract\.CountWorkLoad instance' "$WORKER_LOG")" -eq 1 ] ||
	fail "the py-count instance was created more than once"

# The in_data_array dicts: sorted by index, every key, data as bytes.
RC=0
"${PYCLIENT[@]}" items "$ENDPOINT" >"$TEST_TMP/items.out" 2>"$TEST_TMP/items.err" || RC=$?
OUT="$TEST_TMP/items.out" ERR="$TEST_TMP/items.err" expect_rc 0 "pyhost_client items"
echo "items ok" | expect_file "$TEST_TMP/items.out" "pyhost_client items"

# Isolation and the search order, seen from inside the interpreter.
run_client --json --workload py-env --in-data x
expect_rc 0 "py-env"
PREFIX=$(pkg-config --variable=prefix python3-embed)
"$PYTHON" - "$OUT" "$WLDIR" "$PPDIR" "$PW" "$ENVDIR" "$PKG" "$PREFIX" <<'EOF' || fail "py-env check failed"
import json, re, sys
out, wl, pp, pw, env, pkg, prefix = sys.argv[1:]
got = json.loads(json.loads(open(out, encoding="utf-8").read())["result"])
assert re.fullmatch(re.escape(prefix) + r"/bin/python3\.\d+", got.pop("executable")), got
sites = got.pop("site_dirs")
assert sites and all(d.startswith(prefix + "/") for d in sites), sites
want = {"isolated": 1, "dont_write_bytecode": True, "user_site_enabled": False,
        "prefix": prefix, "path_head": [wl, pp, pw, env], "stdlib_after_head": True,
        "avalon_worker": pkg, "probe_a": "wl", "probe_b": "pp", "probe_c": "envpp",
        "dynload": True}
assert got == want, "\n got  %r\n want %r" % (got, want)
EOF

# Every failure: the requester gets exactly the workload error.
for wl in py-raise py-false py-bare py-none py-triple py-int py-nonbool py-badlist \
	py-toomany py-surrogate py-ctor py-abstract py-nomodule py-brokenimport py-noclass; do
	order 1 "$wl" 'secret-input' <<<"$WL_ERROR"
done
expect_no_grep "$OUT" 'reason that stays inside' "ok=False output leaked"
# What the log says about them (debug level: reason and traceback).
for want in \
	'workload py-raise failed: execute raised ValueError$' \
	'python workload py-raise: Traceback \(most recent call last\):$' \
	'python workload py-raise: ValueError: workload failure marker secret-input$' \
	'workload py-false failed: execute returned ok=False$' \
	'workload py-bare failed: execute returned bytes, expected \(ok, output\)$' \
	'workload py-none failed: execute returned NoneType, expected \(ok, output\)$' \
	'workload py-triple failed: execute returned tuple, expected \(ok, output\)$' \
	'workload py-int failed: output 0 is int, expected bytes or str$' \
	'workload py-nonbool failed: execute returned ok of type int, not bool$' \
	'workload py-badlist failed: output 1 is NoneType, expected bytes or str$' \
	'workload py-toomany failed: execute returned 17 outputs, at most 16$' \
	'workload py-surrogate failed: output 0: str not encodable as UTF-8$' \
	'WARN python workload py-ctor: cannot create failures\.CtorRaisesWorkLoad: RuntimeError$' \
	'python workload py-ctor: RuntimeError: constructor failure marker$' \
	'WARN python workload py-abstract: cannot create failures\.MissingExecuteWorkLoad: TypeError$' \
	'WARN python workload py-nomodule: cannot import tcw_no_such_module\.AnyWorkLoad: ModuleNotFoundError$' \
	'WARN python workload py-brokenimport: cannot import broken_import\.UnreachableWorkLoad: ModuleNotFoundError$' \
	"python workload py-brokenimport: ModuleNotFoundError: No module named 'tcw_test_dependency_that_does_not_exist'\$" \
	'WARN python workload py-noclass: cannot find contract\.NoSuchWorkLoad: AttributeError$'; do
	expect_grep "$WORKER_LOG" "$want" "log line /$want/"
done
expect_no_grep "$WORKER_LOG" 'reason that stays inside' "ok=False output in the log"
# Still serving, Python and native, after all of that.
expect_worker_alive "after the failures"
order 0 python-hello again <<<'Work order result : Hello again'
order 0 fib 10 <<<'Work order result : Fibonacci number at position 10 = 55'
stop_worker
for d in "$PW" "$WLDIR" "$PPDIR" "$ENVDIR"; do
	[ -z "$(find "$d" -name __pycache__ -o -name '*.pyc')" ] || fail "bytecode written under $d"
done

# ---- info level: no traceback, no exception text; python-path from INI ----
cat >"$TEST_TMP/py.ini" <<EOF
[tcworker]
bind = tcp://127.0.0.1:*
workload = $WLDIR/workloads.json
python-path = $TEST_TMP/nonexistent-but-replaced
EOF
start_worker --no-default-workload --config "$TEST_TMP/py.ini" --rsa-bits 2048 --python-path "$PW"
order 1 py-raise 'secret-input' <<<"$WL_ERROR"
order 0 py-echo 'ini' <<<'Work order result : echo:ini'
expect_no_grep "$WORKER_LOG" 'Traceback|secret-input|failure marker' "info-level log"
stop_worker
sed -i "s|^python-path = .*|python-path = $PPDIR\npython-path = $PW|" "$TEST_TMP/py.ini"
start_worker --no-default-workload --config "$TEST_TMP/py.ini" --rsa-bits 2048
expect_grep "$WORKER_LOG" "module path: $WLDIR:$PPDIR:$PW:$PKG, then" "INI python-path lines"
order 0 py-echo 'ini2' <<<'Work order result : echo:ini2'
stop_worker

# ---- start-up errors ----
run_worker_fg --bind 'tcp://127.0.0.1:*' --workload "$WLDIR/workloads.json" \
	--python-path "$TEST_TMP/no-such-dir"
[ "$RC" -eq 2 ] || fail "missing --python-path dir: exit status $RC, expected 2"
expect_grep "$ERR" "--python-path $TEST_TMP/no-such-dir: No such file or directory\$" \
	"missing --python-path dir message"
run_worker_fg --python-path ''
[ "$RC" -eq 2 ] || fail "empty --python-path: exit status $RC, expected 2"

# ---- a Python host module that cannot be used (module build only) ----
# A copy of tcworker looks for the module relative to itself first:
# <dir>/../lib/tcworker/pyhost.so under the default prefix.
if [ -n "$MODULE" ]; then
	REL=$(realpath --relative-to="$(dirname "$(realpath "$TCWORKER")")" "$(dirname "$MODULE")")
	COPY="$TEST_TMP/copy/bin"
	mkdir -p "$COPY" "$COPY/$REL"
	cp "$TCWORKER" "$COPY/tcworker"
	# not a shared object, and a shared object that is not a Python host
	for bad in garbage plugin; do
		if [ $bad = garbage ]; then
			echo "not an ELF file" >"$COPY/$REL/pyhost.so"
			want="cannot load $(realpath "$COPY/$REL")/pyhost\.so: "
		else
			cp "$TCW_BUILD_DIR/workloads/hello.so" "$COPY/$REL/pyhost.so"
			want="$(realpath "$COPY/$REL")/pyhost\.so is not a Python host module of this tcworker build"
		fi
		TCWORKER="$COPY/tcworker" run_worker_fg --version
		[ "$RC" -eq 0 ] || fail "--version with a $bad module: exit status $RC"
		expect_grep "$OUT" "^python: no \($want" "--version with a $bad module"
		TCWORKER="$COPY/tcworker" run_worker_fg --bind 'tcp://127.0.0.1:*' \
			--workload "$WLDIR/workloads.json"
		[ "$RC" -eq 2 ] || fail "Python entries with a $bad module: exit status $RC, expected 2"
		expect_grep "$ERR" "Python \(module/class\) workloads: $want" "start with a $bad module"
		# native-only workloads do not need the module
		TCWORKER="$COPY/tcworker" start_worker --rsa-bits 2048
		order 0 python-hello copy <<<'Work order result : Hello copy'
		stop_worker
	done
fi

# ---- a reference-style package next to its workloads.json, as a new user ----
APP="$TEST_TMP/app"
cp -r "$TCW_SOURCE_DIR/tests/python_workloads/refapp" "$APP"
mkdir -p "$TEST_TMP/elsewhere"
cd "$TEST_TMP/elsewhere"
PYTHONPATH='' start_worker --rsa-bits 2048 --workload "$APP/workloads.json"
run_client --file "$ORDERS"
expect_rc 0 "reference-style package"
expected_reference_lines | expect_file "$OUT" "reference-style package results"
order 1 python-fib -3 <<<"$WL_ERROR"
stop_worker
[ -z "$(find "$APP" -name __pycache__ -o -name '*.pyc')" ] || fail "bytecode written under $APP"

# ---- the installed tree, as a new user runs it (release build only) ----
if [ "$TCW_SANITIZE" != 1 ]; then
	DEST="$TEST_TMP/dest"
	PFX="$DEST/usr/local"
	# Component "Unspecified" (every install rule) keeps the manifest apart
	# from test_install.sh's, which may run at the same time.
	DESTDIR="$DEST" cmake --install "$TCW_BUILD_DIR" --prefix /usr/local \
		--component Unspecified >"$TEST_TMP/install.log" 2>&1 || {
		cat "$TEST_TMP/install.log" >&2
		fail "cmake --install failed"
	}
	if [ -n "$MODULE" ]; then
		[ -f "$PFX/lib/tcworker/pyhost.so" ] || fail "not installed: lib/tcworker/pyhost.so"
		"$PFX/bin/tcworker" --version | grep -qx "python: yes (3\.[0-9]*, module $PFX/lib/tcworker/pyhost\.so)" ||
			fail "installed tcworker --version: $("$PFX/bin/tcworker" --version)"
	fi
	for f in share/tcworker/workloads-python.json share/tcworker/python/avalon_worker/__init__.py \
		share/tcworker/python/avalon_worker/workload/workload.py \
		share/tcworker/python/sample_workloads/hello.py \
		share/tcworker/python/sample_workloads/fibonacci.py; do
		[ -f "$PFX/$f" ] || fail "not installed: $f"
	done
	rm -rf "$APP" && cp -r "$TCW_SOURCE_DIR/tests/python_workloads/refapp" "$APP"
	mkdir -p "$TEST_TMP/newuser"
	cd "$TEST_TMP/newuser"
	for wl in "$PFX/share/tcworker/workloads-python.json" "$APP/workloads.json"; do
		TCWORKER="$PFX/bin/tcworker" start_worker --rsa-bits 2048 --workload "$wl"
		expect_grep "$WORKER_LOG" "module path: [^ ]*:$PFX/share/tcworker/python, then" \
			"installed package directory ($wl)"
		run_client --file "$ORDERS"
		expect_rc 0 "installed worker, $wl"
		expected_reference_lines | expect_file "$OUT" "installed worker, $wl"
		stop_worker
	done
	[ -z "$(find "$DEST" "$APP" -name __pycache__ -o -name '*.pyc')" ] ||
		fail "bytecode written by the installed worker"
fi

# ---- Python and native workloads interleaved under concurrent clients ----
cd "$TEST_TMP/cwd"
start_worker --rsa-bits 2048 --workload "$WLDIR/workloads.json" --python-path "$PW"
RC=0
"${PYCLIENT[@]}" concurrent "$ENDPOINT" 6 5 >"$TEST_TMP/conc.out" 2>"$TEST_TMP/conc.err" &
conc=$!
# tcclient processes at the same time (libtcw clients next to the Python ones).
for i in 1 2; do
	"$TCCLIENT" --connect "$ENDPOINT" --timeout "$CLIENT_TIMEOUT_MS" --file "$ORDERS" \
		>"$TEST_TMP/tcc$i.out" 2>"$TEST_TMP/tcc$i.err" &
	eval "tcc$i=\$!"
done
wait "$conc" || RC=$?
OUT="$TEST_TMP/conc.out" ERR="$TEST_TMP/conc.err" expect_rc 0 "concurrent Python clients"
echo "concurrent ok: 210 orders from 6 threads" | expect_file "$TEST_TMP/conc.out" "concurrent"
for i in 1 2; do
	RC=0
	eval "wait \$tcc$i" || RC=$?
	OUT="$TEST_TMP/tcc$i.out" ERR="$TEST_TMP/tcc$i.err" expect_rc 0 "concurrent tcclient $i"
	expected_reference_lines | expect_file "$TEST_TMP/tcc$i.out" "concurrent tcclient $i"
done
expect_worker_alive "after the concurrent clients"
stop_worker

[ -z "$(find "$PKG" -name '*.pyc' -newer "$TEST_TMP/start-marker")" ] ||
	fail "bytecode written under $PKG"

# ---- make demo-python's script ----
cd "$TCW_SOURCE_DIR"
RC=0
bash scripts/demo.sh "$TCW_BUILD_DIR" workloads-python.json \
	>"$TEST_TMP/demo.out" 2>"$TEST_TMP/demo.err" || RC=$?
OUT="$TEST_TMP/demo.out" ERR="$TEST_TMP/demo.err" expect_rc 0 "demo.sh workloads-python.json"
expected_reference_lines | expect_file "$TEST_TMP/demo.out" "demo-python results"

note "ok"
