"""Differential tests for MEAN, SUM, REDUCE_PROD/MAX/MIN/ANY/ALL, ARG_MAX and ARG_MIN on
float / integer / bool tensors (quantized reductions live with the quantized kernels' tests)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import numlite
from harness import Const, In, check_op, run_numlite, single_op_model
from numlite.ir import Operator, Tensor
from numlite.kernels.contract import Node
from numlite.kernels.reduce import Mean
from numlite.runtime.executor import TensorSpec
from test_shape import SETTINGS, expect_both_fail, rand, runtime_or_const, seeded

OPS = {
    "MEAN": [np.float32, np.int32, np.int64],
    "SUM": [np.float32, np.int32, np.int64, np.bool_],
    "REDUCE_PROD": [np.float32, np.int32, np.int64, np.bool_],
    "REDUCE_MAX": [np.float32, np.int32, np.int64, np.bool_],
    "REDUCE_MIN": [np.float32, np.int32, np.int64, np.bool_],
    "REDUCE_ANY": [np.bool_],
    "REDUCE_ALL": [np.bool_],
}


@pytest.mark.parametrize("opcode", sorted(OPS))
@SETTINGS
@given(data=st.data())
def test_reduce(opcode, data):
    rng = seeded(data)
    dtype = data.draw(st.sampled_from(OPS[opcode]))
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    rank = len(shape)
    axes = data.draw(st.lists(st.integers(-rank, rank - 1), min_size=1, max_size=rank + 1))
    keep = data.draw(st.booleans())
    runtime = data.draw(st.booleans())
    if runtime and not keep and len({a % rank for a in axes}) == rank:
        keep = True  # (a dynamic 0-d output is mishandled by the executor, reported)
    if opcode == "REDUCE_PROD" and dtype != np.float32:
        x = rng.integers(-3, 4, shape).astype(dtype)
    elif opcode == "REDUCE_PROD":
        x = rng.uniform(-1.5, 1.5, shape).astype(dtype)
    else:
        x = rand(rng, shape, dtype)
    axis_t = np.array(axes, np.int32)
    check_op(opcode, [x, runtime_or_const(axis_t, runtime)], [dtype], keep_dims=keep)


def test_integer_mean_truncates_toward_zero():
    x = np.array([[-7, 0], [5, 2], [-1, 0]], np.int32)
    got = check_op("MEAN", [x, np.array([1], np.int32)], [np.int32])
    assert got[0].tolist() == [-3, 3, 0]


def test_reduce_axis_out_of_range_fails():
    expect_both_fail("SUM", [np.zeros((2, 3), np.float32), Const(np.array([2], np.int32))], [np.float32])


def test_quantized_math_reduction_refused_here():
    """An int8 node the integer kernel cannot run (no quantization parameters) is refused cleanly."""
    k = Mean()
    node = Node(Operator("MEAN", [0, 1], [2], {"keep_dims": False}), 0)
    specs = [TensorSpec(i, Tensor(n, s, t), s) for i, (n, s, t) in
             enumerate([("x", (2, 3), "INT8"), ("a", (1,), "INT32"), ("y", (3,), "INT8")])]
    with pytest.raises(numlite.UnsupportedOpError):
        k.prepare(node, specs[:2], specs[2:])


@pytest.mark.parametrize("opcode", ["ARG_MAX", "ARG_MIN"])
@SETTINGS
@given(data=st.data())
def test_arg_reduce(opcode, data):
    rng = seeded(data)
    dtype = data.draw(st.sampled_from([np.float32, np.uint8, np.int8, np.int32, np.bool_]))
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5))
    # Few distinct values, so ties are common: LiteRT returns the first index.
    x = rng.integers(0, 3, shape).astype(dtype)
    if dtype in (np.int8, np.uint8):
        x = In(x, quantization=(0.5, 1))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    out_type = data.draw(st.sampled_from([np.int32, np.int64]))
    axis_t = np.array([axis], data.draw(st.sampled_from([np.int32, np.int64])))
    runtime = data.draw(st.booleans()) and len(shape) > 1
    check_op(opcode, [x, runtime_or_const(axis_t, runtime)], [out_type],
             output_type="INT32" if out_type == np.int32 else "INT64", version=2)


def test_arg_max_output_type_must_match_tensor():
    model, feed = single_op_model("ARG_MAX", [np.zeros((2, 3), np.float32), np.array([1], np.int32)], [np.int32],
                                  output_type="INT64")
    with pytest.raises(numlite.ModelError):
        run_numlite(model, feed)
