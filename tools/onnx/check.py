#!/usr/bin/env python3
"""Runs a `tml recap export-onnx` model in onnxruntime and compares it with `tml recap predict`.

  python3 tools/onnx/check.py --model model.onnx --inputs inputs.npz \
      --predictions predictions.tsv [--tolerance 1e-5]

inputs.npz (or .safetensors) comes from `tml recap export-inputs` on the same TFRecords predict read
(same config), so row i of both is the same example; the meta__* ids are compared to
make sure. Columns are matched by task name (the model's metadata_props "tasks").
Prints max |Δ| of probabilities, logits and calibrated probabilities; exits 1 when the
probabilities differ by more than the tolerance (or anything is missing), 0 otherwise.
The model is first validated with onnx.checker (full check, with shape inference).
Needs: pip install onnxruntime numpy onnx
"""
import argparse
import csv
import json
import struct
import sys

import numpy as np
import onnx
import onnxruntime as ort

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def read_inputs(path):
    """{name: array} of export-inputs' .npz or .safetensors file."""
    if path.endswith(".npz"):
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    return read_safetensors(path)


def read_safetensors(path):
    """{name: array} of a safetensors file (8-byte header length, JSON header, data)."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = memoryview(blob)[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        start, end = e["data_offsets"]
        out[name] = np.frombuffer(data[start:end], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
    return out


def read_predictions(path):
    """(column names, rows as dicts of floats) of predict's TSV or JSONL output."""
    if path.endswith(".jsonl"):
        with open(path) as f:
            rows = [json.loads(line) for line in f if line.strip()]
        return rows
    with open(path, newline="") as f:
        return [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f, delimiter="\t")]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--predictions", required=True)
    ap.add_argument("--tolerance", type=float, default=1e-5)
    a = ap.parse_args()

    onnx.checker.check_model(onnx.load(a.model), full_check=True)
    sess = ort.InferenceSession(a.model, providers=["CPUExecutionProvider"])
    meta = sess.get_modelmeta().custom_metadata_map
    tasks = meta["tasks"].split(",")
    tensors = read_inputs(a.inputs)
    feed = {}
    for i in sess.get_inputs():
        if i.name not in tensors:
            sys.exit(f"{a.inputs}: the model needs input {i.name!r}; the file has {sorted(tensors)}")
        feed[i.name] = tensors[i.name]
    outputs = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feed)))

    rows = read_predictions(a.predictions)
    n = len(rows)
    if n != outputs["probabilities"].shape[0]:
        sys.exit(f"{a.predictions} has {n} rows, {a.inputs} {outputs['probabilities'].shape[0]}: export both from the same files")
    for name, ids in tensors.items():
        if name.startswith("meta__") and name in rows[0]:
            theirs = np.array([int(r[name]) for r in rows], dtype=np.int64)
            if not np.array_equal(theirs, ids.astype(np.int64)):
                sys.exit(f"{name}: the rows of {a.inputs} and {a.predictions} are not the same examples")

    worst = {}
    for key, column in [("probabilities", "probability"), ("logits", "logit"), ("calibrated", "calibrated")]:
        expected = np.array([[r[f"{t}/{column}"] for t in tasks] for r in rows], dtype=np.float64)
        got = outputs[key].astype(np.float64)
        worst[key] = float(np.max(np.abs(got - expected)))
        print(f"{key:14s} max |Δ| = {worst[key]:.3e}  ({n} examples × {len(tasks)} tasks)")
    if not worst["probabilities"] <= a.tolerance:
        print(f"MISMATCH: probabilities differ by {worst['probabilities']:.3e} > {a.tolerance:g}", file=sys.stderr)
        return 1
    print(f"OK: onnxruntime {ort.__version__} matches tml recap predict within {a.tolerance:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
