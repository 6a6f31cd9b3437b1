"""Small models exercising every corner of the format, built with numlite's builder.

They use only ADD, MUL and DENSIFY, so they run in LiteRT and numlite alike, and carry every
kind of tensor the reader has to decode: per-tensor and per-channel quantization, blockwise
quantization details, sparse constants (CSR, with and without block_map), INT4/UINT4 constants,
strings, rank-0 tensors, variables, shape signatures, several subgraphs with signatures, metadata.
"""
import os

import numpy as np

from numlite.builder import ModelBuilder
from numlite.ir import Quantization

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
# A tiny Keras CNN converted by TFLiteConverter (CONV_2D, DEPTHWISE_CONV_2D, MEAN,
# FULLY_CONNECTED, SOFTMAX): a real converter-made file, see data/README.md.
SMALL_TFLITE = os.path.join(DATA, "small.tflite")

# The dense matrix behind the CSR constant below, and its stored form.
SPARSE_DENSE = np.array([[0, 1, 0, 0], [2, 0, 0, 3], [0, 0, 0, 0], [0, 0, 4, 0]], np.float32)
SPARSE_CSR = {
    "traversal_order": [0, 1], "block_map": None,
    "dim_metadata": [
        {"format": 0, "dense_size": 4, "array_segments_type": 0, "array_segments": None,
         "array_indices_type": 0, "array_indices": None},
        # array_segments as Uint16Vector (2), array_indices as Uint8Vector (3)
        {"format": 1, "dense_size": 0, "array_segments_type": 2, "array_segments": {"values": [0, 1, 3, 3, 4]},
         "array_indices_type": 3, "array_indices": {"values": [1, 0, 3, 2]}},
    ]}
# 2x2 blocks of a 4x4 matrix: block rows dense, block columns CSR, inside a block dense.
SPARSE_BLOCKED = {
    "traversal_order": [0, 1, 2, 3], "block_map": [0, 1],
    "dim_metadata": [
        {"format": 0, "dense_size": 2, "array_segments_type": 0, "array_segments": None,
         "array_indices_type": 0, "array_indices": None},
        {"format": 1, "dense_size": 0, "array_segments_type": 1, "array_segments": {"values": [0, 1, 2]},
         "array_indices_type": 1, "array_indices": {"values": [0, 1]}},
        {"format": 0, "dense_size": 2, "array_segments_type": 0, "array_segments": None,
         "array_indices_type": 0, "array_indices": None},
        {"format": 0, "dense_size": 2, "array_segments_type": 0, "array_segments": None,
         "array_indices_type": 0, "array_indices": None},
    ]}


def zoo_builder():
    """The builder of the zoo model (callers may add more before building).

    Subgraph 0, signature "main": out = (x + y) * c with x of signature (-1, 4), plus
    dense = DENSIFY(sparse constant) and a rank-0 product; subgraph 1, signature "double":
    out = inp * 2. Unconnected tensors carry the remaining tensor kinds."""
    b = ModelBuilder(description="numlite loader test zoo")
    x = b.input("x", (1, 4), shape_signature=(-1, 4))
    y = b.input("y", (1, 4))
    c = b.const("c", np.array([[1.0, -2.0, 0.5, 4.0]], np.float32))
    t = b.tensor("t", (1, 4))
    out = b.tensor("out", (1, 4))
    b.op("ADD", [x, y], [t], fused_activation_function="NONE")
    b.op("MUL", [t, c], [out], fused_activation_function="RELU")
    sparse = b.const("sparse_csr", SPARSE_DENSE[SPARSE_DENSE != 0])
    b.sg.tensors[sparse].shape = SPARSE_DENSE.shape
    b.sg.tensors[sparse].sparsity = SPARSE_CSR
    # LiteRT's DENSIFY renames its output "Densify_output" when it prepares; using that name
    # keeps tensor details comparable before and after allocate_tensors().
    dense = b.tensor("Densify_output", SPARSE_DENSE.shape)
    b.op("DENSIFY", [sparse], [dense])
    s = b.input("s", (), "INT32")
    k = b.const("k", np.int32(7))
    sk = b.tensor("s_times_k", (), "INT32")
    b.op("MUL", [s, k], [sk])
    b.output(out, dense, sk)
    b.const("q_per_tensor", np.arange(-3, 3, dtype=np.int8).reshape(2, 3), quantization=(0.25, -1))
    b.const("q_per_channel", np.arange(6, dtype=np.int8).reshape(2, 3),
            quantization=([0.5, 0.25, 0.125], [0, 0, 0], 1))
    b.const("q_axis0_zps", np.arange(6, dtype=np.uint8).reshape(2, 3), quantization=([0.5, 0.75], [3, 7], 0))
    b.tensor("q_activation", (1, 2, 2), "INT8", quantization=(0.05, 12))
    b.tensor("q_int16", (3,), "INT16", quantization=(1e-3, 0))
    b.const("int4", np.array([1, -2, 3, -8, 7], np.int8), dtype="INT4")
    b.const("uint4", np.array([[0, 15, 9]], np.uint8), dtype="UINT4")
    b.const("strings", np.array([b"ab", b"", "\u00e9t\u00e9".encode()], dtype=object), dtype="STRING")
    b.const("f16", np.array([1.5, -2.0], np.float16))
    b.const("i64", np.array([2 ** 40, -1], np.int64))
    b.const("flags", np.array([True, False, True]))
    blocked = b.const("sparse_blocked", np.arange(1, 9, dtype=np.float32))
    b.sg.tensors[blocked].shape = (4, 4)
    b.sg.tensors[blocked].sparsity = SPARSE_BLOCKED
    scales = b.const("bw_scales", np.array([[0.5, 0.25], [1.0, 2.0]], np.float16))
    zps = b.const("bw_zero_points", np.array([[1, -1], [0, 2]], np.int32))
    bw = b.const("blockwise", np.arange(-8, 8, dtype=np.int8).reshape(2, 8), dtype="INT4")
    q = Quantization(np.zeros(0, np.float32), np.zeros(0, np.int64), 0)
    q.details = {"type": "BlockwiseQuantization", "scales": scales, "zero_points": zps, "block_size": 4,
                 "block_shape": None}
    b.sg.tensors[bw].quantization = q
    b.tensor("unused", (2, 2))
    b.signature("main", {"x": x, "y": y, "s": s}, {"out": out, "dense": dense, "s_times_k": sk})
    sb = b.subgraph("double")
    inp = sb.input("inp", (3,), shape_signature=(-1,))
    two = sb.const("two", np.float32(2))
    dbl = sb.tensor("doubled", (3,))
    sb.op("MUL", [inp, two], [dbl])
    sb.output(dbl)
    b.signature("double", {"inp": inp}, {"out": dbl}, subgraph_index=1)
    b.metadata("min_runtime_version", b"1.5.0\0\0")
    b.metadata("numlite_test", bytes(range(256)))
    return b


def zoo_bytes(external_buffers=False):
    from numlite.schema import model_to_bytes
    return model_to_bytes(zoo_builder().build(), external_buffers=external_buffers)


def variable_bytes(dtype="FLOAT32"):
    """out = x + state, where ``state`` is a variable tensor (reset by reset_all_variables)."""
    b = ModelBuilder()
    x = b.input("x", (1, 3), dtype)
    v = b.tensor("state", (1, 3), dtype, is_variable=True)
    o = b.tensor("out", (1, 3), dtype)
    b.op("ADD", [x, v], [o])
    b.output(o)
    return b.to_bytes()


def small_bytes():
    with open(SMALL_TFLITE, "rb") as f:
        return f.read()
