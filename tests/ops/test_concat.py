"""Differential tests for CONCATENATION and PACK."""
import numpy as np
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

from harness import Const, In, check_op
from test_shape import DATA_TYPES, SETTINGS, expect_both_fail, operand, out_of, rand, seeded


@SETTINGS
@given(data=st.data())
def test_concatenation(data):
    rng = seeded(data)
    dtype = data.draw(st.sampled_from(DATA_TYPES))
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=5, min_side=1, max_side=3))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    n = data.draw(st.integers(1, 4))
    xs = []
    for _ in range(n):
        s = list(shape)
        s[axis] = data.draw(st.integers(1, 3))
        xs.append(operand(rand(rng, s, dtype), const=data.draw(st.integers(0, 3)) == 0))
    check_op("CONCATENATION", xs, [out_of(dtype)], axis=axis)


def test_concatenation_fused_activation_is_refused():
    x = np.array([[-1.0, 2.0]], np.float32)
    expect_both_fail("CONCATENATION", [x, x], [np.float32], axis=0, fused_activation_function="RELU")


def test_concatenation_int8_needs_equal_quantization():
    a = In(np.zeros((1, 2), np.int8), quantization=(0.5, 0))
    b = In(np.zeros((1, 2), np.int8), quantization=(0.25, 0))
    expect_both_fail("CONCATENATION", [a, b], [(np.int8, (0.5, 0))], axis=0)


def test_concatenation_of_constant_scalars():
    got = check_op("CONCATENATION", [Const(np.array(1.5, np.float32)), Const(np.array(-2.0, np.float32))],
                   [np.float32], axis=0)
    assert got[0].tolist() == [1.5, -2.0]
    expect_both_fail("CONCATENATION", [np.array(1.5, np.float32), np.array(2.0, np.float32)], [np.float32], axis=0)


def test_concatenation_shape_mismatch_fails():
    expect_both_fail("CONCATENATION", [np.zeros((2, 3), np.float32), np.zeros((3, 3), np.float32)],
                     [np.float32], axis=1)


@SETTINGS
@given(data=st.data())
def test_pack(data):
    rng = seeded(data)
    dtype = data.draw(st.sampled_from([np.float32, np.int8, np.uint8, np.int16, np.int32, np.int64]))
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=3))
    n = data.draw(st.integers(1, 4))
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    xs = [operand(rand(rng, shape, dtype)) for _ in range(n)]
    check_op("PACK", xs, [out_of(dtype)], values_count=n, axis=axis, version=3)


def test_pack_requires_equal_quantization():
    a = In(np.zeros((2,), np.int8), quantization=(0.5, 0))
    expect_both_fail("PACK", [a, a], [(np.int8, (0.5, 2))], values_count=2)
