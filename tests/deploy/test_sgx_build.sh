#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_sgx_build.sh - the enclave build without an enclave. Builds and installs
# (make install DESTDIR=) exactly what deploy/Dockerfile builds: the release
# worker with hello and fib linked in (TCW_STATIC_PLUGINS). Then:
#  - the Dockerfile's runtime stage installs exactly the packages that own
#    the libraries the installed binaries link, and its COPY sources exist;
#  - deploy/gramine/Makefile renders the manifest (with a stand-in for
#    gramine-manifest) to TOML whose trusted files exist and match ldd
#    (tests/deploy/check_manifest.py), for both sealing keys; a bad SEAL_KEY
#    is refused; the render folder changes nothing; SEAL_KEY=insecure-test
#    changes only the key and is refused with SGX=1;
#  - the installed worker runs with the manifest's trusted command line and
#    environment (host environment dropped, as Gramine does) under strace:
#    its plugins are built in (the .so files are never opened), it answers the
#    reference orders, keeps its keys in the sealed folder, forks nothing, opens
#    only files the strict policy allows (check_trace.py), and runs within the
#    thread budget of sgx.max_threads.
# Release build only (the sanitizer build skips it).
set -euo pipefail

if [ "${TCW_SANITIZE:-0}" = 1 ]; then
	echo "test_sgx_build: skipped in the sanitizer build (builds a release worker)"
	exit 0
fi
. "$(dirname "$0")/../integration/lib.sh"

SRC=$TCW_SOURCE_DIR
HERE=$SRC/tests/deploy
STATIC_BUILD=$TCW_BUILD_DIR/deploy-static
DEST=$TEST_TMP/dest
PFX=/usr/local
W=$DEST$PFX/bin/tcworker
C=$DEST$PFX/bin/tcclient

# ---- build and install what the Dockerfile builds -------------------------
cmake_args=$(sed -n 's/^ARG CMAKE_ARGS="\(.*\)"$/\1/p' "$SRC/deploy/Dockerfile")
[[ " $cmake_args " == *" -DTCW_STATIC_PLUGINS=ON "* ]] ||
	fail "deploy/Dockerfile: ARG CMAKE_ARGS lacks -DTCW_STATIC_PLUGINS=ON: '$cmake_args'"
note "make install with CMAKE_ARGS=$cmake_args"
nice -n 10 make -C "$SRC" install BUILD_DIR="$STATIC_BUILD" CMAKE_ARGS="$cmake_args" \
	PREFIX=$PFX DESTDIR="$DEST" >"$TEST_TMP/install.log" 2>&1 || {
	tail -n 40 "$TEST_TMP/install.log" >&2
	fail "make install of the static-plugin build failed"
}
if [ ! -x "$W" ] || [ ! -f "$DEST$PFX/share/tcworker/workloads-sgx.json" ]; then
	fail "the static build did not install tcworker and workloads-sgx.json"
fi

# ---- the Dockerfile's runtime stage -----------------------------------------
"$PYTHON" - "$SRC/deploy/Dockerfile" "$DEST" <<'EOF' || fail "deploy/Dockerfile runtime stage"
import os, re, subprocess, sys
dockerfile, dest = sys.argv[1:]
text = open(dockerfile).read().replace("\\\n", " ")
stages = re.split(r"(?m)^FROM\s+", text)[1:]
runtime = stages[-1]
m = re.search(r"apt-get install -y --no-install-recommends\s+([^&]+?)\s*&&", runtime)
listed = set(m.group(1).split())
# Every ELF file installed, its NEEDED libraries, resolved with ldd, owned by
# which Debian package.
elves = []
for root, _, files in os.walk(dest):
    for f in files:
        p = os.path.join(root, f)
        with open(p, "rb") as fh:
            if fh.read(4) == b"\x7fELF":
                elves.append(p)
def dpkg_owner(path):
    """The package owning path, trying its /usr-merged aliases; None if none."""
    real = os.path.realpath(path)
    for p in (path, real, real.removeprefix("/usr"), "/usr" + path):
        r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0]
    return None
needed = {}
for elf in elves:
    dyn = subprocess.run(["readelf", "-d", elf], check=True, capture_output=True, text=True).stdout
    names = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", dyn)
    out = subprocess.run(["ldd", elf], check=True, capture_output=True, text=True).stdout
    resolved = dict(re.findall(r"^\s*(\S+) => (/\S+)", out, re.M))
    resolved.update((os.path.basename(p), p) for p in re.findall(r"^\s*(/\S+) \(", out, re.M))
    for n in names:
        if n not in resolved:
            sys.exit(f"{elf}: ldd does not resolve {n}")
        owner = dpkg_owner(resolved[n])
        if owner is None:
            sys.exit(f"{elf}: no Debian package owns {resolved[n]} ({n})")
        needed.setdefault(owner, set()).add(f"{os.path.basename(elf)}->{n}")
needed.pop("libc6", None)  # in every Debian image
if set(needed) != listed:
    sys.exit(f"runtime packages {sorted(listed)} != packages of the linked libraries "
             f"{ {k: sorted(v) for k, v in needed.items()} }")
# Every COPY --from=build source exists in the staged install.
for line in runtime.splitlines():
    if line.startswith("COPY --from=build"):
        for src in line.split()[2:-1]:
            path = dest + src[len("/out"):]
            if not src.startswith("/out/") or not os.path.exists(path):
                sys.exit(f"COPY source {src} missing ({path})")
print(f"Dockerfile runtime stage ok: {sorted(listed)} for {len(elves)} ELF files")
EOF

# ---- the Gramine manifest -----------------------------------------------------
STANDIN="$PYTHON $HERE/gramine_standin.py"
gmake() {
	make -s -C "$1" -f "$SRC/deploy/gramine/Makefile" PREFIX=$PFX DESTDIR="$DEST" \
		GRAMINE_MANIFEST="$STANDIN manifest" "${@:2}"
}
for key in _sgx_mrenclave _sgx_mrsigner; do
	G=$TEST_TMP/gramine$key
	mkdir -p "$G"
	gmake "$G" SEAL_KEY=$key >"$G/make.log" 2>&1 || {
		cat "$G/make.log" >&2
		fail "deploy/gramine/Makefile (SEAL_KEY=$key) failed"
	}
	gmake "$G" SEAL_KEY=$key print-argv >"$G/argv.txt"
	"$PYTHON" "$HERE/check_manifest.py" "$G/tcworker.manifest" "$PFX" "$DEST" \
		"$G/argv.txt" "$G/env.txt" >"$G/check.out" ||
		fail "manifest check (SEAL_KEY=$key)"
	grep -q "key $key;" "$G/check.out" || fail "SEAL_KEY=$key not in the manifest"
	note "$(cat "$G/check.out")"
done
G=$TEST_TMP/gramine_sgx_mrenclave
RC=0
gmake "$TEST_TMP" SEAL_KEY=_sgx_foo >"$TEST_TMP/bad.log" 2>&1 || RC=$?
if [ "$RC" -eq 0 ] || ! grep -q 'SEAL_KEY must be _sgx_mrenclave, _sgx_mrsigner or insecure-test' "$TEST_TMP/bad.log"; then
	fail "a bad SEAL_KEY was not refused"
fi

# The same render in another folder is the same manifest (nothing depends
# on the render folder); the test key changes only the mount's key, its
# value and the variable that tells the worker; it is random per render
# folder, kept there, and refused with SGX=1.
T=$TEST_TMP/gramine-elsewhere/deeper
mkdir -p "$T" "$TEST_TMP/testkey1" "$TEST_TMP/testkey2"
gmake "$T" >"$T/make.log" 2>&1 || { cat "$T/make.log" >&2; fail "render in another folder"; }
cmp -s "$G/tcworker.manifest" "$T/tcworker.manifest" || fail "the manifest depends on the render folder"
for k in 1 2; do
	gmake "$TEST_TMP/testkey$k" SEAL_KEY=insecure-test >"$TEST_TMP/testkey$k/make.log" 2>&1 ||
		{ cat "$TEST_TMP/testkey$k/make.log" >&2; fail "SEAL_KEY=insecure-test render"; }
done
key1=$(cat "$TEST_TMP/testkey1/insecure-test.key")
[[ "$key1" =~ ^[0-9a-f]{32}$ ]] || fail "test key '$key1' is not 32 hex digits"
[ "$key1" != "$(cat "$TEST_TMP/testkey2/insecure-test.key")" ] || fail "the test key is not random"
gmake "$TEST_TMP/testkey1" SEAL_KEY=insecure-test LOG_LEVEL=debug >/dev/null 2>&1 ||
	fail "SEAL_KEY=insecure-test re-render"
[ "$key1" = "$(cat "$TEST_TMP/testkey1/insecure-test.key")" ] || fail "a re-render changed the test key"
gmake "$TEST_TMP/testkey1" SEAL_KEY=insecure-test >/dev/null 2>&1 || fail "re-render"
diff "$G/tcworker.manifest" "$TEST_TMP/testkey1/tcworker.manifest" |
	grep '^[<>]' | grep -v '^[<>] *\(#.*\)\?$' | sed 's/^\([<>]\) */\1 /' >"$TEST_TMP/keydiff.txt" || true
cat >"$TEST_TMP/keydiff.want" <<EOF
> loader.env.TCW_INSECURE_TEST_KEY = "1"
> fs.insecure__keys.insecure-test = "$key1"
< { type = "encrypted", path = "/var/lib/tcworker", uri = "file:/var/lib/tcworker", key_name = "_sgx_mrenclave" },
> { type = "encrypted", path = "/var/lib/tcworker", uri = "file:/var/lib/tcworker", key_name = "insecure-test" },
EOF
diff -u "$TEST_TMP/keydiff.want" "$TEST_TMP/keydiff.txt" ||
	fail "SEAL_KEY=insecure-test changes more than the key"
RC=0
gmake "$TEST_TMP/testkey1" SEAL_KEY=insecure-test SGX=1 >"$TEST_TMP/bad.log" 2>&1 || RC=$?
if [ "$RC" -eq 0 ] || ! grep -q 'SEAL_KEY=insecure-test is for gramine-direct tests only' "$TEST_TMP/bad.log"; then
	fail "SGX=1 with SEAL_KEY=insecure-test was not refused"
fi

# ---- run the installed worker as the enclave would --------------------------
# The trusted command line, with installed paths moved under DESTDIR, the
# sealed folder in the temp dir, and an ephemeral port on the wildcard (the
# literal-address check is active: TCW_GRAMINE=1 comes from the manifest).
DATA=$TEST_TMP/sealed
mkdir -m 0700 "$DATA"
args=()
while IFS= read -r a; do
	case "$a" in
	"$PFX"/*) args+=("$DEST$a") ;;
	*/worker.keys) args+=("$DATA/worker.keys") ;;
	'tcp://*:7777') args+=('tcp://*:*') ;;
	*) args+=("$a") ;;
	esac
done < <(tail -n +2 "$G/argv.txt")
# The manifest's environment, less LD_LIBRARY_PATH (Gramine's own layout).
envs=()
while IFS= read -r e; do
	[[ "$e" == LD_LIBRARY_PATH=* ]] || envs+=("$e")
done <"$G/env.txt"
STRACE=$(command -v strace) || fail "strace is not installed (make deps)"
WORKER_LOG=$TEST_TMP/worker.log
env -i "${envs[@]}" "$STRACE" -f -qq -o "$TEST_TMP/trace.txt" \
	-e trace=open,openat,openat2,execve,fork,vfork,clone,clone3 \
	"$W" "${args[@]}" 2>"$WORKER_LOG" &
STRACE_PID=$!
ALL_WORKER_PIDS+=("$STRACE_PID")
wait_listening "$STRACE_PID" "$WORKER_LOG"
WORKER_PID=$(awk 'NR == 1 { print $1 }' "$TEST_TMP/trace.txt")
ALL_WORKER_PIDS+=("$WORKER_PID")
ENDPOINT="tcp://127.0.0.1:${ENDPOINT##*:}"
note "worker $WORKER_PID (under strace $STRACE_PID) on $ENDPOINT"
expect_grep "$WORKER_LOG" 'INFO running inside Gramine$' "Gramine detection from the manifest env"
n=$(grep -c 'built in, named by' "$WORKER_LOG" || true)
[ "$n" -eq 4 ] || fail "expected 4 built-in workloads in the log, found $n"

RC=0
"$C" --connect "$ENDPOINT" --timeout "$CLIENT_TIMEOUT_MS" \
	--file "$DEST$PFX/share/tcworker/test_work_orders.json" >"$TEST_TMP/out" 2>"$TEST_TMP/err" ||
	RC=$?
OUT=$TEST_TMP/out
ERR=$TEST_TMP/err
expect_rc 0 "reference orders against the enclave-configured worker"
expected_reference_lines | expect_file "$OUT" "reference orders"

# Threads: all of them (plus Gramine's 4 helpers) fit in sgx.max_threads.
tasks=$(find "/proc/$WORKER_PID/task" -mindepth 1 -maxdepth 1 | wc -l)
max_threads=$(sed -n 's/^sgx.max_threads = \([0-9]*\)$/\1/p' "$G/tcworker.manifest")
note "worker threads: $tasks; sgx.max_threads: $max_threads"
[ "$((tasks + 4))" -le "$max_threads" ] ||
	fail "$tasks worker threads + 4 Gramine helpers exceed sgx.max_threads $max_threads"

kill -TERM "$WORKER_PID"
RC=0
wait "$STRACE_PID" || RC=$?
[ "$RC" -eq 0 ] || fail "worker exited with status $RC after SIGTERM"
[ -f "$DATA/worker.keys" ] || fail "no keys file in the sealed folder"
[ "$(stat -c %a "$DATA/worker.keys")" = 600 ] || fail "keys file mode is not 0600"
"$PYTHON" "$HERE/check_trace.py" "$TEST_TMP/trace.txt" "$G/tcworker.manifest" "$PFX" "$DEST" \
	"$DATA" >"$TEST_TMP/trace.out" || fail "file accesses outside the enclave's policy"
note "$(cat "$TEST_TMP/trace.out")"
note "ok"
