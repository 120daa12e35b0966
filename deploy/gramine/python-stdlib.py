#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Packs the Python standard library into one zip for the Python enclave.

Usage: python-stdlib.py STDLIB_DIR ZIP DYNLOAD_LIST

  STDLIB_DIR    the interpreter's standard library (/usr/lib/python3.11);
                run this script with that same interpreter, whose bytecode
                format the embedded one shares
  ZIP           written: every module byte-compiled (.pyc only), where the
                embedded interpreter looks first (/usr/lib/python311.zip
                inside the enclave, deploy/gramine)
  DYNLOAD_LIST  written: the lib-dynload extension modules the enclave
                trusts, one file name per line (KEPT_DYNLOAD below)

Reproducible: entries sorted by name, every timestamp SOURCE_DATE_EPOCH
(1980-01-01 when unset), fixed permissions, unchecked-hash .pyc files (no
source timestamp or size inside), code objects named by their path under
STDLIB_DIR, deflate level 9. The same interpreter package gives the same
bytes in any folder on any day.
"""
import importlib.machinery
import importlib.util
import os
import sys
import time
import zipfile
from importlib import _bootstrap_external

# Never needed by a workload host inside an enclave: test suites, GUI and
# IDE code, installers and build tools, and modules whose C part is not
# kept (below). A workload importing one of these gets ModuleNotFoundError.
EXCLUDED_DIRS = {
    "test",                   # CPython's own test suite (the largest part)
    "idlelib",                # the IDLE editor
    "tkinter", "turtledemo",  # Tk GUI (no _tkinter in the enclave)
    "ensurepip", "venv",      # installing packages, virtual environments
    "distutils", "lib2to3",   # building extensions, Python 2 conversion
    "pydoc_data",             # pydoc's HTML topics
    "curses",                 # terminal UI (no _curses)
    "dbm",                    # key-value files (no _dbm/_gdbm)
    "sqlite3",                # no _sqlite3
    "multiprocessing",        # subprocesses are disallowed in the enclave
    "site-packages", "dist-packages", "lib-dynload", "__pycache__",
}
EXCLUDED_FILES = {
    "turtle.py",          # Tk turtle graphics
    "sitecustomize.py",   # Debian's hook for site, which the enclave skips
    "__phello__.foo.py",  # frozen-module test data
}
# Sub-folders of kept packages that hold only tests.
EXCLUDED_SUBDIRS = {"test", "tests", "idle_test"}
# The C extension modules of lib-dynload the enclave trusts (the rest are
# built into Debian's libpython, e.g. _struct, math, zlib, binascii, _sha256).
KEPT_DYNLOAD = [
    "_contextvars",  # contextvars (decimal, asyncio)
    "_decimal",      # decimal (libmpdec)
    "_hashlib",      # hashlib's OpenSSL digests, hmac, pbkdf2
    "_json",         # json's C speed-ups
    "_queue",        # queue.SimpleQueue
    "_typing",       # typing
]


def included(rel):
    """True when the .py file rel (relative to STDLIB_DIR) goes in the zip."""
    parts = rel.split(os.sep)
    if parts[0] in EXCLUDED_DIRS or parts[-1] in EXCLUDED_FILES:
        return False
    if any(p in EXCLUDED_SUBDIRS or p.startswith(".") for p in parts[1:-1]):
        return False
    if parts[0].startswith("config-"):
        return False
    return rel.endswith(".py") and not parts[-1].startswith(".")


def pyc_bytes(path, shown):
    """An unchecked-hash .pyc of the source at path, its code named shown."""
    with open(path, "rb") as f:
        source = f.read()
    code = compile(source, shown, "exec", dont_inherit=True, optimize=0)
    data = _bootstrap_external._code_to_hash_pyc(code, importlib.util.source_hash(source),
                                                 checked=False)
    return bytes(data)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    stdlib, out_zip, out_list = sys.argv[1:]
    stdlib = os.path.normpath(stdlib)
    want = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    if os.path.basename(stdlib) != want:
        sys.exit(f"python-stdlib.py: {stdlib} is not the standard library of this "
                 f"interpreter ({want}): run the script with the embedded Python's version")
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))
    date = time.gmtime(max(epoch, 315532800))[:6]
    names = []
    for root, dirs, files in os.walk(stdlib):
        dirs.sort()
        for name in files:
            rel = os.path.relpath(os.path.join(root, name), stdlib)
            if included(rel):
                names.append(rel)
    names.sort()
    tmp = out_zip + ".tmp"
    count = 0
    with zipfile.ZipFile(tmp, "w") as z:
        for rel in names:
            data = pyc_bytes(os.path.join(stdlib, rel), os.path.join(stdlib, rel))
            info = zipfile.ZipInfo(rel[:-3] + ".pyc", date_time=date)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            z.writestr(info, data, compresslevel=9)
            count += 1
    os.replace(tmp, out_zip)
    dynload = os.path.join(stdlib, "lib-dynload")
    kept = []
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    for mod in KEPT_DYNLOAD:
        name = mod + suffix
        if not os.path.isfile(os.path.join(dynload, name)):
            sys.exit(f"python-stdlib.py: {dynload}/{name} not found")
        kept.append(name)
    with open(out_list + ".tmp", "w") as f:
        f.write("".join(n + "\n" for n in kept))
    os.replace(out_list + ".tmp", out_list)
    print(f"python-stdlib.py: {count} modules, {os.path.getsize(out_zip)} bytes in {out_zip}; "
          f"{len(kept)} lib-dynload modules kept")


if __name__ == "__main__":
    main()
