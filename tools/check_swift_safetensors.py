#!/usr/bin/env python3
"""Check that a safetensors file written by SwiftTML reads back in Python.

Usage:
    python3 tools/check_swift_safetensors.py [PATH]

PATH defaults to Tests/Fixtures/foundation/swift_written.safetensors (relative
to the repository root). The file must hold exactly these tensors and metadata:

    a  F32  [2, 3]  [0, 0.5, 1.0, 1.5, 2.0, 2.5]
    b  I64  [3]     [1, -2, 3000000000]
    c  F32  []      3.25
    d  F16  [2]     [1.5, -0.25]
    metadata        {"format": "pt", "writer": "SwiftTML"}

Exit status: 0 and "ok: <path>" when everything matches; 1 with a message when
anything differs or the file cannot be read; 0 and "skip: <reason>" when numpy
or safetensors is not installed or the file does not exist, so a test harness
can call it on machines without the Python dependencies. Needs no torch.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PATH = ROOT / "Tests" / "Fixtures" / "foundation" / "swift_written.safetensors"

EXPECTED_METADATA = {"format": "pt", "writer": "SwiftTML"}


def fail(msg: str) -> int:
    print(f"FAIL: {msg}", file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    if len(argv) > 2:
        print("usage: check_swift_safetensors.py [PATH]", file=sys.stderr)
        return 2
    path = Path(argv[1]) if len(argv) == 2 else DEFAULT_PATH

    try:
        import numpy as np
        from safetensors import safe_open
        from safetensors.numpy import load_file
    except ImportError as e:  # pragma: no cover - depends on the environment
        print(f"skip: python dependencies missing ({e})")
        return 0
    if not path.is_file():
        print(f"skip: {path} does not exist")
        return 0

    expected = {
        "a": (np.float32, (2, 3), np.array([0, 0.5, 1.0, 1.5, 2.0, 2.5], dtype=np.float32).reshape(2, 3)),
        "b": (np.int64, (3,), np.array([1, -2, 3000000000], dtype=np.int64)),
        "c": (np.float32, (), np.array(3.25, dtype=np.float32)),
        "d": (np.float16, (2,), np.array([1.5, -0.25], dtype=np.float16)),
    }

    try:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="numpy") as f:
            metadata = f.metadata()
    except Exception as e:  # noqa: BLE001 - report any parse error as a failure
        return fail(f"{path}: could not be read by safetensors: {type(e).__name__}: {e}")

    if set(tensors) != set(expected):
        return fail(f"{path}: tensor names {sorted(tensors)} != expected {sorted(expected)}")

    for name, (dtype, shape, values) in expected.items():
        t = tensors[name]
        if t.dtype != np.dtype(dtype):
            return fail(f"{path}: tensor {name!r} has dtype {t.dtype}, expected {np.dtype(dtype)}")
        if tuple(t.shape) != shape:
            return fail(f"{path}: tensor {name!r} has shape {list(t.shape)}, expected {list(shape)}")
        if not np.array_equal(t, values):
            return fail(f"{path}: tensor {name!r} has values {t.tolist()}, expected {values.tolist()}")

    if metadata != EXPECTED_METADATA:
        return fail(f"{path}: metadata {metadata!r} != expected {EXPECTED_METADATA!r}")

    print(f"ok: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
