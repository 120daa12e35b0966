#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""report.py - prints the results bench/run.sh collected in OUT_DIR.

Every throughput figure stands next to its crypto bound: the CPU time the
protocol itself demands for that order (one RSA-OAEP private decryption,
one secp256k1 signature and, per byte, base64 decode + encode, AES-GCM
decrypt + encrypt and SHA-256 over the request's and the response's data
text), measured by tcw_bound on this machine in the same run, times the
number of cores. "worker CPU/order" is the CPU time the worker process
spent per work order (from /proc), which does not depend on other load;
"efficiency" is the bound divided by it.

Usage: report.py OUT_DIR
"""

import json
import os
import sys

SIZES = (16, 65536, 1048576)
# tcw_process_frame's stages as tcw_bound reports them (enum tcw_stage), then the rest
STAGES = ("parse", "keep", "unwrap", "request_hash", "verify", "decrypt", "workload", "seal",
          "response_hash", "sign", "write", "other")
SIZE_NAMES = {16: "16 B", 65536: "64 KiB", 1048576: "1 MiB"}


def load(out, name):
    path = os.path.join(out, name)
    return json.load(open(path)) if os.path.exists(path) else None


def size_entry(bound, size):
    return next(s for s in bound["sizes"] if s["size"] == size)


def check(ok, text):
    return "%s %s" % ("MET   " if ok else "MISSED", text)


def main(out):
    lines = []
    p = lines.append
    machine = open(os.path.join(out, "machine.txt")).read().strip()
    p("tcworker benchmark (make bench)")
    p(machine)
    bounds = {bits: load(out, "bound-%d.json" % bits) for bits in (2048, 3072)}
    targets = []
    for bits in (2048, 3072):
        b = bounds[bits]
        cores = b["cores"]
        p("")
        p("RSA-%d: one RSA-OAEP decryption %.1f us, one secp256k1 signature %.1f us (CPU time)"
          % (bits, b["rsa_decrypt_s"] * 1e6, b["sign_s"] * 1e6))
        p("%-7s %3s %7s %9s %9s %8s %8s %8s %8s %6s %10s %7s %8s" % (
            "input", "cl", "orders", "wo/s", "MB/s", "p50 ms", "p90 ms", "p99 ms", "max ms",
            "fails", "bound wo/s", "of bnd", "load"))
        for size in SIZES:
            se = size_entry(b, size)
            bound_wo = cores / se["bound_s"]
            for c in (1, 8):
                r = load(out, "run-%d-%d-%d.json" % (bits, c, size))
                if r is None:
                    continue
                pct = 100 * r["wo_per_s"] / bound_wo
                p("%-7s %3d %7d %9.1f %9.2f %8.2f %8.2f %8.2f %8.2f %6d %10.1f %6.1f%% %8.2f" % (
                    SIZE_NAMES[size], c, r["orders"], r["wo_per_s"], r["mb_per_s"], r["p50_ms"],
                    r["p90_ms"], r["p99_ms"], r["max_ms"], r["failures"], bound_wo, pct,
                    r["load_after"]))
                r["pct"], r["bound_wo"] = pct, bound_wo
                r["bound_mb"] = bound_wo * size / 1e6
                r["wcpu"] = r["worker_cpu_s"] / (r["orders"] + r["warmup"])
                r["ccpu"] = r["client_cpu_s"] / r["orders"]
                se.setdefault("runs", {})[c] = r
        p("  per order (CPU ms): bound | worker | efficiency | client (timed phase) "
          "| 2-core projection wo/s")
        for size in SIZES:
            se = size_entry(b, size)
            r = se.get("runs", {}).get(8)
            if r is None:
                continue
            proj = cores / (r["wcpu"] + r["ccpu"])
            p("  %-7s %8.3f | %6.3f | %5.1f%% | %6.3f | %9.1f (%.1f%% of bound)" % (
                SIZE_NAMES[size], se["bound_s"] * 1e3, r["wcpu"] * 1e3,
                100 * se["bound_s"] / r["wcpu"], r["ccpu"] * 1e3, proj,
                100 * proj * se["bound_s"] / cores))
        reuse = []
        for size in (16, 65536):
            for c in (1, 8):
                r = load(out, "reuse-%d-%d-%d.json" % (bits, c, size))
                if r is None:
                    continue
                n = r["orders"] + r["warmup"]
                r["wcpu"] = r["worker_cpu_s"] / n
                r["ccpu"] = r["client_cpu_s"] / r["orders"]
                r["proj"] = cores / (r["wcpu"] + r["ccpu"])
                r["build"], r["verify"] = r["build_cpu_s"] / n, r["verify_cpu_s"] / n
                size_entry(b, size).setdefault("reuse", {})[c] = r
                reuse.append((size, c, r))
        if reuse:
            p("  session reuse (--session-reuse 1000: one RSA-wrapped key per 1000 orders of a"
              " connection), CPU ms per order:")
            p("  %-7s %3s %7s %9s %8s %8s %5s %7s %7s %7s %7s %10s %6s" % (
                "input", "cl", "orders", "wo/s", "p50 ms", "p99 ms", "fails", "worker",
                "client", "build", "verify", "2-core wo/s", "load"))
            for size, c, r in reuse:
                p("  %-7s %3d %7d %9.1f %8.2f %8.2f %5d %7.3f %7.3f %7.3f %7.3f %10.1f %6.2f" % (
                    SIZE_NAMES[size], c, r["orders"], r["wo_per_s"], r["p50_ms"], r["p99_ms"],
                    r["failures"], r["wcpu"] * 1e3, r["ccpu"] * 1e3, r["build"] * 1e3,
                    r["verify"] * 1e3, r["proj"], r["load_after"]))
        big = size_entry(b, 1048576)
        st, whole = big["stages"], big["staged_process_s"]
        p("  1 MiB in tcw_process_frame: %.2f ms (bound %.2f ms); by stage, ms (%% of %.2f ms):"
          % (big["process_s"] * 1e3, big["bound_s"] * 1e3, whole * 1e3))
        names = [n for n in STAGES if n in st]
        for i in range(0, len(names), 6):
            p("    " + ", ".join("%s %.2f (%.0f%%)" % (n.replace("_", " "), st[n] * 1e3,
                                                    100 * st[n] / whole)
                                 for n in names[i:i + 6]))
        p("    bound: RSA %.2f + sign %.2f + base64 %.2f/%.2f + AES-GCM %.2f/%.2f + SHA-256 "
          "%.2f/%.2f ms (request/response)" % (
              b["rsa_decrypt_s"] * 1e3, b["sign_s"] * 1e3,
              big["b64_decode_s"] * 1e3, big["b64_encode_s"] * 1e3,
              big["gcm_decrypt_s"] * 1e3, big["gcm_encrypt_s"] * 1e3,
              big["sha_request_s"] * 1e3, big["sha_response_s"] * 1e3))

    def run(bits, c, size):
        return size_entry(bounds[bits], size).get("runs", {}).get(c)

    def reuse(bits, c, size):
        return size_entry(bounds[bits], size).get("reuse", {}).get(c)

    p("")
    p("Targets")
    r = run(2048, 8, 16)
    if r:
        targets.append(check(r["wo_per_s"] >= 5000 and r["pct"] >= 70,
                             "tiny, RSA-2048, 8 clients: %.0f wo/s (>= 5000), %.1f%% of bound "
                             "(>= 70%%)" % (r["wo_per_s"], r["pct"])))
    r = run(3072, 8, 16)
    if r:
        targets.append(check(r["pct"] >= 70, "tiny, RSA-3072, 8 clients: %.0f wo/s, %.1f%% of "
                                              "bound (>= 70%%)" % (r["wo_per_s"], r["pct"])))
    r = run(2048, 1, 16)
    if r:
        targets.append(check(r["p99_ms"] < 5, "tiny, RSA-2048, 1 client: p99 %.2f ms (< 5 ms)"
                             % r["p99_ms"]))
    r, d = reuse(3072, 8, 16), run(3072, 8, 16)
    if r and d:
        targets.append(check(r["wo_per_s"] >= 5 * d["wo_per_s"],
                             "tiny, RSA-3072, 8 clients: --session-reuse 1000 %.0f wo/s vs the "
                             "default format %.0f wo/s, same run: %.1fx (>= 5x)" % (
                                 r["wo_per_s"], d["wo_per_s"], r["wo_per_s"] / d["wo_per_s"])))
    for bits in (2048, 3072):
        r = reuse(bits, 8, 16)
        if r:
            text = ("tiny, RSA-%d, session reuse, 8 clients: 2-core projection %.0f wo/s from "
                    "worker %.3f + client %.3f ms per order (client build %.3f, verify %.3f ms "
                    "per order, not timed); %.0f wo/s wall, load %.1f" % (
                        bits, r["proj"], r["wcpu"] * 1e3, r["ccpu"] * 1e3, r["build"] * 1e3,
                        r["verify"] * 1e3, r["wo_per_s"], r["load_after"]))
            targets.append(check(r["proj"] >= 10000, text + " (>= 10000)") if bits == 2048
                           else "REPORT " + text)
    r = run(2048, 8, 1048576)
    if r:
        se = size_entry(bounds[2048], 1048576)
        targets.append(check(se["bound_s"] / r["wcpu"] >= 0.75,
                             "1 MiB, RSA-2048, worker efficiency: bound %.2f ms / worker %.2f ms "
                             "CPU per order = %.1f%% (>= 75%%)" % (
                                 se["bound_s"] * 1e3, r["wcpu"] * 1e3,
                                 100 * se["bound_s"] / r["wcpu"])))
    for bits in (3072, 2048):
        r = run(bits, 8, 1048576)
        if r:
            targets.append(check(r["mb_per_s"] >= 250 and r["pct"] >= 60,
                                 "1 MiB, RSA-%d, 8 clients: %.1f MB/s (>= 250), %.1f%% of bound "
                                 "(>= 60%%; bound %.1f MB/s)" % (bits, r["mb_per_s"], r["pct"],
                                                                 r["bound_mb"])))
    for mode in ("default", "replay-off"):
        m = load(out, "memory-%s.json" % mode)
        if not m:
            continue
        label = "default settings" if mode == "default" else "--replay-cache 0"
        uss = m.get("idle_uss_kib")
        # judged on the written private memory: the clean library pages in the
        # USS are private only while no other process maps those libraries
        own = m.get("idle_dirty_kib")
        targets.append(check(m["idle_kib"] <= 11 * 1024 and own is not None and own <= 3 * 1024,
                             "idle RSS / own private memory (%s, no Python entry): %.2f MiB / "
                             "%.2f MiB (<= 11 MiB / <= 3 MiB); USS %.2f MiB with the clean "
                             "library pages no other process maps now"
                             % (label, m["idle_kib"] / 1024, (own or 0) / 1024,
                                (uss or 0) / 1024)))
        grow = (m["after_all_kib"] - m["after_first_kib"]) / 1024
        # the default settings fill bounded caches by design: the replay cache
        # (100,000 ids, 48 bytes each) and the response store (32 MiB)
        allowed = 2 + (100000 * 48 / 1048576 + 32 if mode == "default" else 0)
        targets.append(check(grow <= allowed and m["failures"] == 0,
                             "RSS after %d vs %d work orders (%s): %.2f -> %.2f MiB, %+.2f MiB "
                             "(<= %.1f MiB%s)" % (m["all"], m["first"], label,
                                                 m["after_first_kib"] / 1024,
                                                 m["after_all_kib"] / 1024, grow, allowed,
                                                 ": 2 + the replay cache and response store"
                                                 if mode == "default" else "")))
    s = load(out, "startup.json")
    if s:
        g = s["generate_2048"]
        targets.append(check(g["p50_ms"] <= 300, "start-up to first signup, generating RSA-2048:"
                             " p50 %.0f ms over %d starts (min %.0f, max %.0f) (<= 300 ms)" % (
                                 g["p50_ms"], g["runs"], g["min_ms"], g["max_ms"])))
        k = s.get("keys_file")
        if k:
            targets.append(check(k["p50_ms"] <= 50, "start-up to first signup, --keys-file: p50 "
                                 "%.0f ms over %d starts (min %.0f, max %.0f) (<= 50 ms)" % (
                                     k["p50_ms"], k["runs"], k["min_ms"], k["max_ms"])))
        else:
            targets.append("n/a    start-up with --keys-file: this worker has no --keys-file")
    c = load(out, "correctness.json")
    if c:
        targets.append(check(c["failures"] == 0 and c["ok"] == c["orders"] + c["warmup"],
                             "correctness: %d work orders over %d connections, %d verified "
                             "replies, %d failures" % (c["orders"], c["concurrency"], c["ok"],
                                                        c["failures"])))
    lines.extend(targets)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
