#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""sgxquote.py - synthetic SGX evidence for the attestation tests, written
independently of libtcw from the layouts of protocol.md §10.

  sgxquote.py targetinfo OUT
      a 512-byte TARGETINFO whose MRENCLAVE (first 32 bytes) is fixed
  sgxquote.py make OUT --version V [--key-type K] [--tee T]
          (--signup FILE --layout 1|2 | --report-data HEX)
          [--mrenclave HEX] [--mrsigner HEX] [--isvprodid N] [--isvsvn N] [--debug]
      a quote: header, SGX report body at 48, signature length at 432,
      dummy signature data at 436; REPORTDATA binds the signup's keys
  sgxquote.py fetch URL OUT
      the worker's raw signup reply, saved to OUT
  sgxquote.py check URL ATTDIR --layout 1|2 [--no-quote]
      the worker's signup against ATTDIR: mrenclave = hex(my_target_info[:32]),
      quote = base64(ATTDIR/quote) (or "" with --no-quote), and
      ATTDIR/user_report_data = the expected 64 bytes for the signup keys
  sgxquote.py report-data SIGNUP --layout 1|2
      prints the expected REPORTDATA hex
"""

import argparse
import base64
import hashlib
import json
import struct
import sys

import zmq

MRENCLAVE = bytes(range(0x40, 0x60))
MRSIGNER = bytes(range(0x80, 0xA0))
SIG_SIZE = 1000


def report_data(signup, layout):
    vk = hashlib.sha256(signup["verifying_key"].encode("utf-8")).digest()
    if layout == 1:
        return vk + bytes(32)
    return vk + hashlib.sha256(signup["encryption_key"].encode("utf-8")).digest()


def body(a, rd):
    """The 384-byte SGX REPORT BODY."""
    b = bytearray(384)
    b[0:16] = b"\x0c" * 16                       # CPUSVN
    b[48:64] = struct.pack("<QQ", 0x05 | (0x02 if a.debug else 0), 0x03)  # ATTRIBUTES
    b[64:96] = bytes.fromhex(a.mrenclave) if a.mrenclave else MRENCLAVE
    b[128:160] = bytes.fromhex(a.mrsigner) if a.mrsigner else MRSIGNER
    struct.pack_into("<HH", b, 256, a.isvprodid, a.isvsvn)
    b[320:384] = rd
    return bytes(b)


def cmd_make(a):
    if a.signup:
        with open(a.signup, encoding="utf-8") as f:
            rd = report_data(json.load(f), a.layout)
    else:
        rd = bytes.fromhex(a.report_data)
    assert len(rd) == 64
    if a.version in (1, 2):
        # EPID: sign_type, epid_group_id, qe_svn, pce_svn, xeid, basename
        header = struct.pack("<HHIHHI", a.version, a.key_type if a.key_type is not None else 1,
                             0x0B2A, 1, 2, 0) + b"\x11" * 32
    else:
        # DCAP: attestation key type, TEE type, qe_svn, pce_svn, QE vendor id, user data
        header = struct.pack("<HHIHH", a.version, a.key_type if a.key_type is not None else 2,
                             a.tee, 8, 13) + bytes.fromhex("939a7233f79c4ca9940a0db3957f0607") \
            + b"\x00" * 20
    assert len(header) == 48
    sig = bytes((i * 31) & 0xFF for i in range(SIG_SIZE))
    quote = header + body(a, rd) + struct.pack("<I", len(sig)) + sig
    assert len(quote) == 436 + SIG_SIZE
    with open(a.out, "wb") as f:
        f.write(quote)


def cmd_targetinfo(a):
    ti = MRENCLAVE + bytes((i * 3) & 0xFF for i in range(512 - 32))
    with open(a.out, "wb") as f:
        f.write(ti)


def signup_text(url):
    ctx = zmq.Context()
    s = ctx.socket(zmq.REQ)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, 120000)
    s.connect(url)
    s.send_string(json.dumps({"jsonrpc": "2.0", "id": 1,
                              "method": "ProcessWorkerSignup", "params": None}))
    text = s.recv().decode("utf-8")
    s.close()
    ctx.term()
    return text


def cmd_fetch(a):
    with open(a.out, "w", encoding="utf-8") as f:
        f.write(signup_text(a.url))


def cmd_check(a):
    su = json.loads(signup_text(a.url))
    with open(a.attdir + "/my_target_info", "rb") as f:
        want_mre = f.read()[:32].hex()
    if a.no_quote:
        want_quote = ""
    else:
        with open(a.attdir + "/quote", "rb") as f:
            want_quote = base64.b64encode(f.read()).decode("ascii")
    with open(a.attdir + "/user_report_data", "rb") as f:
        rd = f.read()
    errors = []
    if su["mrenclave"] != want_mre:
        errors.append("mrenclave %r, expected %r" % (su["mrenclave"], want_mre))
    if su["quote"] != want_quote:
        errors.append("quote differs from base64 of the quote file (%d vs %d chars)"
                      % (len(su["quote"]), len(want_quote)))
    if rd != report_data(su, a.layout):
        errors.append("user_report_data %s, expected %s"
                      % (rd.hex(), report_data(su, a.layout).hex()))
    for e in errors:
        print("check failed: " + e, file=sys.stderr)
    return 1 if errors else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("make")
    p.add_argument("out")
    p.add_argument("--version", type=int, required=True)
    p.add_argument("--key-type", type=int)
    p.add_argument("--tee", type=lambda s: int(s, 0), default=0)
    p.add_argument("--signup")
    p.add_argument("--layout", type=int, default=1)
    p.add_argument("--report-data")
    p.add_argument("--mrenclave")
    p.add_argument("--mrsigner")
    p.add_argument("--isvprodid", type=int, default=0x1234)
    p.add_argument("--isvsvn", type=int, default=7)
    p.add_argument("--debug", action="store_true")
    p = sub.add_parser("targetinfo")
    p.add_argument("out")
    p = sub.add_parser("fetch")
    p.add_argument("url")
    p.add_argument("out")
    p = sub.add_parser("check")
    p.add_argument("url")
    p.add_argument("attdir")
    p.add_argument("--layout", type=int, default=1)
    p.add_argument("--no-quote", action="store_true")
    p = sub.add_parser("report-data")
    p.add_argument("signup")
    p.add_argument("--layout", type=int, default=1)
    a = ap.parse_args()
    if a.cmd == "make":
        cmd_make(a)
    elif a.cmd == "targetinfo":
        cmd_targetinfo(a)
    elif a.cmd == "fetch":
        cmd_fetch(a)
    elif a.cmd == "check":
        return cmd_check(a)
    else:
        with open(a.signup, encoding="utf-8") as f:
            print(report_data(json.load(f), a.layout).hex())
    return 0


if __name__ == "__main__":
    sys.exit(main())
