#!/usr/bin/env python3
"""Writes python.safetensors, the fixture SafeTensorsTests reads to check that tb reads
what the reference implementation writes. Run once by hand (needs numpy and safetensors:
`pip install numpy safetensors`); the tests themselves never need Python.

Every value is a function of its index, so the test recomputes it exactly:
  weight    F32  [3, 4]   (i - 5) / 4           (exact in binary)
  half      F16  [5]      i * 0.5 - 1           (exact in half precision)
  double    F64  [2, 2]   i / 3 - 0.25          (checked as Float(double))
  steps     I64  [4]      i * 1_000_000_007 - 2_000_000_000 (needs all 64 bits)
  index32   I32  [3]      -i * 7
  small     I16  [3]      -300 + 300 * i
  signed8   I8   [4]      i * 50 - 100
  pixels    U8   [2, 3, 2] (i * 37) % 256
  mask      BOOL [5]      i % 2 == 0
  scalar    F32  []       3.25   (a 0-d tensor)
  empty     F32  [0, 3]   (a tensor with a zero dimension)
and __metadata__ {"arch": "r3d18:w16", "classes": "[\"a b\", \"c,d\"]", "step": "1200"}.
"""
import os
import numpy as np
from safetensors.numpy import save_file

def tensors():
    def idx(shape):
        return np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.int64).reshape(shape)
    return {
        "weight": ((idx((3, 4)) - 5) / 4).astype(np.float32),
        "half": (idx((5,)) * 0.5 - 1).astype(np.float16),
        "double": (idx((2, 2)) / 3 - 0.25).astype(np.float64),
        "steps": idx((4,)) * 1_000_000_007 - 2_000_000_000,
        "index32": (-idx((3,)) * 7).astype(np.int32),
        "small": (-300 + 300 * idx((3,))).astype(np.int16),
        "signed8": (idx((4,)) * 50 - 100).astype(np.int8),
        "pixels": ((idx((2, 3, 2)) * 37) % 256).astype(np.uint8),
        "mask": idx((5,)) % 2 == 0,
        "scalar": np.array(3.25, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }

if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "python.safetensors")
    metadata = {"arch": "r3d18:w16", "classes": '["a b", "c,d"]', "step": "1200"}
    save_file(tensors(), out, metadata=metadata)
    print(out, os.path.getsize(out), "bytes")
