"""Dense matrix-multiply graphs for the FLOP/s ceiling in `npm run bench` (bench/matmul.ts
runs them in onnxruntime-node, in the same run as the model's step).

    python bench/py/matmul_models.py OUT_DIR M,K,N [M,K,N ...]

Writes per shape: matmul_f32_MxKxN.onnx (float32 A [M,K] input x constant B [K,N]) and
matmul_int8_MxKxN.onnx (MatMulInteger: uint8 A input x constant int8 B, int32 out), the
kernels the fp32 and int8 graphs spend their time in. Prints the file list as JSON.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def f32_model(m: int, k: int, n: int) -> onnx.ModelProto:
    b = numpy_helper.from_array(np.random.default_rng(0).standard_normal((k, n)).astype(np.float32), "B")
    node = helper.make_node("MatMul", ["A", "B"], ["Y"])
    graph = helper.make_graph(
        [node],
        "matmul_f32",
        [helper.make_tensor_value_info("A", TensorProto.FLOAT, [m, k])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [m, n])],
        [b],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def int8_model(m: int, k: int, n: int) -> onnx.ModelProto:
    b = numpy_helper.from_array(np.random.default_rng(0).integers(-127, 128, (k, n)).astype(np.int8), "B")
    node = helper.make_node("MatMulInteger", ["A", "B"], ["Y"])
    graph = helper.make_graph(
        [node],
        "matmul_int8",
        [helper.make_tensor_value_info("A", TensorProto.UINT8, [m, k])],
        [helper.make_tensor_value_info("Y", TensorProto.INT32, [m, n])],
        [b],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def main() -> None:
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    files = []
    for shape in sys.argv[2:]:
        m, k, n = (int(v) for v in shape.split(","))
        for precision, build in (("fp32", f32_model), ("int8", int8_model)):
            model = build(m, k, n)
            model.ir_version = 8
            path = os.path.join(out_dir, f"matmul_{precision}_{m}x{k}x{n}.onnx")
            onnx.save(model, path)
            files.append({"precision": precision, "m": m, "k": k, "n": n, "file": path})
    json.dump(files, sys.stdout)


if __name__ == "__main__":
    main()
