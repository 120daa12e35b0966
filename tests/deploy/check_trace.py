#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Checks an `strace -f` log of the worker against the Gramine manifest.

Usage: check_trace.py TRACE MANIFEST PREFIX DESTDIR DATA_DIR

The worker ran natively with the manifest's trusted command line (paths under
PREFIX moved to DESTDIR, the sealed folder to DATA_DIR). Inside Gramine's
strict file policy only trusted files, the encrypted mount and Gramine's
pseudo file systems can be opened, so every file the worker opened here must
be one of those, or one of the few host files listed below whose absence the
worker and its libraries tolerate. It must also never fork or exec
(sys.disallow_subprocesses).
"""
import os
import re
import sys
import tomllib

GLIBC = {"ld-linux-x86-64.so.2", "libc.so.6", "libdl.so.2", "libm.so.6", "libmvec.so.1",
         "libpthread.so.0", "libresolv.so.2", "librt.so.1", "libanl.so.1", "libutil.so.1",
         "libnsl.so.1", "libnss_compat.so.2", "libnss_db.so.2", "libnss_dns.so.2",
         "libnss_files.so.2", "libthread_db.so.1"}
# Opened natively, refused inside the enclave, and harmless when refused.
TOLERATED = {
    "/etc/ld.so.cache": "the loader finds every library through LD_LIBRARY_PATH",
    "/etc/localtime": "log lines are UTC",
    "/etc/nsswitch.conf": "libpgm's protocol lookup falls back to its built-in number",
    "/etc/protocols": "libpgm's protocol lookup falls back to its built-in number",
}
PSEUDO = ("/proc/", "/sys/", "/dev/")


def main():
    trace, manifest, prefix, destdir, data_dir = sys.argv[1:]
    m = tomllib.load(open(manifest, "rb"))
    allowed = set()
    for t in m["sgx"]["trusted_files"]:
        path = (t if isinstance(t, str) else t["uri"])[len("file:"):]
        allowed.add(destdir + path if path.startswith(prefix + "/") else path)
    errors, opened = [], set()
    open_re = re.compile(r'^(\d+)\s+(?:openat|open|openat2)\((?:AT_FDCWD, )?"([^"]+)".*\)\s+=\s+(-?\d+)')
    unfinished_re = re.compile(r'^(\d+)\s+(?:openat|open|openat2)\((?:AT_FDCWD, )?"([^"]+)".*<unfinished')
    resumed_re = re.compile(r'^(\d+)\s+<\.\.\. (?:openat|open|openat2) resumed>.*\)\s+=\s+(-?\d+)')
    pending, execs = {}, 0
    for line in open(trace, encoding="utf-8", errors="replace"):
        mo = unfinished_re.match(line)
        if mo:
            pending[mo.group(1)] = mo.group(2)
            continue
        mo = resumed_re.match(line)
        if mo and mo.group(1) in pending:
            line = f'{mo.group(1)} openat("{pending.pop(mo.group(1))}") = {mo.group(2)}'
        if re.search(r"\b(fork|vfork)\(", line):
            errors.append(f"forks: {line.strip()}")
        if re.search(r"\bclone3?\(", line) and "CLONE_THREAD" not in line:
            errors.append(f"creates a process: {line.strip()}")
        if re.search(r"\bexecve\(", line) and "resumed" not in line:
            execs += 1
        mo = open_re.match(line)
        if not mo or int(mo.group(3)) < 0:
            continue
        path = os.path.normpath(mo.group(2))
        opened.add(path)
        name = os.path.basename(path)
        if (path in allowed or path.startswith(PSEUDO) or path in TOLERATED
                or path == data_dir or path.startswith(data_dir + "/")
                or (name in GLIBC and not path.startswith(prefix))):
            continue
        errors.append(f"opened {path}: not a trusted file, the sealed folder or a pseudo file")
    if execs != 1:
        errors.append(f"{execs} execve calls; only the worker's own start is allowed")
    if not any(p.startswith(destdir) for p in opened):
        errors.append("the trace shows no installed file opened: wrong trace?")
    if errors:
        print("\n".join("trace: " + e for e in errors), file=sys.stderr)
        sys.exit(1)
    print(f"trace ok: {len(opened)} files opened, all allowed inside the enclave")


if __name__ == "__main__":
    main()
