#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""make_corpus.py - writes the seed corpus of the fuzz targets into
tests/fuzz/corpus/<target>/ from the request vectors in tests/data and
hand-made inputs. Deterministic: rerunning it rewrites the same files (named
by the SHA-1 of their content, like libFuzzer's own corpus files); files
that are not seeds (saved crash reproducers, crash-*) are left alone.

Usage: tests/fuzz/make_corpus.py
"""

import base64
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
CORPUS = os.path.join(HERE, "corpus")
SEP = b"\xde\xad"


def write_all(target, inputs):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    for name in os.listdir(d):
        if name.startswith("seed-"):
            os.remove(os.path.join(d, name))
    for data in inputs:
        if isinstance(data, str):
            data = data.encode("utf-8")
        name = "seed-" + hashlib.sha1(data).hexdigest()
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print("%s: %d seeds" % (target, len(inputs)))


def envelope(params, method="ProcessWorkOrder", inner_id="1", as_string=True):
    inner = {"jsonrpc": "2.0", "method": "WorkOrderSubmit", "id": inner_id,
             "params": params}
    return json.dumps({"jsonrpc": "2.0", "id": 42, "method": method,
                       "params": json.dumps(inner) if as_string else inner})


def frame_seeds():
    vectors = json.load(open(os.path.join(DATA, "workorders.json")))
    out = ['{"jsonrpc": "2.0", "id": 1, "method": "ProcessWorkerSignup", "params": null}']
    for v in vectors["requests"]:
        p = v["request_params"]
        out.append(envelope(p))
        # In libFuzzer builds a modulus-sized "tcw-fuzz" || key || zeros
        # is taken as the raw key (lib/keys.c), so this variant reaches the
        # workload without RSA.
        size = 256  # the fuzz worker key is keys.json's RSA-2048 key
        raw_key = b"tcw-fuzz" + bytes.fromhex(v["session_key_hex"])
        raw = dict(p, encryptedSessionKey=raw_key.ljust(size, b"\0").hex())
        out.append(envelope(raw))
        out.append(envelope(raw, inner_id=7, as_string=False))
    p = vectors["requests"][0]["request_params"]
    broken = [
        "", " ", "{}", "[]", "null", "1", '"x"', "{", '{"method":1,"params":2}',
        '{"method":"ProcessWorkOrder"}', '{"method":"Nope","params":null}',
        '{"method":"ProcessWorkOrder","params":5}',
        '{"method":"ProcessWorkOrder","params":"[1]"}',
        '{"method":"ProcessWorkOrder","params":"{\\"id\\":3,\\"method\\":\\"X\\"}"}',
        '{"method":"ProcessWorkOrder","params":"{\\"id\\":3}"}',
        '{"method":"ProcessWorkOrder","params":"{\\"params\\":{}}"}',
        "[" * 100 + "]" * 100, '{"a":' * 70 + "1" + "}" * 70,
        '{"method":"ProcessWorkerSignup","params":null} x',
        '{"method":"ProcessWorkerSignup","params":NaN}',
        '{"method":"Process\\u0000WorkerSignup","params":null}',
        envelope(dict(p, inData=[])), envelope(dict(p, inData={})),
        envelope(dict(p, workOrderId="xyz")), envelope(dict(p, sessionKeyIv="00")),
        envelope(dict(p, payloadFormat="XML")), envelope(dict(p, index=1.5)),
        envelope(dict(p, inData=[dict(p["inData"][0], index=-3, iv="zz")])),
        envelope(dict(p, inData=[dict(p["inData"][0], data="!!!")])),
        envelope(dict(p, inData=[dict(p["inData"][0], encryptedDataEncryptionKey="-")])),
        envelope(dict(p, requesterSignature="AAAA")),
        envelope(dict(p, outData=[{"index": 0, "encryptedDataEncryptionKey": "-"}])),
    ]
    out += broken
    out.append(b'{"method":"ProcessWorkerSignup","params":"\xff\xfe"}')
    out.append(b'{"method":"ProcessWorkerSignup","params":"\xc0\xaf"}')
    out.append(b'{"method":"ProcessWorkerSignup","params":"\xed\xa0\x80"}')
    return out


def item(ctl, index, plain=b""):
    return bytes([ctl, index]) + plain


def wo(flags, wl, items, wo_id=b"\x01\x02\x03", nonce=b"nonce", name=b""):
    return bytes([flags, wl]) + SEP.join([wo_id, nonce, name] + items)


def workorder_seeds():
    out = []
    # every key mode as inData, with and without dataHash, and as template
    for mode in range(8):
        out.append(wo(0, 0, [item(mode, 0, b"alpha")]))
        out.append(wo(0, 0, [item(mode | 0x10, 0, b"beta"), item(mode | 0x08, 3)]))
        out.append(wo(0x01, 1, [item(mode, 1, b"gamma"), item(0, 0, b"delta")]))
    # each request flag on its own, then a few combinations
    for flag in range(8):
        out.append(wo(1 << flag, 0, [item(0, 0, b"Krsna"), item(4 | 0x08, 0)]))
    out.append(wo(0x02 | 0x40, 4, [item(2, 0, b"Rama")]))
    out.append(wo(0x02 | 0x04, 4, [item(2, 0, b"Rama")]))
    out.append(wo(0x81, 0, [item(6, 5, b"x"), item(5, 2, b"y"), item(6 | 0x08, 9)]))
    # workloads: echo, concat, none, fail, hello, fib, named, echo
    for wl in range(8):
        out.append(wo(0, wl, [item(0, 0, b"15"), item(3, 1, b"plain")], name=b"echo"))
    out.append(wo(0, 5, [item(4, 0, b"90")]))
    out.append(wo(0, 5, [item(0, 0, b"99999999999999999999")]))
    out.append(wo(0, 6, [item(0, 0, b"x")], name=b"no-such-workload"))
    # integrity failures: wrong dataHash, flipped ciphertext, empty data
    out.append(wo(0, 0, [item(0x20, 0, b"tampered")]))
    out.append(wo(0, 0, [item(0x40 | 4, 0, b"tampered")]))
    out.append(wo(0, 0, [item(0x80 | 4, 0, b"ignored"), item(0x90, 1)]))
    # many items, many templates, unsorted indices
    out.append(wo(0, 0, [item(i % 8, 20 - i, bytes([65 + i])) for i in range(20)]))
    out.append(wo(0, 0, [item(0, 0, b"a")] + [item(0x08 | (i % 8), i) for i in range(10)]))
    return out


def codec_seeds():
    vectors = json.load(open(os.path.join(DATA, "workorders.json")))
    out = ["", "00", "0x", "0xAbCd", "0X00ff", "abc", "zz", "Zm9v", "Zm8=", "Zg==",
           "Zh==", "Zm9=", "====", "A===", "AB=C", "Zm9vYmFy", "Zm9vYg", "+/+/",
           "-_-_", "Zm 9v", "\u00e9t\u00e9", "\U0001f600"]
    out += [b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe0\x80\x80",
            b"\xf0\x80\x80\x80", b"\xef\xbf\xbf", b"\xf4\x8f\xbf\xbf", b"\xc2", bytes(range(256))]
    p = vectors["requests"][0]["request_params"]
    out += [p["encryptedRequestHash"], p["inData"][0]["data"], p["workOrderId"].upper()]
    out.append(base64.b64encode(bytes(range(100))).decode())
    # JSON texts for the simdjson/json-c comparison (512 bytes and up take
    # the fast path)
    out += [f for f in frame_seeds() if isinstance(f, str) and f.startswith("{")][:12]
    out += ['{"a":"' + "x" * 600 + '","b":[1,2.5,-0.0,1e3,"\\u00e9"],"c":null}',
            '[' + ",".join(["1.0"] * 200) + ']', '"' + "\\ud83d\\ude00" * 60 + '"']
    return out


def main():
    write_all("fuzz_frame", frame_seeds())
    write_all("fuzz_workorder", workorder_seeds())
    write_all("fuzz_codec", codec_seeds())
    return 0


if __name__ == "__main__":
    sys.exit(main())
