#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_compose.sh - deploy/docker-compose.yaml and its overlays (SGX, object
# detection with tcdetect, the detection enclave) validate with
# `docker-compose config` (no Docker engine needed) and resolve to the
# services they promise; deploy/Dockerfile and its variants' settings
# (deploy/image/*.ini, deploy/gsc/*.manifest) have the shape docs/sgx.md
# describes. (tests/deploy/test_sgx_build.sh checks the Dockerfile's packages
# and files against a real install.)
set -euo pipefail

if [ "${TCW_SANITIZE:-0}" = 1 ]; then
	echo "test_compose: skipped in the sanitizer build (the release build runs it)"
	exit 0
fi
. "$(dirname "$0")/../integration/lib.sh"
command -v docker-compose >/dev/null || fail "docker-compose is not installed (make deps)"

D=$TCW_SOURCE_DIR/deploy
MR=$(printf '0123456789abcdef%.0s' 1 2 3 4)

# config prints the resolved file; it exits non-zero on any schema error.
compose() {
	local out=$1
	shift
	RC=0
	docker-compose "$@" config >"$out" 2>"$out.err" || RC=$?
}

compose "$TEST_TMP/base.yaml" -f "$D/docker-compose.yaml"
[ "$RC" -eq 0 ] || fail "docker-compose config: $(cat "$TEST_TMP/base.yaml.err")"
TCW_MRENCLAVE=$MR compose "$TEST_TMP/sgx.yaml" -f "$D/docker-compose.yaml" \
	-f "$D/compose/graphene-sgx.yaml"
[ "$RC" -eq 0 ] || fail "docker-compose config with the SGX overlay: $(cat "$TEST_TMP/sgx.yaml.err")"

"$PYTHON" - "$TEST_TMP/base.yaml" "$TEST_TMP/sgx.yaml" "$MR" <<'EOF' || fail "resolved compose files"
import sys, yaml
base, sgx = (yaml.safe_load(open(p)) for p in sys.argv[1:3])
mr = sys.argv[3]
for cfg in (base, sgx):
    svc = cfg["services"]
    assert set(svc) == {"process-work-order", "test-send-work-order"}, set(svc)
    w, c = svc["process-work-order"], svc["test-send-work-order"]
    assert "7777" in [str(p) for p in w["expose"]], w
    assert "command" not in w and "entrypoint" not in w, "the worker's argv comes from the image"
    assert any(v.startswith("tcworker-data:/var/lib/tcworker") for v in w["volumes"]), w
    assert w["read_only"] is True and w["cap_drop"] == ["ALL"], w
    assert c["image"] == "tcworker:latest", c
    assert c["entrypoint"] == ["/usr/local/bin/tcclient"], c
    assert c["command"][:6] == ["--connect", "tcp://process-work-order:7777", "--file",
                               "/usr/local/share/tcworker/test_work_orders.json",
                               "--timeout", "120000"], c["command"]
    assert "process-work-order" in c["depends_on"], c
assert base["services"]["process-work-order"]["image"] == "tcworker:latest"
assert "devices" not in base["services"]["process-work-order"]
w = sgx["services"]["process-work-order"]
assert w["image"] == "gsc-tcworker:latest", w["image"]
assert w["devices"] == ["/dev/sgx_enclave:/dev/sgx_enclave"], w["devices"]
assert any(v.startswith("/var/run/aesmd:/var/run/aesmd") for v in w["volumes"]), w["volumes"]
assert sgx["services"]["test-send-work-order"]["command"][6:] == ["--expect-mrenclave", mr]
print("compose ok")
EOF

# The overlays refuse to run without the enclave measurement to insist on.
for overlay in graphene-sgx ov-sgx; do
	(
		unset TCW_MRENCLAVE
		compose "$TEST_TMP/nomr-$overlay.yaml" -f "$D/docker-compose.yaml" -f "$D/compose/$overlay.yaml"
		echo "$RC" >"$TEST_TMP/nomr.rc"
	)
	[ "$(cat "$TEST_TMP/nomr.rc")" -ne 0 ] || fail "$overlay validated without TCW_MRENCLAVE"
	grep -q 'set TCW_MRENCLAVE to the MRENCLAVE' "$TEST_TMP/nomr-$overlay.yaml.err" ||
		fail "$overlay: no hint about TCW_MRENCLAVE: $(cat "$TEST_TMP/nomr-$overlay.yaml.err")"
done

# Object detection: tcdetect as the ov-inference service with the worker's
# forwarding registry, and the detection enclave.
compose "$TEST_TMP/ov.yaml" -f "$D/docker-compose.yaml" -f "$D/compose/ov.yaml"
[ "$RC" -eq 0 ] || fail "docker-compose config with ov.yaml: $(cat "$TEST_TMP/ov.yaml.err")"
TCW_MRENCLAVE=$MR TCW_IMAGES=/srv/pictures compose "$TEST_TMP/ov-sgx.yaml" \
	-f "$D/docker-compose.yaml" -f "$D/compose/ov-sgx.yaml"
[ "$RC" -eq 0 ] || fail "docker-compose config with ov-sgx.yaml: $(cat "$TEST_TMP/ov-sgx.yaml.err")"
"$PYTHON" - "$TEST_TMP/ov.yaml" "$TEST_TMP/ov-sgx.yaml" "$MR" "$D" "$TCW_SOURCE_DIR" <<'EOF' ||
import json, os, sys, yaml
ov, sgx = (yaml.safe_load(open(p)) for p in sys.argv[1:3])
mr, deploy, src = sys.argv[3:6]
svc = ov["services"]
assert set(svc) == {"process-work-order", "test-send-work-order", "ov-inference"}, set(svc)
w, c, t = svc["process-work-order"], svc["test-send-work-order"], svc["ov-inference"]
assert t["image"] == "tcworker-detect:latest" and t["entrypoint"] == ["/usr/local/bin/tcdetect"], t
topts = dict(zip(t["command"][::2], t["command"][1::2]))
assert topts["--bind"] == "tcp://*:8888" and "8888" in [str(p) for p in t["expose"]], t
assert t["read_only"] is True and t["cap_drop"] == ["ALL"], t
images = [v for v in t["volumes"] if v.endswith(":/images:ro")]
assert images == [os.path.join(os.path.realpath(src), ".cache/images") + ":/images:ro"], t["volumes"]
assert "/tmp" in t["tmpfs"] and topts["--output"].startswith("/tmp/"), t
assert "ov-inference" in w["depends_on"], w
wopts = dict(zip(w["command"][::2], w["command"][1::2]))
reg = wopts["--workload"]
mounted = [v.split(":")[0] for v in w["volumes"] if v.split(":")[1] == reg]
assert mounted == [os.path.join(deploy, "compose/workloads-ov.json")], (reg, w["volumes"])
wl = json.load(open(mounted[0]))
fwd = wl["ov-inference"]
assert fwd["library"] == "/usr/local/lib/tcworker/forward.so", fwd
assert fwd["config"]["url"] == "tcp://ov-inference:8888", fwd
assert fwd["config"]["workload_id"] == "ov-inference", fwd
assert c["image"] == "tcworker-detect:latest", c
assert c["command"][2:4] == ["--file", "/usr/local/share/tcworker/test_ov_work_orders.json"], c
w, c = sgx["services"]["process-work-order"], sgx["services"]["test-send-work-order"]
assert w["image"] == "gsc-tcworker-detect:latest", w["image"]
assert w["devices"] == ["/dev/sgx_enclave:/dev/sgx_enclave"], w["devices"]
assert "command" not in w, "the enclave's argv comes from the image"
copts = dict(zip(c["command"][::2], c["command"][1::2]))
assert copts["--workload"] == "object-detect" and copts["--in-file"] == "/images/astronaut.png", c
assert copts["--out-items"] == "2" and copts["--expect-mrenclave"] == mr, c
assert "/srv/pictures:/images:ro" in c["volumes"], c["volumes"]
print("object detection overlays ok")
EOF
	fail "resolved object-detection compose files"

# The validator is real: an unknown key in a copy of the file is refused.
sed 's/^    read_only: true$/    read_only: true\n    no_such_option: 1/' "$D/docker-compose.yaml" \
	>"$TEST_TMP/broken.yaml"
compose "$TEST_TMP/broken.out" -f "$TEST_TMP/broken.yaml"
if [ "$RC" -eq 0 ] || ! grep -q "no_such_option" "$TEST_TMP/broken.out.err"; then
	fail "docker-compose config accepted an unknown option"
fi

# deploy/Dockerfile: a Debian 12 build stage running the project's own
# `make deps` and `make`, a Debian 12 runtime stage, a non-root user, and the
# image command that GSC turns into the enclave's trusted command line; per
# VARIANT, the settings file it names (deploy/image/*.ini) and the GSC
# manifest (deploy/gsc/*.manifest) agree with it.
"$PYTHON" - "$D" <<'EOF' || fail "deploy/Dockerfile"
import configparser, json, os, re, sys, tomllib
d = sys.argv[1]
text = open(os.path.join(d, "Dockerfile")).read().replace("\\\n", " ")
stages = re.findall(r"(?m)^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text)
assert len(stages) == 2 and stages[0] == ("debian:12", "build"), stages
assert stages[1][0] == "debian:12-slim", stages
assert re.search(r"(?m)^ARG VARIANT=native$", text), "ARG VARIANT=native before the stages"
build, runtime = re.split(r"(?m)^FROM\s+", text)[1:]
assert re.search(r"\bmake deps\b", build) and re.search(r"&& make BUILD_DIR=", build), build
assert re.search(r"\bmake install\b.*DESTDIR=/out", build), build
for stage in (build, runtime):
    assert re.search(r"(?m)^ARG VARIANT$", stage), "each stage declares ARG VARIANT"
    for v in ("native", "python", "detect"):
        assert re.search(rf"\b{v}\)", stage), f"no case for VARIANT={v}"
users = re.findall(r"(?m)^USER\s+(\S+)", runtime)
assert users and users[-1].split(":")[0] not in ("0", "root"), users
uid = re.search(r"useradd .*--uid (\d+)", runtime).group(1)
assert users[-1] == f"{uid}:{uid}", (users, uid)
assert "ENV " not in runtime, "image ENV would become enclave environment under GSC"
entry = json.loads(re.search(r"(?m)^ENTRYPOINT\s+(\[.*\])", runtime).group(1))
cmd = json.loads(re.search(r"(?m)^CMD\s+(\[.*\])", runtime).group(1))
argv = entry + cmd
opts = dict(zip(argv[1::2], argv[2::2]))
assert argv[0] == "/usr/local/bin/tcworker", argv
assert opts["--bind"] == "tcp://*:7777", opts
assert opts["--queue"] == "8", opts
assert opts["--keys-file"].startswith("/var/lib/tcworker/"), opts
assert opts["--config"] == "/usr/local/share/tcworker/image.ini", opts
assert "cp deploy/image/$VARIANT.ini /out/usr/local/share/tcworker/image.ini" in build
want = {"native": ("workloads-sgx.json", "1048576", "128M", {}),
        "python": ("workloads-python.json", "1048576", "256M", {"TCW_PYTHON_SITE": "0"}),
        "detect": ("workloads-detect-sgx.json", "4194304", "512M",
                   {"OPENCV_FOR_THREADS_NUM": "1"})}
for v, (wl, maxmsg, size, env) in want.items():
    ini = configparser.ConfigParser(comment_prefixes=(";", "#"))
    ini.read(os.path.join(d, "image", f"{v}.ini"))
    assert set(ini["tcworker"]) == {"workload", "max-message-bytes"}, (v, dict(ini["tcworker"]))
    assert ini["tcworker"]["workload"] == f"/usr/local/share/tcworker/{wl}", (v, wl)
    assert ini["tcworker"]["max-message-bytes"] == maxmsg, v
    # The GSC manifest's budget and sealed folder agree with that command line.
    name = "tcworker.manifest" if v == "native" else f"tcworker-{v}.manifest"
    gsc = tomllib.load(open(os.path.join(d, "gsc", name), "rb"))
    assert gsc["sgx"]["max_threads"] == int(opts["--threads"]) + 8, (v, gsc["sgx"])
    assert gsc["sgx"]["enclave_size"] == size, (v, gsc["sgx"]["enclave_size"])
    assert gsc["sgx"]["remote_attestation"] == "dcap"
    assert gsc["sys"]["disallow_subprocesses"] is True
    genv = gsc["loader"]["env"]
    assert {k: genv[k] for k in env} == env, (v, genv)
    mounts = gsc["fs"]["mounts"]
    assert [m["path"] for m in mounts if m.get("type") == "encrypted"] == ["/var/lib/tcworker"], mounts
    # GSC sets these itself; the same key with another value makes `gsc build` fail.
    assert "libos" not in gsc and "root" not in gsc["fs"], gsc
    assert not {"argv", "argv_src_file", "entrypoint", "log_level"} & set(gsc["loader"]), gsc
    assert not {"LD_LIBRARY_PATH", "PATH"} & set(genv), gsc
    assert not {"trusted_files", "allowed_files", "debug"} & set(gsc["sgx"]), gsc
print("Dockerfile ok")
EOF
note "ok"
