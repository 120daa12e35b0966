#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Checks a rendered deploy/gramine manifest against the installed worker.

Usage: check_manifest.py MANIFEST PREFIX DESTDIR ARGV_LIST ENV_OUT

  MANIFEST   tcworker.manifest rendered by the Makefile (gramine_standin.py)
  PREFIX     install prefix the manifest names (/usr/local)
  DESTDIR    where `make install DESTDIR=` put that prefix
  ARGV_LIST  the Makefile's print-argv output, one argument per line
  ENV_OUT    written: the manifest's loader.env, one NAME=VALUE per line

Independently of deploy/gramine/trusted-libs.sh, runs ldd on the installed
worker and checks that the trusted host libraries are exactly what ldd
reports (glibc's taken from Gramine's runtime instead), that every trusted
file under the prefix exists after the install, that each trusted file is
reachable through a mount, and the security settings docs/sgx.md promises.
Prints a summary line with the number and total size of the trusted files.
"""
import os
import pathlib
import re
import subprocess
import sys
import tomllib

# glibc libraries, supplied inside the enclave by Gramine's runtime folder.
GLIBC = {"ld-linux-x86-64.so.2", "libanl.so.1", "libc.so.6", "libdl.so.2", "libm.so.6",
         "libmvec.so.1", "libnsl.so.1", "libnss_compat.so.2", "libnss_db.so.2",
         "libnss_dns.so.2", "libnss_files.so.2", "libpthread.so.0", "libresolv.so.2",
         "librt.so.1", "libthread_db.so.1", "libutil.so.1"}
ENCLAVE_LIMIT = 128 * 1024 * 1024
ERRORS = []


def fail(msg):
    ERRORS.append(msg)


def size_bytes(text):
    m = re.fullmatch(r"(\d+)([KMG]?)", text)
    if not m:
        fail(f"sgx.enclave_size {text!r}: not a size")
        return 0
    return int(m.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m.group(2)]


def ldd(binary):
    """(host library paths, glibc names) that ldd reports for binary."""
    out = subprocess.run(["ldd", binary], check=True, capture_output=True, text=True,
                         env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"}).stdout
    host, glibc = set(), set()
    for line in out.splitlines():
        if "not found" in line:
            fail(f"ldd: {line.strip()}")
        m = re.match(r"\s*(\S+)\s+=>\s+(/\S+)", line) or re.match(r"\s*(/\S+)\s", line)
        if not m:
            continue
        path = m.group(m.lastindex)
        if os.path.basename(path) in GLIBC:
            glibc.add(os.path.basename(path))
        else:
            host.add(path)
    return host, glibc


def mounted(path, mounts):
    """The host path that an enclave path maps to through mounts, or None."""
    best = None
    for m in mounts:
        mp = m["path"].rstrip("/") or "/"
        if path == mp or path.startswith(mp + "/"):
            if best is None or len(mp) > len(best["path"].rstrip("/")):
                best = m
    if best is None or best.get("type", "chroot") != "chroot":
        return None
    return best["uri"][len("file:"):] + path[len(best["path"].rstrip("/")):]


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    manifest_path, prefix, destdir, argv_list, env_out = sys.argv[1:]
    m = tomllib.loads(pathlib.Path(manifest_path).read_text())
    sgx, sysk, loader, fs = m["sgx"], m["sys"], m["loader"], m["fs"]
    worker = f"{prefix}/bin/tcworker"
    workloads = f"{prefix}/share/tcworker/workloads-sgx.json"

    # The trusted command line, inline (no file whose path would enter the
    # measurement): exactly the Makefile's list.
    argv = pathlib.Path(argv_list).read_text().splitlines()
    if loader.get("argv") != argv:
        fail(f"loader.argv {loader.get('argv')!r} is not the print-argv list {argv!r}")
    if "argv_src_file" in loader:
        fail("loader.argv_src_file must not be used (the argv is inline)")
    opts = dict(zip(argv[1::2], argv[2::2]))
    if argv[0] != worker or m["libos"]["entrypoint"] != worker:
        fail(f"argv[0] {argv[0]!r} / libos.entrypoint must both be {worker}")
    if opts.get("--bind") != "tcp://*:7777":
        fail(f"--bind {opts.get('--bind')!r}: must be the wildcard tcp://*:7777")
    threads = int(opts.get("--threads", "0"))
    if threads < 1 or not opts.get("--queue", "").isdigit() or \
            opts.get("--max-message-bytes") != "1048576":
        fail("--threads, --queue and --max-message-bytes 1048576 must be fixed in argv")
    if opts.get("--workload") != workloads:
        fail(f"--workload {opts.get('--workload')!r}, expected {workloads}")

    # Settings docs/sgx.md promises.
    for key, want in (("remote_attestation", "dcap"), ("file_check_policy", "strict"),
                      ("edmm_enable", False), ("debug", False)):
        if sgx.get(key) != want:
            fail(f"sgx.{key} is {sgx.get(key)!r}, expected {want!r}")
    if "allowed_files" in sgx:
        fail("sgx.allowed_files must not be used (strict file policy)")
    if size_bytes(sgx["enclave_size"]) > ENCLAVE_LIMIT:
        fail(f"sgx.enclave_size {sgx['enclave_size']} is over 128M")
    if sgx.get("max_threads") != threads + 8:
        fail(f"sgx.max_threads {sgx.get('max_threads')} != --threads {threads} + 8")
    if sysk.get("disallow_subprocesses") is not True:
        fail("sys.disallow_subprocesses must be true")
    # The one insecure option allowed: host eventfds (docs/sgx.md, "Speed
    # inside Gramine"); nothing else, and only as a plain true.
    insecure = re.findall(r"^\s*([\w.]*insecure__\w*)", pathlib.Path(manifest_path).read_text(),
                          re.M)
    if [i for i in insecure if i != "sys.insecure__allow_eventfd"]:
        fail(f"insecure options: {insecure}")
    if sysk.get("insecure__allow_eventfd", True) is not True:
        fail("sys.insecure__allow_eventfd must be true or absent")
    env = loader.get("env", {})
    if env.get("TCW_GRAMINE") != "1":
        fail("loader.env.TCW_GRAMINE must be \"1\" (worker/gramine.c)")

    # The keys file lives in an encrypted mount sealed by SGX.
    mounts = fs["mounts"]
    keys = opts.get("--keys-file", "")
    enc = [x for x in mounts if x.get("type") == "encrypted"]
    if len(enc) != 1 or not keys.startswith(enc[0]["path"].rstrip("/") + "/"):
        fail(f"--keys-file {keys!r} is not inside the one encrypted mount")
    elif enc[0].get("key_name") not in ("_sgx_mrenclave", "_sgx_mrsigner"):
        fail(f"encrypted mount key_name {enc[0].get('key_name')!r}")

    # Trusted files: exact, present, reachable.
    trusted = [t if isinstance(t, str) else t["uri"] for t in sgx["trusted_files"]]
    if len(set(trusted)) != len(trusted):
        fail("sgx.trusted_files has duplicates")
    runtime = mounted("/lib/libc.so.6", mounts)
    runtime_dir = os.path.dirname(runtime) if runtime else None
    host_want, glibc_want = ldd(destdir + worker)
    host_got, glibc_got, total = set(), set(), 0
    for uri in trusted:
        path = uri[len("file:"):]
        if not uri.startswith("file:/"):
            fail(f"trusted file {uri!r}: not an absolute file: URI")
            continue
        if path.startswith(prefix + "/"):
            real = destdir + path
            if mounted(path, mounts) != path:
                fail(f"{path}: no mount maps it to itself")
        elif runtime_dir and os.path.dirname(path) == runtime_dir:
            glibc_got.add(os.path.basename(path))
            continue
        else:
            host_got.add(path)
            real = path
            if mounted(path, mounts) != path:
                fail(f"{path}: no mount maps it to itself")
        if not os.path.isfile(real):
            fail(f"trusted file {path} does not exist (looked at {real})")
        else:
            total += os.path.getsize(real)
    for name, got, want in (("host", host_got, host_want), ("glibc", glibc_got, glibc_want)):
        if got != want:
            fail(f"{name} libraries differ from ldd: missing {sorted(want - got)}, "
                 f"extra {sorted(got - want)}")
    for needed in (f"file:{worker}", f"file:{workloads}"):
        if needed not in trusted:
            fail(f"{needed} is not a trusted file")
    lib_path = env.get("LD_LIBRARY_PATH", "").split(":")
    if lib_path[:1] != ["/lib"] or any(os.path.dirname(p) not in lib_path for p in host_want):
        fail(f"LD_LIBRARY_PATH {lib_path}: /lib first, then every host library folder")

    with open(env_out, "w") as f:
        for k, v in sorted(env.items()):
            f.write(f"{k}={v}\n")
    if ERRORS:
        print("\n".join("manifest: " + e for e in ERRORS), file=sys.stderr)
        sys.exit(1)
    print(f"manifest ok: {len(trusted)} trusted files ({len(host_got)} host libraries, "
          f"{len(glibc_got)} from Gramine's glibc), {total / 1048576:.1f} MiB hashed "
          f"besides Gramine's glibc; key {enc[0]['key_name']}; "
          f"max_threads {sgx['max_threads']}; enclave {sgx['enclave_size']}")


if __name__ == "__main__":
    main()
