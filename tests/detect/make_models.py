# SPDX-License-Identifier: Apache-2.0
"""make_models.py - builds, at test time, the tiny ONNX detectors and images
the DNN tests use, and prints the boxes tcdetect must decode from them.

Both networks compute the mean of each input channel (GlobalAveragePool),
then one fully connected layer (Gemm) whose bias holds fixed boxes and whose
weights make every score proportional to the mean red value. With scale
1/255, a white image therefore gives the scores below and a black image
gives zero scores, i.e. no detections: the output really depends on the
pixels that went through the network.

Usage: make_models.py OUTDIR   (writes ssd.onnx, yolo.onnx, labels.txt,
white.png, black.png and expected.json)
"""
import json
import os
import struct
import sys
import zlib

import onnx
from onnx import TensorProto, helper

IMAGE_W, IMAGE_H = 200, 100  # the test images; the networks take 64x64

# SSD rows: [image, class, score, x1, y1, x2, y2], corners in 0..1.
SSD_ROWS = [
    [0, 1, 0.90, 0.10, 0.20, 0.50, 0.60],  # person
    [0, 2, 0.80, 0.60, 0.10, 0.90, 0.40],  # cat
    [0, 1, 0.30, 0.00, 0.00, 1.00, 1.00],  # below min_confidence 0.5
    [0, 7, 0.70, 0.25, 0.50, 0.75, 1.00],  # class without a label line
]
# YOLO rows: [cx, cy, w, h, objectness, score(person), score(cat)], 0..1.
YOLO_ROWS = [
    [0.30, 0.40, 0.40, 0.40, 0.95, 0.90, 0.10],  # person, 0.855
    [0.31, 0.41, 0.40, 0.40, 0.90, 0.80, 0.20],  # person, overlaps: NMS drops it
    [0.75, 0.25, 0.30, 0.30, 0.80, 0.05, 0.75],  # cat, 0.6
    [0.50, 0.50, 0.20, 0.20, 0.40, 0.90, 0.10],  # 0.36: below 0.5
]
LABELS = ["background", "person", "cat"]


def box(label, score, x1, y1, x2, y2):
    """The box tcdetect reports: corners rounded to the nearest pixel."""
    l, t = round(x1 * IMAGE_W), round(y1 * IMAGE_H)
    r, b = round(x2 * IMAGE_W), round(y2 * IMAGE_H)
    return {"label": label, "confidence": round(score, 4), "x": l, "y": t,
            "width": r - l, "height": b - t}


def expected():
    ssd = [box(LABELS[int(r[1])] if int(r[1]) < len(LABELS) else "class-%d" % r[1],
               r[2], *r[3:]) for r in SSD_ROWS if r[2] >= 0.5]
    yolo = []
    for cx, cy, w, h, obj, *scores in YOLO_ROWS:
        cls = max(range(len(scores)), key=lambda i: scores[i])
        score = obj * scores[cls]
        if score >= 0.5:
            # YOLO class ids count from 0 (no background): labels file yolo.txt
            yolo.append(box(["person", "cat"][cls], score, cx - w / 2, cy - h / 2,
                            cx + w / 2, cy + h / 2))
    yolo = yolo[:1] + yolo[2:]  # the overlapping second person box is suppressed
    ssd.sort(key=lambda b: -b["confidence"])
    yolo.sort(key=lambda b: -b["confidence"])
    return {"ssd": ssd, "yolo": yolo}


def model(rows, score_cols, out_shape, name):
    """GlobalAveragePool -> Flatten -> Gemm -> Reshape(out_shape)."""
    n = sum(len(r) for r in rows)
    weights = [0.0] * (n * 3)  # Gemm B is [n, 3] (transB): column 0 = red
    bias = []
    k = 0
    for r in rows:
        for j, v in enumerate(r):
            if j in score_cols:
                weights[k * 3 + 0] = float(v)  # score = v * mean(red)
                bias.append(0.0)
            else:
                bias.append(float(v))
            k += 1
    nodes = [
        helper.make_node("GlobalAveragePool", ["data"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "W", "B"], ["dense"], transB=1),
        helper.make_node("Reshape", ["dense", "shape"], ["detections"]),
    ]
    inits = [
        helper.make_tensor("W", TensorProto.FLOAT, [n, 3], weights),
        helper.make_tensor("B", TensorProto.FLOAT, [n], bias),
        helper.make_tensor("shape", TensorProto.INT64, [len(out_shape)], out_shape),
    ]
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("detections", TensorProto.FLOAT, out_shape)],
        inits)
    m = helper.make_model(graph, producer_name="tcworker-tests",
                          opset_imports=[helper.make_opsetid("", 11)])
    m.ir_version = 6
    onnx.checker.check_model(m)
    return m


def png(path, w, h, rgb):
    """Writes a solid-colour 8-bit RGB PNG."""
    raw = b"".join(b"\x00" + bytes(rgb) * w for _ in range(h))

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw)))
        f.write(chunk(b"IEND", b""))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    onnx.save(model(SSD_ROWS, {2}, [1, 1, len(SSD_ROWS), 7], "tiny-ssd"),
              os.path.join(out, "ssd.onnx"))
    onnx.save(model(YOLO_ROWS, {4}, [1, len(YOLO_ROWS), 7], "tiny-yolo"),
              os.path.join(out, "yolo.onnx"))
    with open(os.path.join(out, "labels.txt"), "w") as f:
        f.write("\n".join(LABELS) + "\n")
    with open(os.path.join(out, "yolo.txt"), "w") as f:
        f.write("person\ncat\n")
    png(os.path.join(out, "white.png"), IMAGE_W, IMAGE_H, (255, 255, 255))
    png(os.path.join(out, "black.png"), IMAGE_W, IMAGE_H, (0, 0, 0))
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected(), f, indent=1)


if __name__ == "__main__":
    main()
