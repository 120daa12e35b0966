#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_gateway_compose.sh - deploy/compose/gateway.yaml validates with
# `docker-compose config` (no Docker engine needed) and resolves to a
# database, two workers and two gateways that run tcgateway on it with both
# workers, distinct node names, persistent receipt keys and only the
# gateways' ports published, on the host's loopback.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v docker-compose >/dev/null || fail "docker-compose is not installed (make deps)"

F=$TCW_SOURCE_DIR/deploy/compose/gateway.yaml
RC=0
env -u TCGW_DB_PASSWORD docker-compose -f "$F" config >"$TEST_TMP/nopw.yaml" 2>&1 || RC=$?
[ "$RC" -ne 0 ] || fail "the compose file resolves without TCGW_DB_PASSWORD"
TCGW_DB_PASSWORD=s3cret docker-compose -f "$F" config >"$TEST_TMP/gw.yaml" 2>"$TEST_TMP/err" ||
	fail "docker-compose config: $(cat "$TEST_TMP/err")"
"$PYTHON" - "$TEST_TMP/gw.yaml" <<'PY' || fail "resolved compose file"
import sys, yaml
svc = yaml.safe_load(open(sys.argv[1]))["services"]
assert set(svc) == {"db", "worker-1", "worker-2", "gateway-a", "gateway-b"}, set(svc)
nodes = set()
for name in ("gateway-a", "gateway-b"):
    g = svc[name]
    assert g["entrypoint"] == ["/usr/local/bin/tcgateway"], g["entrypoint"]
    args = g["command"]
    opt = {args[i]: args[i + 1] for i in range(len(args) - 1) if args[i].startswith("--")}
    workers = [args[i + 1] for i in range(len(args) - 1) if args[i] == "--worker"]
    assert workers == ["worker-1=tcp://worker-1:7777", "worker-2=tcp://worker-2:7777"], workers
    assert opt["--db"] == "postgresql://tcgateway:s3cret@db/tcgateway", opt["--db"]
    assert opt["--keys-file"].startswith("/var/lib/tcworker/"), opt
    nodes.add(opt["--node-name"])
    assert any(v.endswith(":/var/lib/tcworker:rw") for v in g["volumes"]), g["volumes"]
    assert all(str(p).startswith("127.0.0.1:") for p in g["ports"]), g["ports"]
    assert g["read_only"] and g["cap_drop"] == ["ALL"]
assert nodes == {"gateway-a", "gateway-b"}, nodes
for name in ("db", "worker-1", "worker-2"):
    assert "ports" not in svc[name], name + " is published"
print("compose file ok")
PY
note "ok"
